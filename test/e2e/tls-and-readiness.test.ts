// The MX's TLS as a client meets it (DESIGN invariant 2), certificate reload without
// a restart, listeners that never open when a readiness check fails (invariant 10),
// and master-key rotation while the server runs.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { startServer } from '../../src/app/start.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { generateDevCertificate } from '../../src/tls/index.ts';
import { countAll } from '../support/mailbox.ts';
import {
  freePort,
  type InProcess,
  type Installation,
  install,
  runCli,
  startInProcess,
} from '../support/server.ts';
import { message, RawSmtp } from '../support/smtp-raw.ts';

/** Open a plain socket, do EHLO/STARTTLS by hand, then TLS with `options`. */
function handshake(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const plain = net.connect(port, '127.0.0.1');
    let buf = '';
    let step = 0;
    plain.on('error', reject);
    plain.on('data', (d) => {
      buf += d.toString('latin1');
      if (!buf.endsWith('\r\n') || /^\d{3}-/m.test(buf.split('\r\n').filter(Boolean).pop() ?? '')) return;
      const line = buf;
      buf = '';
      if (step === 0) plain.write('EHLO client.example.org\r\n');
      else if (step === 1) plain.write('STARTTLS\r\n');
      else if (step === 2) {
        if (!line.startsWith('220')) return reject(new Error(line));
        plain.removeAllListeners('data');
        const s = tls.connect({
          socket: plain,
          servername: 'localhost',
          rejectUnauthorized: false,
          ...options,
        });
        s.once('secureConnect', () => resolve(s));
        s.once('error', reject);
      }
      step++;
    });
  });
}

describe('MX TLS and readiness', () => {
  let inst: Installation;
  let srv: InProcess;
  before(async () => {
    inst = await install();
    srv = await startInProcess(inst);
  });
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('STARTTLS negotiates TLS 1.3 with the hybrid post-quantum group', async () => {
    const s = await handshake(srv.mxPort);
    assert.equal(s.getProtocol(), 'TLSv1.3');
    assert.equal((s.getEphemeralKeyInfo() as { name?: string } | null)?.name, 'X25519MLKEM768');
    s.destroy();
  });

  it('refuses TLS 1.1 and TLS 1.2 suites without forward secrecy or AEAD', async () => {
    await assert.rejects(handshake(srv.mxPort, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }));
    await assert.rejects(
      handshake(srv.mxPort, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-GCM-SHA384' }),
    );
    await assert.rejects(handshake(srv.mxPort, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }));
    const ok = await handshake(srv.mxPort, {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    assert.equal(ok.getCipher().name, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    ok.destroy();
  });

  it('serves a replaced certificate to new connections without a restart', async () => {
    const before = await handshake(srv.mxPort);
    const oldFp = new X509Certificate(before.getPeerX509Certificate()!.raw).fingerprint256;
    before.destroy();
    const cfg = inst.config();
    const next = await generateDevCertificate({ hostnames: ['mx.sealpost.test', 'localhost'] });
    writeFileSync(`${cfg.tls.key_file}.new`, next.keyPem, { mode: 0o600 });
    writeFileSync(`${cfg.tls.cert_file}.new`, next.certPem);
    renameSync(`${cfg.tls.key_file}.new`, cfg.tls.key_file);
    renameSync(`${cfg.tls.cert_file}.new`, cfg.tls.cert_file);
    const want = new X509Certificate(next.certPem).fingerprint256;
    let seen = oldFp;
    for (let i = 0; i < 50 && seen !== want; i++) {
      await sleep(100);
      const s = await handshake(srv.mxPort);
      seen = new X509Certificate(s.getPeerX509Certificate()!.raw).fingerprint256;
      s.destroy();
    }
    assert.equal(seen, want, 'new connections get the new certificate');
  });

  it('keeps delivering after `sealpost keys rotate` and to users created after it', async () => {
    assert.equal((await runCli(inst, ['keys', 'rotate'])).code, 0);
    assert.equal((await runCli(inst, ['user', 'add', 'newbie@sealpost.test', '--generate'])).code, 0);
    for (const rcpt of ['alice@sealpost.test', 'newbie@sealpost.test']) {
      const { client } = await RawSmtp.connect(srv.mxPort);
      await client.cmd('EHLO client.example.org');
      await client.cmd('MAIL FROM:<sender@example.org>');
      assert.equal((await client.cmd(`RCPT TO:<${rcpt}>`)).code, 250);
      await client.cmd('DATA');
      const r = await client.cmd(`${message({ to: rcpt })}.`);
      assert.equal(r.code, 250, `${rcpt}: ${r.text}`);
      client.close();
    }
    assert.equal(await countAll(inst, 'newbie@sealpost.test'), 1);
  });
});

describe('readiness gates', () => {
  async function refusedToStart(inst: Installation, why: RegExp) {
    const port = await freePort();
    await assert.rejects(
      startServer(
        { ...inst.config(), mx: { ...inst.config().mx, port } },
        { logger: silentLogger(), env: inst.env },
      ),
      why,
    );
    await assert.rejects(
      new Promise((resolve, reject) =>
        net.connect(port, '127.0.0.1').once('connect', resolve).once('error', reject),
      ),
      /ECONNREFUSED/,
      'the port was never opened',
    );
  }

  it('does not open the MX when the master key does not fit the data', async () => {
    const inst = await install();
    try {
      const other = Buffer.alloc(32, 7).toString('base64');
      writeFileSync(inst.config().keys.master_key_file, `sealpost-master-key v1 ${other}\n`, { mode: 0o600 });
      await refusedToStart(inst, /master key opens account keys|integrity/i);
    } finally {
      await inst.cleanup();
    }
  });

  it('does not open the MX with an expired certificate', async () => {
    const inst = await install();
    try {
      const old = await generateDevCertificate({
        hostnames: ['localhost'],
        days: 1,
        now: new Date(Date.now() - 5 * 86400_000),
      });
      const cfg = inst.config();
      writeFileSync(cfg.tls.cert_file, old.certPem);
      writeFileSync(cfg.tls.key_file, old.keyPem, { mode: 0o600 });
      await refusedToStart(inst, /expired/i);
    } finally {
      await inst.cleanup();
    }
  });
});
