// verifyMessage end to end: real DKIM signatures, real DNS over the local test server.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { dkimSign } from 'mailauth';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import { createDnsResolver, type DnsResolver } from '../net/dns.ts';
import { verifyMessage } from './verify.ts';

const HOSTNAME = 'mx.sealpost.test';

function message(from: string, body = 'Hello there.\r\n'): Buffer {
  return Buffer.from(
    [
      `From: Sender <${from}>`,
      'To: rcpt@sealpost.test',
      'Subject: Quarterly numbers',
      'Date: Mon, 06 Jan 2025 10:00:00 +0000',
      `Message-ID: <${Math.random().toString(36).slice(2)}@${from.split('@')[1]}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
}

describe('verifyMessage', () => {
  let server: DnsTestServer;
  let resolver: DnsResolver;
  let privateKey: string;

  before(async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicKey = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    server = await startDnsServer({
      'example.org': { TXT: ['v=spf1 ip4:127.0.0.1 -all'], A: ['192.0.2.1'] },
      'sel._domainkey.example.org': { TXT: [`v=DKIM1; k=rsa; p=${publicKey}`] },
      '_dmarc.example.org': { TXT: ['v=DMARC1; p=reject'] },
      'bank.example': { TXT: ['v=spf1 -all'] },
      '_dmarc.bank.example': { TXT: ['v=DMARC1; p=reject; rua=mailto:dmarc@bank.example'] },
      'evil.example': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
      'shop.example': { TXT: ['v=spf1 -all'] },
      '_dmarc.shop.example': { TXT: ['v=DMARC1; p=quarantine'] },
      'parent.example': { TXT: ['v=spf1 -all'] },
      'news.parent.example': { TXT: ['v=spf1 -all'], A: ['192.0.2.7'] },
      '_dmarc.parent.example': { TXT: ['v=DMARC1; p=reject; sp=quarantine'] },
      'trial.example': { TXT: ['v=spf1 -all'] },
      '_dmarc.trial.example': { TXT: ['v=DMARC1; p=reject; t=y'] },
      'sample.example': { TXT: ['v=spf1 -all'] },
      '_dmarc.sample.example': { TXT: ['v=DMARC1; p=reject; pct=0'] },
      'nodmarc.example': { TXT: ['v=spf1 -all'] },
    });
    resolver = createDnsResolver({ servers: [`127.0.0.1:${server.port}`], timeoutMs: 2000 });
  });

  after(() => server.close());

  const signed = async (raw: Buffer): Promise<Buffer> => {
    // mailauth signs only what is in signatureData; the top-level fields its types require are
    // ignored, and without signatureData it returns no signature and no error
    const key = { signingDomain: 'example.org', selector: 'sel', privateKey };
    const { signatures, errors } = await dkimSign(raw, { ...key, signatureData: [key] });
    assert.deepEqual(errors, []);
    assert.match(signatures, /^DKIM-Signature: /);
    return Buffer.concat([Buffer.from(signatures), raw]);
  };

  const verify = (raw: Buffer, mailFrom: string, ip = '127.0.0.1') =>
    verifyMessage({ message: raw, ip, helo: 'client.example.org', mailFrom, hostname: HOSTNAME, resolver });

  it('passes SPF, DKIM and DMARC for a signed message from an authorised address', async () => {
    const verdict = await verify(await signed(message('alice@example.org')), 'alice@example.org');
    assert.equal(verdict.spf, 'pass');
    assert.equal(verdict.dkim, 'pass');
    assert.deepEqual(verdict.dkimPassDomains, ['example.org']);
    assert.deepEqual(verdict.dmarc, {
      result: 'pass',
      policy: 'reject',
      domain: 'example.org',
      policyDomain: 'example.org',
      skipReason: null,
    });
    assert.equal(verdict.arc, 'none');
    assert.ok(verdict.header.startsWith(`Authentication-Results: ${HOSTNAME};`), verdict.header);
    assert.match(verdict.header, /dkim=pass[^;]*header\.i=@example\.org/);
    assert.match(verdict.header, /spf=pass[^;]*smtp\.mailfrom=/);
    assert.match(verdict.header, /dmarc=pass[^;]*header\.from=example\.org/);
    assert.match(verdict.receivedSpfHeader ?? '', /^Received-SPF: pass /);
  });

  it('formats the header fields ready to prepend: folded, CRLF-terminated, one field each', async () => {
    const verdict = await verify(await signed(message('alice@example.org')), 'alice@example.org');
    for (const field of [verdict.header, verdict.receivedSpfHeader ?? '']) {
      assert.ok(field.endsWith('\r\n'));
      const lines = field.slice(0, -2).split('\r\n');
      assert.ok(lines.length >= 1);
      assert.ok(
        lines.slice(1).every((l) => /^[ \t]/.test(l)),
        'continuation lines start with WSP',
      );
      assert.ok(lines.every((l) => l.length <= 998));
      assert.ok(!/[^\r]\n|\r[^\n]/.test(field), 'no bare CR or LF');
    }
    assert.ok(!verdict.header.includes('Received-SPF'));
  });

  it('does not pass DKIM for a message changed after signing', async () => {
    const raw = (await signed(message('alice@example.org'))).toString();
    // a changed header breaks the signature itself: fail
    const header = await verify(
      Buffer.from(raw.replace('Quarterly numbers', 'Urgent')),
      'a@example.org',
      '192.0.2.99',
    );
    assert.equal(header.dkim, 'fail');
    assert.equal(header.spf, 'fail');
    assert.equal(header.dmarc.result, 'fail');
    assert.equal(header.dmarc.policy, 'reject');
    // a changed body fails the body hash, which mailauth's default mode reports as neutral
    const body = await verify(
      Buffer.from(raw.replace('Hello there.', 'Pay invoice 42.')),
      'a@example.org',
      '192.0.2.99',
    );
    assert.equal(body.dkim, 'neutral');
    assert.match(body.header, /dkim=neutral \(body hash did not verify\)/);
    assert.equal(body.dmarc.result, 'fail');
  });

  it('fails DMARC with policy reject for a forged From from a p=reject domain', async () => {
    const verdict = await verify(message('ceo@bank.example'), 'ceo@bank.example');
    assert.equal(verdict.spf, 'fail');
    assert.equal(verdict.dkim, 'none');
    assert.equal(verdict.dmarc.result, 'fail');
    assert.equal(verdict.dmarc.policy, 'reject');
    assert.equal(verdict.dmarc.domain, 'bank.example');
    assert.match(verdict.header, /dmarc=fail/);
  });

  it('fails DMARC when SPF passes only for an unaligned envelope domain', async () => {
    const verdict = await verify(message('ceo@bank.example'), 'bounce@evil.example');
    assert.equal(verdict.spf, 'pass');
    assert.equal(verdict.dmarc.result, 'fail');
    assert.equal(verdict.dmarc.policy, 'reject');
  });

  it('reports quarantine for a p=quarantine domain', async () => {
    const verdict = await verify(message('news@shop.example'), 'news@shop.example');
    assert.equal(verdict.dmarc.result, 'fail');
    assert.equal(verdict.dmarc.policy, 'quarantine');
  });

  it('applies sp= to a subdomain that inherits the record of its parent', async () => {
    const verdict = await verify(message('info@news.parent.example'), 'info@news.parent.example');
    assert.equal(verdict.dmarc.result, 'fail');
    assert.equal(verdict.dmarc.policy, 'quarantine');
    assert.equal(verdict.dmarc.domain, 'news.parent.example');
    assert.equal(verdict.dmarc.policyDomain, 'parent.example');
  });

  it('lowers the policy one step in test mode (t=y, RFC 9989)', async () => {
    const verdict = await verify(message('a@trial.example'), 'a@trial.example');
    assert.equal(verdict.dmarc.result, 'fail');
    assert.equal(verdict.dmarc.policy, 'quarantine');
  });

  it('ignores pct= (removed by RFC 9989): the published policy applies to every message', async () => {
    const verdict = await verify(message('a@sample.example'), 'a@sample.example');
    assert.equal(verdict.dmarc.result, 'fail');
    assert.equal(verdict.dmarc.policy, 'reject');
  });

  it('reports no policy for a domain without a DMARC record', async () => {
    const verdict = await verify(message('a@nodmarc.example'), 'a@nodmarc.example');
    assert.equal(verdict.spf, 'fail');
    assert.equal(verdict.dmarc.result, 'none');
    assert.equal(verdict.dmarc.policy, null);
  });

  it('says why DMARC was skipped for a message with two From fields', async () => {
    const raw = Buffer.concat([Buffer.from('From: x@example.org\r\n'), message('ceo@bank.example')]);
    const verdict = await verify(raw, 'ceo@bank.example');
    assert.equal(verdict.dmarc.result, 'none');
    assert.equal(verdict.dmarc.policy, null);
    assert.equal(verdict.dmarc.skipReason, 'multiple-from-fields');
  });

  it('checks the HELO identity for the null reverse-path', async () => {
    const verdict = await verifyMessage({
      message: message('mailer-daemon@example.org'),
      ip: '127.0.0.1',
      helo: 'example.org',
      mailFrom: '',
      hostname: HOSTNAME,
      resolver,
    });
    assert.equal(verdict.spf, 'pass');
    assert.match(verdict.header, /smtp\.helo=example\.org/);
  });
});
