// validateCertificate refuses what the TLS policy must never serve: expired or
// not-yet-valid certificates, a key that does not match, SHA-1 signatures (PKCS#1
// and RSASSA-PSS), small RSA keys, misordered chains and unreadable input.
// Certificates other than our own development ones come from `openssl req` when it
// is installed.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isSealpostError } from '../core/errors.ts';
import { validateCertificate } from './certificates.ts';
import { generateDevCertificate } from './dev-certificate.ts';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const needsOpenssl = { skip: !hasOpenssl && 'openssl not installed' };

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isSealpostError(e, 'tls.invalid-certificate'), String(e));
    assert.match(e.message, message);
    return true;
  });
}

describe('validateCertificate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-validate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** `openssl req -x509` with extra arguments; returns the PEMs. */
  function opensslSelfSigned(name: string, args: string[]): { certPem: string; keyPem: string } {
    const keyFile = path.join(dir, `${name}.key`);
    const certFile = path.join(dir, `${name}.crt`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
        '-keyout',
        keyFile,
        '-out',
        certFile,
        ...args,
      ],
      { stdio: 'ignore' },
    );
    return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
  }

  test('refuses an expired certificate and one not yet valid', async () => {
    const old = await generateDevCertificate({
      hostnames: ['localhost'],
      days: 30,
      now: new Date('2020-01-01T00:00:00Z'),
    });
    refused(
      () => validateCertificate(old.certPem, old.keyPem),
      /certificate expired on 2020-01-31T00:00:00\.000Z/,
    );
    const fresh = await generateDevCertificate({ hostnames: ['localhost'] });
    refused(
      () => validateCertificate(fresh.certPem, fresh.keyPem, new Date('2020-01-01T00:00:00Z')),
      /not yet valid/,
    );
    const soon = new Date(Date.now() + 400 * 86_400_000);
    refused(() => validateCertificate(fresh.certPem, fresh.keyPem, soon), /expired/);
  });

  test('refuses a key that does not match the certificate', async () => {
    const a = await generateDevCertificate({ hostnames: ['localhost'] });
    const b = await generateDevCertificate({ hostnames: ['localhost'] });
    validateCertificate(a.certPem, a.keyPem);
    refused(() => validateCertificate(a.certPem, b.keyPem), /private key does not match the certificate/);
  });

  test('refuses unreadable input', async () => {
    const a = await generateDevCertificate({ hostnames: ['localhost'] });
    refused(() => validateCertificate('hello', a.keyPem), /no PEM certificate found/);
    refused(() => validateCertificate(a.certPem, 'not a key'), /private key cannot be read/);
    const truncated = a.certPem
      .split('\n')
      .filter((_, i) => i !== 2) // drop one base64 line: the DER lengths no longer add up
      .join('\n');
    refused(() => validateCertificate(truncated, a.keyPem), /certificate 1 in the chain cannot be parsed/);
  });

  test('refuses a SHA-1 signed certificate (sha1WithRSAEncryption)', needsOpenssl, () => {
    const sha1 = opensslSelfSigned('sha1', ['-newkey', 'rsa:2048', '-sha1']);
    refused(
      () => validateCertificate(sha1.certPem, sha1.keyPem),
      /signed with sha1WithRSAEncryption.*SHA-256 or better/,
    );
    const sha256 = opensslSelfSigned('sha256', ['-newkey', 'rsa:2048', '-sha256']);
    assert.equal(validateCertificate(sha256.certPem, sha256.keyPem).subject, 'CN=sha256');
  });

  test('judges RSASSA-PSS by the hash in its parameters', needsOpenssl, () => {
    const pss = ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss'];
    const sha1 = opensslSelfSigned('pss-sha1', [...pss, '-sha1']);
    refused(() => validateCertificate(sha1.certPem, sha1.keyPem), /RSASSA-PSS over SHA-1/);
    const sha256 = opensslSelfSigned('pss-sha256', [...pss, '-sha256']);
    validateCertificate(sha256.certPem, sha256.keyPem);
  });

  test('refuses an RSA key below 2048 bits', needsOpenssl, () => {
    const small = opensslSelfSigned('rsa1024', ['-newkey', 'rsa:1024', '-sha256']);
    refused(() => validateCertificate(small.certPem, small.keyPem), /1024-bit RSA key; at least 2048/);
  });

  test('accepts a chain leaf-first and refuses it out of order', needsOpenssl, () => {
    const ca = opensslSelfSigned('ca', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384']);
    const leafKey = path.join(dir, 'leaf.key');
    const csr = path.join(dir, 'leaf.csr');
    const leafCert = path.join(dir, 'leaf.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-nodes',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-subj',
        '/CN=leaf',
        '-keyout',
        leafKey,
        '-out',
        csr,
      ],
      { stdio: 'ignore' },
    );
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        path.join(dir, 'ca.crt'),
        '-CAkey',
        path.join(dir, 'ca.key'),
        '-CAcreateserial',
        '-days',
        '2',
        '-sha256',
        '-out',
        leafCert,
      ],
      { stdio: 'ignore' },
    );
    const leaf = readFileSync(leafCert, 'utf8');
    const key = readFileSync(leafKey, 'utf8');
    const info = validateCertificate(leaf + ca.certPem, key);
    assert.equal(info.chainLength, 2);
    assert.equal(info.subject, 'CN=leaf');
    refused(() => validateCertificate(ca.certPem + leaf, key), /does not match/);
    const other = opensslSelfSigned('other-ca', ['-newkey', 'rsa:2048', '-sha256']);
    refused(() => validateCertificate(leaf + other.certPem, key), /chain out of order/);
  });
});
