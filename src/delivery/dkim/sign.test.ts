// DKIM signing checked by an independent verifier: mailauth's dkimVerify, fetching our
// key records from a real local DNS server. Both signatures pass; a changed body, or a
// second From/Subject/added Cc, fails (oversigning); relaxed canonicalisation tolerates
// what it should; the body hash agrees with mailauth's own signer on awkward bodies.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dkimSign, dkimVerify } from 'mailauth';
import { type DnsTestServer, startDnsServer } from '../../../test/support/dns-server.ts';
import { isSealpostError } from '../../core/errors.ts';
import { createDnsResolver, type DnsResolver, resolveFunction } from '../../net/dns.ts';
import { relaxedBodyHash, relaxedHeader, splitMessage, toCrlf } from './canonical.ts';
import { recordName, txtValue } from './dns-record.ts';
import { type DkimSigningKey, generateDkimKey, spkiBase64 } from './key-material.ts';
import { signedHeaderNames, signMessage } from './sign.ts';

const DOMAIN = 'example.org';
const NOW = Date.UTC(2026, 11, 2, 10, 0, 0);

function message(extraHeaders: string[] = [], body = 'Hello there.\r\n\r\nSee you.\r\n'): Buffer {
  return Buffer.from(
    [
      'From: Alice Example <alice@example.org>',
      'To: bob@example.net,',
      '  carol@example.net',
      'Subject: Quarterly   numbers',
      'Date: Wed, 02 Dec 2026 10:00:00 +0000',
      'Message-ID: <q4.1@example.org>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      ...extraHeaders,
      '',
      body,
    ].join('\r\n'),
  );
}

describe('DKIM signing', () => {
  let dns: DnsTestServer;
  let resolver: DnsResolver;
  let keys: DkimSigningKey[];

  before(async () => {
    keys = [
      { domain: DOMAIN, selector: 'sp202612e', algorithm: 'ed25519', privateKey: generateDkimKey('ed25519') },
      { domain: DOMAIN, selector: 'sp202612r', algorithm: 'rsa', privateKey: generateDkimKey('rsa') },
    ];
    const zone: Record<string, { TXT: string[] }> = {};
    for (const k of keys)
      zone[recordName(k.selector, DOMAIN)] = { TXT: [txtValue(k.algorithm, spkiBase64(k.privateKey))] };
    dns = await startDnsServer(zone);
    resolver = createDnsResolver({ servers: [`127.0.0.1:${dns.port}`], timeoutMs: 2000 });
  });
  after(() => dns.close());

  const verify = async (raw: Buffer) => {
    const { results } = await dkimVerify(raw, {
      resolver: resolveFunction(resolver) as never,
      curTime: new Date(NOW + 60_000),
    });
    return results.map((r) => ({ algo: r.algo, selector: r.selector, result: r.status.result }));
  };
  const sign = (raw: Buffer) => signMessage(raw, DOMAIN, keys, { now: NOW });

  it('adds an ed25519-sha256 and an rsa-sha256 signature, relaxed/relaxed, and both verify', async () => {
    const signed = sign(message());
    const text = signed.toString('latin1');
    assert.match(text, /^DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed\/relaxed; d=example\.org;/);
    assert.match(text, /\r\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.org;/);
    assert.ok(text.endsWith(message().toString('latin1')));
    for (const line of text.split('\r\n').filter((l) => /^(DKIM-Signature:| )/.test(l))) {
      assert.ok(line.length <= 78, `folded line too long: ${line.length}`);
      assert.doesNotMatch(line, /[ \t]$/);
    }
    assert.deepEqual(await verify(signed), [
      { algo: 'ed25519-sha256', selector: 'sp202612e', result: 'pass' },
      { algo: 'rsa-sha256', selector: 'sp202612r', result: 'pass' },
    ]);
    // mailauth's strict mode (RFC 6376 and RFC 8301 to the letter) agrees.
    const strict = await dkimVerify(signed, { resolver: resolveFunction(resolver) as never, strict: true });
    assert.deepEqual(
      strict.results.map((r) => r.status.result),
      ['pass', 'pass'],
    );
  });

  it('lists the headers that matter once more than they occur (oversigning)', () => {
    const withList = message(['List-Id: <team.example.org>', 'Resent-From: x@example.org', 'X-Mailer: test']);
    const names = signedHeaderNames(splitMessage(withList).headers);
    const count = (n: string) => names.filter((x) => x === n).length;
    assert.equal(names[0], 'From');
    assert.deepEqual(
      ['From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type', 'List-Id'].map(count),
      [2, 2, 2, 2, 2, 2, 2, 2],
    );
    // Absent but meaningful: listed once, so adding one breaks the signature.
    assert.deepEqual(['Cc', 'Reply-To', 'In-Reply-To', 'References'].map(count), [1, 1, 1, 1]);
    // Absent list headers are left to mailing lists; Resent-* signed, not oversigned; X-* not signed.
    assert.deepEqual(['List-Unsubscribe', 'Resent-From', 'X-Mailer'].map(count), [0, 1, 0]);
    const h = /h=([^;]+);/.exec(sign(withList).toString('latin1'))?.[1]?.replace(/\s+/g, '');
    assert.equal(h, names.join(':'));
  });

  describe('tampering fails verification', () => {
    const both = (result: string) => [
      { algo: 'ed25519-sha256', selector: 'sp202612e', result },
      { algo: 'rsa-sha256', selector: 'sp202612r', result },
    ];

    it('a changed body', async () => {
      const signed = sign(message()).toString('latin1').replace('See you.', 'See you!');
      assert.deepEqual(await verify(Buffer.from(signed, 'latin1')), both('neutral'));
    });

    it('a second From, a second Subject, or an added Cc — above or below ours', async () => {
      const signed = sign(message()).toString('latin1');
      const added = [
        (s: string) => `From: Mallory <mallory@example.org>\r\n${s}`,
        (s: string) => `Subject: Urgent: wire the money\r\n${s}`,
        (s: string) => `Cc: mallory@example.com\r\n${s}`,
        (s: string) => s.replace('\r\n\r\n', '\r\nSubject: appended below\r\n\r\n'),
      ];
      for (const add of added) {
        assert.deepEqual(await verify(Buffer.from(add(signed), 'latin1')), both('fail'));
      }
    });

    it('but a header outside the signed set (a Received trace field) keeps both signatures valid', async () => {
      const signed = sign(message());
      const relayed = Buffer.concat([
        Buffer.from('Received: from relay.example by mx.example; Wed, 2 Dec 2026\r\n'),
        signed,
      ]);
      assert.deepEqual(await verify(relayed), both('pass'));
    });
  });

  it('relaxed canonicalisation survives refolding and whitespace changes', async () => {
    const signed = sign(message()).toString('latin1');
    const changed = signed
      .replace('Subject: Quarterly   numbers', 'Subject:Quarterly\r\n\tnumbers  ')
      .replace('Hello there.\r\n', 'Hello   there. \t\r\n')
      .replace(/See you\.\r\n$/, 'See you.\r\n\r\n\r\n');
    assert.deepEqual(
      (await verify(Buffer.from(changed, 'latin1'))).map((r) => r.result),
      ['pass', 'pass'],
    );
  });

  it('normalises bare LF and bare CR to CRLF and signs that form; 8-bit content passes through', async () => {
    const lf = Buffer.from(
      message(['Subject-Extra: caf\u00e9'], 'ligne un\nligne deux\rfin\n')
        .toString('latin1')
        .replace(/\r\n/g, '\n'),
      'latin1',
    );
    const utf8 = Buffer.concat([lf, Buffer.from('Gr\u00fc\u00dfe \u2014 \u2603\n', 'utf8')]);
    const signed = sign(utf8);
    assert.equal(/\r(?!\n)|(?<!\r)\n/.test(signed.toString('latin1')), false);
    assert.ok(signed.includes(Buffer.from('Gr\u00fc\u00dfe \u2014 \u2603\r\n', 'utf8')));
    assert.deepEqual(
      (await verify(signed)).map((r) => r.result),
      ['pass', 'pass'],
    );
  });

  it('computes the same body hash as mailauth for awkward bodies', async () => {
    const bodies = [
      '',
      '\r\n',
      '\r\n\r\n',
      'x',
      'a \t b \t\r\n\r\n \r\n',
      ' lead\r\n\r\ntrail  \r\n\t\r\n',
      'no final crlf  ',
      '\xa0nbsp\xa0\r\n',
    ];
    const privateKey = keys[1]?.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() ?? '';
    for (const body of bodies) {
      const raw = Buffer.concat([Buffer.from('From: a@example.org\r\n\r\n'), Buffer.from(body, 'latin1')]);
      const key = { signingDomain: DOMAIN, selector: 's', privateKey };
      const { signatures } = await dkimSign(raw, {
        ...key,
        signatureData: [key],
        canonicalization: 'relaxed/relaxed',
      });
      const theirs = /bh=([^;]+);/.exec(signatures.replace(/\r\n\s/g, ''))?.[1];
      assert.equal(relaxedBodyHash(splitMessage(toCrlf(raw)).body), theirs, JSON.stringify(body));
    }
  });

  it('canonicalises a header field per RFC 6376 §3.4.2 (only SP and HTAB are whitespace)', () => {
    assert.equal(relaxedHeader('SubJect \t:  a \t b\r\n\t c  '), 'subject:a b c');
    assert.equal(relaxedHeader('X: \xa0v\xa0 '), 'x:\xa0v\xa0');
  });

  it('hostile input: refuses over 100 copies of a signed field; many unsigned fields are fine', async () => {
    const to = Array.from({ length: 99 }, (_, i) => `To: r${i}@example.net`);
    const signed = sign(message(to));
    assert.deepEqual(
      (await verify(signed)).map((r) => r.result),
      ['pass', 'pass'],
    );
    assert.throws(
      () => sign(message([...to, 'To: one-too-many@example.net'])),
      (e: unknown) => isSealpostError(e, 'input.invalid') && /101 To header fields/.test(String(e)),
    );
    const trace = Array.from({ length: 20_000 }, (_, i) => `Received: from hop${i}.example`);
    assert.deepEqual(
      (await verify(sign(message(trace)))).map((r) => r.result),
      ['pass', 'pass'],
    );
  });

  it('refuses a message without exactly one From, and leaves a message unsigned without keys', () => {
    const twoFroms = Buffer.from('From: a@example.org\r\nFrom: b@example.org\r\n\r\nhi\r\n');
    const noFrom = Buffer.from('To: a@example.org\r\n\r\nhi\r\n');
    for (const raw of [twoFroms, noFrom]) {
      assert.throws(
        () => sign(raw),
        (e: unknown) => isSealpostError(e, 'input.invalid') && /exactly one From/.test(String(e)),
      );
    }
    const plain = message();
    assert.deepEqual(signMessage(plain, 'other.example', keys), plain);
    assert.deepEqual(signMessage(plain, DOMAIN, []), plain);
  });
});
