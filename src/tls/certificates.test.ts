// CertificateSource at the wire: a TLS server built from the source serves a
// renewed certificate after the files are replaced by atomic rename (as certbot and
// ACME clients do) without a restart — to clients with SNI (SNICallback) and
// without (attachToTlsServer) — and keeps serving the old one when the new files
// are invalid.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { isSealpostError } from '../core/errors.ts';
import { attachToTlsServer, CertificateSource, tlsServerOptions } from './certificates.ts';
import { writeDevCertificate } from './dev-certificate.ts';

/** The SHA-256 fingerprint a fresh client sees; servername '' sends no SNI. */
function peerFingerprint(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

/** Wait for a 'reload-error' whose message matches (earlier, transient errors are skipped). */
async function reloadError(source: CertificateSource, message: RegExp): Promise<Error> {
  for (;;) {
    const [error] = (await once(source, 'reload-error', { signal: AbortSignal.timeout(10_000) })) as [Error];
    if (message.test(error.message)) return error;
  }
}

describe('CertificateSource', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-certsource-'));
  let source: CertificateSource;
  let server: tls.Server;
  let port: number;
  let detach: () => void;

  before(async () => {
    const { certFile, keyFile } = await writeDevCertificate(dir, { hostnames: ['localhost'] });
    source = await CertificateSource.fromFiles(certFile, keyFile, undefined, {
      settleMs: 150,
      pollIntervalMs: 100,
    });
    server = tls.createServer(tlsServerOptions(source), (s) => s.end());
    detach = attachToTlsServer(server, source);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    detach();
    source.close();
    server.close();
    await once(server, 'close');
    rmSync(dir, { recursive: true, force: true });
  });

  test('fromFiles refuses an invalid certificate at load', async () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'sealpost-certsource-bad-'));
    try {
      const old = await writeDevCertificate(bad, {
        hostnames: ['x.test'],
        days: 1,
        now: new Date('2021-01-01'),
      });
      await assert.rejects(CertificateSource.fromFiles(old.certFile, old.keyFile), (e) =>
        isSealpostError(e, 'tls.invalid-certificate'),
      );
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  test('serves the loaded certificate', async () => {
    const { fingerprint256 } = source.current().info;
    assert.equal(await peerFingerprint(port, 'localhost'), fingerprint256);
    assert.equal(await peerFingerprint(port, ''), fingerprint256);
    assert.equal(await source.reload(), false); // nothing changed on disk
  });

  test('a renewed certificate replaced by atomic rename is served without restart', async () => {
    const old = source.current().info.fingerprint256;
    const reloaded = once(source, 'reload', { signal: AbortSignal.timeout(10_000) });
    await writeDevCertificate(dir, { hostnames: ['localhost', 'renewed.test'] });
    const [info] = (await reloaded) as [{ fingerprint256: string; altNames: string[] }];
    assert.notEqual(info.fingerprint256, old);
    assert.deepEqual(info.altNames, ['localhost', 'renewed.test']);
    assert.equal(source.current().info.fingerprint256, info.fingerprint256);
    assert.equal(await peerFingerprint(port, 'localhost'), info.fingerprint256); // SNICallback
    assert.equal(await peerFingerprint(port, ''), info.fingerprint256); // default context
  });

  test('an invalid replacement is refused, reported, and the current certificate kept', async () => {
    const kept = source.current();
    const refused = reloadError(source, /expired/);
    await writeDevCertificate(dir, { hostnames: ['localhost'], days: 1, now: new Date('2021-01-01') });
    const error = await refused;
    assert.ok(isSealpostError(error, 'tls.invalid-certificate'));
    await sleep(400); // let any further debounced reload run; none may swap the certificate
    assert.equal(source.current(), kept);
    assert.equal(await peerFingerprint(port, 'localhost'), kept.info.fingerprint256);
    assert.equal(await peerFingerprint(port, ''), kept.info.fingerprint256);
  });

  test('a valid certificate after an invalid one goes into service', async () => {
    const reloaded = once(source, 'reload', { signal: AbortSignal.timeout(10_000) });
    await writeDevCertificate(dir, { hostnames: ['localhost', 'third.test'] });
    const [info] = (await reloaded) as [{ fingerprint256: string }];
    assert.equal(await peerFingerprint(port, 'localhost'), info.fingerprint256);
  });

  test('follows a certbot-style symlink swap (live/ links into archive/)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sealpost-certsource-live-'));
    const live = path.join(root, 'live');
    mkdirSync(live);
    /** Point live/cert.pem and live/key.pem at archive/<n>/ by atomic symlink replacement. */
    const link = async (n: number): Promise<void> => {
      const target = await writeDevCertificate(path.join(root, 'archive', String(n)), {
        hostnames: ['localhost'],
      });
      for (const [name, file] of [
        ['key.pem', target.keyFile],
        ['cert.pem', target.certFile],
      ] as const) {
        const tmp = path.join(live, `.${name}.tmp`);
        symlinkSync(path.relative(live, file), tmp);
        renameSync(tmp, path.join(live, name));
      }
    };
    try {
      await link(1);
      const s = await CertificateSource.fromFiles(
        path.join(live, 'cert.pem'),
        path.join(live, 'key.pem'),
        undefined,
        {
          settleMs: 150,
          pollIntervalMs: 100,
        },
      );
      try {
        const first = s.current().info.fingerprint256;
        const reloaded = once(s, 'reload', { signal: AbortSignal.timeout(10_000) });
        await link(2);
        const [info] = (await reloaded) as [{ fingerprint256: string }];
        assert.notEqual(info.fingerprint256, first);
      } finally {
        s.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('close() stops watching', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'sealpost-certsource-close-'));
    try {
      const files = await writeDevCertificate(d, { hostnames: ['localhost'] });
      const s = await CertificateSource.fromFiles(files.certFile, files.keyFile, undefined, {
        settleMs: 20,
        pollIntervalMs: 50,
      });
      let events = 0;
      s.on('reload', () => events++);
      s.on('reload-error', () => events++);
      s.close();
      await writeDevCertificate(d, { hostnames: ['localhost'] });
      await sleep(400);
      assert.equal(events, 0);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
