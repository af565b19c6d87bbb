// TLS requirements per MX host (MTA-STS × DANE), and the certificate checks over real TLS
// connections to local servers with certificates from a test CA.

import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { createTestCa, type TestCa } from '../../test/support/https-server.ts';
import type { DaneState } from './dane-lookup.ts';
import type { MtaStsPolicy } from './mta-sts-policy.ts';
import {
  allHostsSkipped,
  type CertificateCheck,
  certificateVerifier,
  decideTlsRequirements,
  type MxTlsPlan,
  onTlsFailure,
} from './tls-requirements.ts';

const policy = (mode: MtaStsPolicy['mode']): MtaStsPolicy => ({
  mode,
  mx: ['mx1.example.com', '*.mail.example.com'],
  maxAge: 86400,
  lines: [],
});
const usable: DaneState = {
  kind: 'usable',
  records: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32) }],
  names: ['mx1.example.com'],
  reason: '1 usable',
};
const summary = (p: MxTlsPlan) =>
  p.action === 'skip'
    ? ['skip', p.temporary]
    : [p.tls, p.check.kind, p.enforceCheck, p.cleartextFallback, p.policy, p.failure ?? null];

describe('decideTlsRequirements', () => {
  const hosts = ['MX1.example.com.', 'a.mail.example.com', 'rogue.example.net'];

  it('without a policy: opportunistic TLS, no certificate check, cleartext fallback', () => {
    const plans = decideTlsRequirements({ hosts, sts: undefined });
    assert.deepEqual(plans[0]?.host, 'mx1.example.com');
    for (const p of plans)
      assert.deepEqual(summary(p), ['opportunistic', 'none', false, true, 'no-policy-found', null]);
    assert.deepEqual(summary(decideTlsRequirements({ hosts, sts: policy('none') })[2] as MxTlsPlan), [
      'opportunistic',
      'none',
      false,
      true,
      'no-policy-found',
      null,
    ]);
  });

  it('MTA-STS enforce: PKIX required for matching hosts, others never tried', () => {
    const plans = decideTlsRequirements({ hosts, sts: policy('enforce') });
    assert.deepEqual(plans.map(summary), [
      ['required', 'pkix', true, false, 'sts', null],
      ['required', 'pkix', true, false, 'sts', null],
      ['skip', true],
    ]);
    const check = plans[1]?.action === 'try' ? plans[1].check : undefined;
    assert.deepEqual(check, { kind: 'pkix', names: ['a.mail.example.com'] });
    const blocked = allHostsSkipped(
      decideTlsRequirements({ hosts: ['rogue.example.net'], sts: policy('enforce') }),
    );
    assert.equal(blocked?.temporary, true);
    assert.match(blocked?.reason ?? '', /matches no mx pattern/);
    assert.equal(allHostsSkipped(plans), undefined);
  });

  it('MTA-STS testing: opportunistic, checked and reported, cleartext allowed', () => {
    const plans = decideTlsRequirements({ hosts, sts: policy('testing') });
    assert.deepEqual(plans.map(summary), [
      ['opportunistic', 'pkix', false, true, 'sts', null],
      ['opportunistic', 'pkix', false, true, 'sts', null],
      ['opportunistic', 'pkix', false, true, 'sts', 'validation-failure'],
    ]);
  });

  it('DANE takes precedence over MTA-STS, and a failed TLSA lookup skips the host', () => {
    const dane = new Map<string, DaneState>([
      ['mx1.example.com', usable],
      ['a.mail.example.com', { kind: 'failed', reason: 'SERVFAIL' }],
      ['rogue.example.net', usable],
    ]);
    const plans = decideTlsRequirements({ hosts, sts: policy('enforce'), dane });
    assert.deepEqual(plans.map(summary), [
      ['required', 'dane', true, false, 'tlsa', null],
      ['skip', true],
      ['required', 'dane', true, false, 'tlsa', null], // DANE wins over the STS mx list (RFC 8461 §2)
    ]);
    const none = decideTlsRequirements({ hosts, sts: undefined, dane });
    assert.equal(none[0]?.action === 'try' && none[0].check.kind, 'dane');
  });

  it('unusable TLSA records keep TLS mandatory without authentication', () => {
    const dane = new Map<string, DaneState>([
      ['mx1.example.com', { kind: 'unusable', reason: 'PKIX-EE only' }],
    ]);
    assert.deepEqual(summary(decideTlsRequirements({ hosts, sts: undefined, dane })[0] as MxTlsPlan), [
      'required',
      'none',
      false,
      false,
      'tlsa',
      null,
    ]);
    assert.deepEqual(
      summary(decideTlsRequirements({ hosts, sts: policy('enforce'), dane })[0] as MxTlsPlan),
      ['required', 'pkix', true, false, 'tlsa', null],
    );
  });
});

describe('onTlsFailure', () => {
  const [enforce] = decideTlsRequirements({ hosts: ['mx1.example.com'], sts: policy('enforce') });
  const [testing] = decideTlsRequirements({ hosts: ['mx1.example.com'], sts: policy('testing') });
  const [plain] = decideTlsRequirements({ hosts: ['mx1.example.com'], sts: undefined });
  const [dane] = decideTlsRequirements({
    hosts: ['mx1.example.com'],
    sts: undefined,
    dane: new Map([['mx1.example.com', usable]]),
  });

  it('defers under enforce and DANE, falls back to cleartext otherwise, and only reports testing check failures', () => {
    const tried = (p: MxTlsPlan | undefined) => {
      assert.ok(p?.action === 'try');
      return p;
    };
    assert.deepEqual(onTlsFailure(tried(enforce), 'starttls-not-supported'), {
      next: 'defer',
      result: 'starttls-not-supported',
    });
    assert.deepEqual(onTlsFailure(tried(enforce), 'certificate', 'certificate-host-mismatch'), {
      next: 'defer',
      result: 'certificate-host-mismatch',
    });
    assert.deepEqual(onTlsFailure(tried(dane), 'handshake'), { next: 'defer', result: 'validation-failure' });
    assert.deepEqual(onTlsFailure(tried(testing), 'certificate', 'certificate-expired'), {
      next: 'continue',
      result: 'certificate-expired',
    });
    assert.deepEqual(onTlsFailure(tried(testing), 'handshake'), {
      next: 'cleartext',
      result: 'validation-failure',
    });
    assert.deepEqual(onTlsFailure(tried(plain), 'starttls-not-supported'), {
      next: 'cleartext',
      result: 'starttls-not-supported',
    });
  });
});

describe('certificateVerifier over real TLS', () => {
  let ca: TestCa;
  let good: tls.Server;
  let expired: tls.Server;
  let leafDer: Buffer;

  const listen = async (certPem: string, keyPem: string) => {
    const server = tls.createServer({ cert: certPem, key: keyPem }, (s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };
  const check = (server: tls.Server, servername: string, c: CertificateCheck, trust = true) =>
    new Promise<ReturnType<ReturnType<typeof certificateVerifier>>>((resolve, reject) => {
      const port = (server.address() as AddressInfo).port;
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername,
        rejectUnauthorized: false,
        ...(trust ? { ca: ca.certPem } : {}),
      });
      socket.once('secureConnect', () => {
        resolve(certificateVerifier(c)(socket));
        socket.destroy();
      });
      socket.once('error', reject);
    });

  before(async () => {
    ca = await createTestCa();
    const leaf = await ca.issue(['mx1.example.com', '*.mail.example.com']);
    leafDer = leaf.der;
    good = await listen(leaf.certPem, leaf.keyPem);
    const old = await ca.issue(['mx1.example.com'], {
      notBefore: new Date(Date.now() - 9e9),
      notAfter: new Date(Date.now() - 8e9),
    });
    expired = await listen(old.certPem, old.keyPem);
  });

  after(async () => {
    await Promise.all([good, expired].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  it('PKIX: accepts a trusted certificate for the MX name, wildcards for one label', async () => {
    assert.equal(
      (await check(good, 'mx1.example.com', { kind: 'pkix', names: ['mx1.example.com'] })).ok,
      true,
    );
    assert.equal(
      (await check(good, 'a.mail.example.com', { kind: 'pkix', names: ['a.mail.example.com'] })).ok,
      true,
    );
  });

  it('PKIX: names the RFC 8460 result of each failure', async () => {
    const wrongSni = await check(good, 'mx9.example.com', { kind: 'pkix', names: ['mx9.example.com'] });
    assert.deepEqual([wrongSni.ok, wrongSni.result], [false, 'certificate-host-mismatch']);
    const wrongName = await check(good, 'mx1.example.com', { kind: 'pkix', names: ['a.b.mail.example.com'] });
    assert.deepEqual([wrongName.ok, wrongName.result], [false, 'certificate-host-mismatch']);
    const untrusted = await check(
      good,
      'mx1.example.com',
      { kind: 'pkix', names: ['mx1.example.com'] },
      false,
    );
    assert.deepEqual([untrusted.ok, untrusted.result], [false, 'certificate-not-trusted']);
    const old = await check(expired, 'mx1.example.com', { kind: 'pkix', names: ['mx1.example.com'] });
    assert.deepEqual([old.ok, old.result], [false, 'certificate-expired']);
  });

  it('none accepts anything; DANE matches the pinned key only', async () => {
    assert.equal((await check(good, 'x', { kind: 'none' }, false)).ok, true);
    const spki = new X509Certificate(leafDer).publicKey.export({ type: 'spki', format: 'der' });
    const pin = createHash('sha256').update(spki).digest();
    const dane = (data: Buffer): CertificateCheck => ({
      kind: 'dane',
      records: [{ usage: 3, selector: 1, matchingType: 1, data }],
      names: ['mx1.example.com'],
    });
    assert.equal((await check(expired, 'mx1.example.com', dane(pin), false)).ok, false);
    assert.equal((await check(good, 'mx1.example.com', dane(pin), false)).ok, true);
    const wrong = await check(good, 'mx1.example.com', dane(Buffer.alloc(32)), false);
    assert.deepEqual([wrong.ok, wrong.result], [false, 'validation-failure']);
  });
});
