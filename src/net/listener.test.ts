// Readiness gating (DESIGN invariant 10) with real sockets: a failed, thrown or
// hung readiness check means the port is never bound; passing checks give a
// connectable port; close() stops accepting and ends lingering connections.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { isSealpostError, SealpostError } from '../core/errors.ts';
import { openListener, type ReadinessCheck } from './listener.ts';

/** A port that was free a moment ago (bound by a throwaway server, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

const ok = (name: string): ReadinessCheck => ({ name, check: async () => {} });

describe('openListener', () => {
  test('a failing check: error names listener and check, the port is never bound', async () => {
    const port = await freePort();
    const server = net.createServer();
    let listened = false;
    server.on('listening', () => (listened = true));
    const checks = [
      ok('store'),
      {
        name: 'certificate',
        check: () => Promise.reject(new SealpostError('tls.invalid-certificate', 'expired')),
      },
    ];
    await assert.rejects(openListener({ name: 'imaps', server, host: '127.0.0.1', port, checks }), (e) => {
      assert.ok(isSealpostError(e, 'tls.invalid-certificate'), String(e));
      assert.equal(e.message, "listener 'imaps' not opened: readiness check 'certificate': expired");
      assert.deepEqual(e.detail['failedChecks'], ['certificate']);
      return true;
    });
    assert.equal(listened, false);
    assert.equal(server.listening, false);
    await assert.rejects(connect(port), { code: 'ECONNREFUSED' });
  });

  test('every failure is reported; a thrown and a hung check count as failures', async () => {
    const server = net.createServer();
    const checks: ReadinessCheck[] = [
      {
        name: 'keys',
        check: () => {
          throw new Error('master key missing');
        },
      },
      { name: 'store', check: () => new Promise(() => {}) },
      ok('certificate'),
    ];
    const opening = openListener({
      name: 'smtp',
      server,
      host: '127.0.0.1',
      port: 0,
      checks,
      checkTimeoutMs: 50,
    });
    await assert.rejects(opening, (e) => {
      assert.ok(isSealpostError(e, 'internal'));
      assert.match(
        e.message,
        /^listener 'smtp' not opened: readiness check 'keys': master key missing; 'store': did not finish within 50 ms$/,
      );
      return true;
    });
    assert.equal(server.listening, false);
  });

  test('passing checks run before the port opens; port 0 gives the bound port', async () => {
    const order: string[] = [];
    const server = net.createServer((s) => s.end('hello\r\n'));
    server.on('listening', () => order.push('listening'));
    const checks = ['store', 'keys'].map((name) => ({ name, check: async () => void order.push(name) }));
    const l = await openListener({ name: 'pop3s', server, host: '127.0.0.1', port: 0, checks });
    try {
      assert.deepEqual(order, ['store', 'keys', 'listening']);
      assert.ok(l.port > 0);
      assert.equal(l.host, '127.0.0.1');
      const socket = await connect(l.port);
      const [greeting] = await once(socket, 'data');
      assert.equal(String(greeting), 'hello\r\n');
    } finally {
      await l.close();
    }
  });

  test('a port in use gives a clear error', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as net.AddressInfo;
    try {
      const server = net.createServer();
      await assert.rejects(openListener({ name: 'mx', server, host: '127.0.0.1', port, checks: [] }), (e) => {
        assert.ok(isSealpostError(e, 'internal'));
        assert.equal(e.message, `listener 'mx' cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
        return true;
      });
    } finally {
      taken.close();
    }
  });

  test('close() stops accepting and ends idle connections after the grace period', async () => {
    const server = net.createServer(() => {}); // never answers: an idle client
    const l = await openListener({
      name: 'imap',
      server,
      host: '127.0.0.1',
      port: 0,
      checks: [],
      closeGraceMs: 100,
    });
    const idle = await connect(l.port);
    await new Promise((r) => setImmediate(r));
    assert.equal(l.connections(), 1);
    const started = Date.now();
    const closed = l.close();
    assert.equal(l.close(), closed); // idempotent
    await assert.rejects(connect(l.port), { code: 'ECONNREFUSED' });
    await closed;
    assert.ok(Date.now() - started >= 90, 'waited for the grace period');
    if (!idle.destroyed) await once(idle, 'close');
    assert.equal(l.connections(), 0);
  });

  test("connections are counted even when protocol code strips the socket's listeners", async () => {
    // smtp-server removes listeners from the raw socket on STARTTLS; close() must not hang on it.
    const server = net.createServer((s) => {
      s.removeAllListeners('close');
      s.on('data', () => s.destroy());
    });
    const l = await openListener({
      name: 'smtp',
      server,
      host: '127.0.0.1',
      port: 0,
      checks: [],
      closeGraceMs: 60_000,
    });
    const client = await connect(l.port);
    await new Promise((r) => setImmediate(r));
    assert.equal(l.connections(), 1);
    client.write('QUIT\r\n');
    await once(client, 'close');
    await new Promise((r) => setImmediate(r));
    assert.equal(l.connections(), 0);
    await l.close(); // resolves at once: nothing is left to wait for
  });
});
