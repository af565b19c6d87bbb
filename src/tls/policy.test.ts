// The TLS policy at the wire (DESIGN invariant 2): real servers on 127.0.0.1, real
// handshakes from node's TLS client and, where installed, `openssl s_client`. Every
// refusal is paired with a permissive control server that accepts the very same
// client, so a refusal proves the policy refused — not that the client could not try.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { constants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { generateDevCertificate } from './dev-certificate.ts';
import { supportedGroups, TLS_POLICY, tlsClientPolicyOptions, tlsPolicyOptions } from './policy.ts';

type Outcome =
  | { ok: true; protocol: string | null; cipher: string; group: string | undefined }
  | { ok: false; error: string };

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function echoServer(options: tls.TlsOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server = tls.createServer(options, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function handshake(port: number, options: tls.ConnectionOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      ...options,
    });
    socket.once('secureConnect', () => {
      const info = socket.getEphemeralKeyInfo();
      const group = info !== null && 'name' in info ? info.name : undefined;
      resolve({ ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name, group });
      socket.destroy();
    });
    socket.once('error', (err) => resolve({ ok: false, error: err.message }));
  });
}

/** Try a client-initiated renegotiation on an established TLS 1.2 connection. */
function renegotiate(port: number): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    socket.on('error', (err) => resolve({ ok: false, error: err.message }));
    socket.once('secureConnect', () => {
      socket.renegotiate({ rejectUnauthorized: false }, (err) => {
        socket.destroy();
        resolve(err ? { ok: false, error: err.message } : { ok: true });
      });
      socket.write('ping'); // drive the read side so the server's answer is processed
    });
  });
}

function sClient(args: string[], input: string, holdMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.on('error', () => {});
    child.stdin.write(input);
    setTimeout(() => child.stdin.end(), holdMs);
    const kill = setTimeout(() => child.kill(), 10_000);
    child.on('close', () => {
      clearTimeout(kill);
      resolve(out);
    });
  });
}

describe('TLS policy', () => {
  let policy: { port: number; close(): Promise<void> };
  let control: { port: number; close(): Promise<void> };
  let renegotiable: { port: number; close(): Promise<void> };

  before(async () => {
    const { certPem, keyPem } = await generateDevCertificate({
      hostnames: ['localhost'],
      ips: ['127.0.0.1'],
    });
    policy = await echoServer({ ...tlsPolicyOptions(), cert: certPem, key: keyPem });
    control = await echoServer({
      cert: certPem,
      key: keyPem,
      minVersion: 'TLSv1',
      ciphers: 'ALL:@SECLEVEL=0',
    });
    renegotiable = await echoServer({ cert: certPem, key: keyPem, secureOptions: 0 });
  });
  after(async () => {
    await Promise.all([policy.close(), control.close(), renegotiable.close()]);
  });

  test('options carry versions, AEAD-only suites, PQ group first and the secure options', () => {
    const o = tlsPolicyOptions();
    assert.equal(o.minVersion, 'TLSv1.2');
    assert.equal(o.maxVersion, 'TLSv1.3');
    assert.equal(o.honorCipherOrder, true);
    assert.match(o.ecdhCurve ?? '', /^X25519MLKEM768:X25519:P-256:P-384$/);
    for (const c of TLS_POLICY.tls12Ciphers)
      assert.match(c, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    const bits =
      constants.SSL_OP_NO_COMPRESSION |
      constants.SSL_OP_NO_RENEGOTIATION |
      constants.SSL_OP_CIPHER_SERVER_PREFERENCE;
    assert.equal((o.secureOptions ?? 0) & bits, bits);
    assert.deepEqual(supportedGroups(), ['X25519MLKEM768', 'X25519', 'P-256', 'P-384']);
    const client = tlsClientPolicyOptions();
    assert.equal(client.ciphers, o.ciphers);
    assert.equal(client.honorCipherOrder, undefined);
  });

  test('refuses TLS 1.1 (a permissive server accepts the same client)', async () => {
    const tls11: tls.ConnectionOptions = {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'ALL:@SECLEVEL=0',
    };
    const c = await handshake(control.port, tls11);
    assert.ok(c.ok && c.protocol === 'TLSv1.1', `control should speak TLS 1.1: ${JSON.stringify(c)}`);
    const p = await handshake(policy.port, tls11);
    assert.equal(p.ok, false);
    assert.match(!p.ok ? p.error : '', /protocol version|unsupported protocol/i);
  });

  for (const suite of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-CCM8']) {
    test(`refuses a TLS 1.2 client offering only ${suite}`, async () => {
      const only: tls.ConnectionOptions = { maxVersion: 'TLSv1.2', ciphers: `${suite}:@SECLEVEL=0` };
      const c = await handshake(control.port, only);
      assert.ok(c.ok && c.cipher === suite, `control should accept ${suite}: ${JSON.stringify(c)}`);
      const p = await handshake(policy.port, only);
      assert.equal(p.ok, false);
      assert.match(!p.ok ? p.error : '', /handshake failure|no shared cipher/i);
    });
  }

  test('accepts TLS 1.3 with an AEAD suite and the hybrid post-quantum group', async () => {
    const r = await handshake(policy.port, { ecdhCurve: 'X25519MLKEM768:X25519' });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.protocol, 'TLSv1.3');
    assert.ok(TLS_POLICY.tls13Ciphersuites.includes(r.cipher as never), r.cipher);
    assert.equal(r.group, 'X25519MLKEM768');
  });

  test('the runtime default client negotiates X25519MLKEM768 too', async () => {
    const r = await handshake(policy.port);
    assert.ok(r.ok && r.group === 'X25519MLKEM768', JSON.stringify(r));
  });

  test('a classical-only client falls back to X25519', async () => {
    const r = await handshake(policy.port, { ecdhCurve: 'X25519:P-256' });
    assert.ok(r.ok && r.protocol === 'TLSv1.3' && r.group === 'X25519', JSON.stringify(r));
  });

  test('accepts TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256', async () => {
    const r = await handshake(policy.port, {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.protocol, 'TLSv1.2');
    assert.equal(r.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
  });

  test('an outbound client under the client policy connects with TLS 1.3', async () => {
    const r = await handshake(policy.port, tlsClientPolicyOptions());
    assert.ok(r.ok && r.protocol === 'TLSv1.3' && r.group === 'X25519MLKEM768', JSON.stringify(r));
  });

  test('refuses client-initiated renegotiation on TLS 1.2 (a server without the option allows it)', async () => {
    assert.deepEqual(await renegotiate(renegotiable.port), { ok: true });
    const r = await renegotiate(policy.port);
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /no renegotiation/i);
  });

  test('openssl s_client: TLS 1.1 and CBC refused, renegotiation refused, TLS 1.3 accepted', {
    skip: !hasOpenssl() && 'openssl not installed',
  }, async () => {
    const target = ['-connect', `127.0.0.1:${policy.port}`, '-servername', 'localhost', '-brief'];
    const v13 = await sClient([...target, '-tls1_3'], 'Q\n');
    assert.match(v13, /Protocol version: TLSv1\.3/);
    const v11 = await sClient([...target, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], 'Q\n');
    assert.match(v11, /alert protocol version/);
    assert.doesNotMatch(v11, /CONNECTION ESTABLISHED/);
    const cbc = await sClient([...target, '-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA'], 'Q\n');
    assert.match(cbc, /handshake failure/);
    const reneg = await sClient([...target, '-tls1_2'], 'R\n', 1000);
    assert.match(reneg, /CONNECTION ESTABLISHED/);
    assert.match(reneg, /RENEGOTIATING/);
    assert.match(reneg, /no renegotiation/);
  });

  test('with an RSA certificate: static-RSA key exchange refused, ECDHE-RSA-AES128-GCM accepted', {
    skip: !hasOpenssl() && 'openssl not installed',
  }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-rsa-'));
    try {
      const [keyFile, certFile] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-sha256',
          '-nodes',
          '-days',
          '2',
          '-subj',
          '/CN=localhost',
          '-keyout',
          keyFile,
          '-out',
          certFile,
        ],
        { stdio: 'ignore' },
      );
      const pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
      const rsaPolicy = await echoServer({ ...tlsPolicyOptions(), ...pair });
      const rsaControl = await echoServer({ ...pair, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' });
      try {
        const staticRsa: tls.ConnectionOptions = { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:@SECLEVEL=0' };
        const c = await handshake(rsaControl.port, staticRsa);
        assert.ok(c.ok && c.cipher === 'AES128-SHA', JSON.stringify(c));
        assert.equal((await handshake(rsaPolicy.port, staticRsa)).ok, false);
        const r = await handshake(rsaPolicy.port, {
          maxVersion: 'TLSv1.2',
          ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
        });
        assert.ok(r.ok && r.cipher === 'ECDHE-RSA-AES128-GCM-SHA256', JSON.stringify(r));
      } finally {
        await Promise.all([rsaPolicy.close(), rsaControl.close()]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
