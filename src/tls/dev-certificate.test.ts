// Development certificates: what they are (ECDSA P-256, ecdsa-with-SHA256, SANs,
// CA:false, serverAuth), that the policy's own validator accepts them, and that the
// key file is written 0600.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isSealpostError } from '../core/errors.ts';
import { validateCertificate } from './certificates.ts';
import { generateDevCertificate, writeDevCertificate } from './dev-certificate.ts';

function opensslText(certPem: string): string | undefined {
  try {
    return execFileSync('openssl', ['x509', '-noout', '-text'], { input: certPem }).toString();
  } catch {
    return undefined;
  }
}

describe('development certificate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-dev-cert-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('is ECDSA P-256, signed ecdsa-with-SHA256, with the SANs, CA:false and serverAuth', async () => {
    const { certPem, keyPem } = await generateDevCertificate({
      hostnames: ['localhost', 'Mail.Example.test'],
      ips: ['127.0.0.1', '::1'],
    });
    const x = new X509Certificate(certPem);
    assert.equal(x.publicKey.asymmetricKeyType, 'ec');
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(x.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.equal(x.ca, false);
    assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']); // node reports extKeyUsage here
    assert.equal(x.checkHost('mail.example.test'), 'mail.example.test');
    assert.equal(x.checkIP('::1'), '::1');
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/); // PKCS#8
    const days = (x.validToDate.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 396.9 && days <= 397, `validity ${days} days`);

    const info = validateCertificate(certPem, keyPem);
    assert.deepEqual(info.altNames, ['localhost', 'mail.example.test', '127.0.0.1', '0:0:0:0:0:0:0:1']);
    assert.equal(info.fingerprint256, x.fingerprint256);

    const text = opensslText(certPem);
    if (text !== undefined) {
      assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(text, /NIST CURVE: P-256/);
      assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /Key Usage: critical\s+Digital Signature\s/);
      assert.match(text, /Extended Key Usage:\s+TLS Web Server Authentication/);
      assert.match(
        text,
        /DNS:localhost, DNS:mail\.example\.test, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/,
      );
    }
  });

  test('honours days and an injected clock', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const { certPem } = await generateDevCertificate({ hostnames: ['localhost'], days: 30, now });
    const x = new X509Certificate(certPem);
    assert.equal(x.validToDate.toISOString(), '2030-01-31T00:00:00.000Z');
    assert.ok(x.validFromDate < now);
  });

  test('refuses bad input with a clear error', async () => {
    const cases = [
      { hostnames: [] },
      { hostnames: ['bad host'] },
      { hostnames: ['localhost'], ips: ['300.1.1.1'] },
      { hostnames: ['localhost'], days: 0 },
      { hostnames: ['localhost'], days: 400 },
    ];
    for (const options of cases) {
      await assert.rejects(generateDevCertificate(options), (e) => isSealpostError(e, 'input.invalid'));
    }
  });

  test('writeDevCertificate writes the key 0600 and replaces existing files', async () => {
    const target = path.join(dir, 'tls');
    const first = await writeDevCertificate(target, { hostnames: ['localhost'] });
    assert.equal(statSync(first.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(first.certFile).mode & 0o777, 0o644);
    const before = readFileSync(first.certFile, 'utf8');
    validateCertificate(before, readFileSync(first.keyFile, 'utf8'));

    writeFileSync(first.keyFile, 'stale', { mode: 0o644 }); // a looser mode must not survive a rewrite
    const second = await writeDevCertificate(target, { hostnames: ['localhost'] });
    assert.equal(statSync(second.keyFile).mode & 0o777, 0o600);
    const cert = readFileSync(second.certFile, 'utf8');
    assert.notEqual(cert, before);
    validateCertificate(cert, readFileSync(second.keyFile, 'utf8'));
  });
});
