import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Capabilities,
  NO_CAPABILITIES,
  type Plan,
  parseEhlo,
  planTransaction,
  wireAddress,
  xtext,
} from './smtp-client-envelope.ts';

const ehlo = (...lines: string[]) => ({
  code: 250,
  enhanced: null,
  lines: ['mx.example.org', ...lines],
  text: '',
});
const FULL: Capabilities = { ...NO_CAPABILITIES, size: 1000, eightBitMime: true, smtpUtf8: true, dsn: true };
const plan = (
  caps: Capabilities,
  over: Partial<Parameters<typeof planTransaction>[0]['envelope']> = {},
  size = 10,
  eightBit = false,
) =>
  planTransaction({
    envelope: { mailFrom: 'a@example.com', rcptTo: ['b@example.org'], requireUtf8: false, eightBit, ...over },
    size,
    eightBit,
    caps,
  });
const ok = (p: Plan) => {
  assert.ok(p.ok, JSON.stringify(p));
  return p;
};

describe('SMTP client envelope', () => {
  it('parses EHLO keywords case-insensitively; the first line is the server name', () => {
    const c = parseEhlo(
      ehlo(
        'pipelining',
        'SIZE 35882577',
        '8BITMIME',
        'SMTPUTF8',
        'STARTTLS',
        'ENHANCEDSTATUSCODES',
        'DSN',
        'CHUNKING',
      ),
    );
    assert.deepEqual(c, {
      size: 35882577,
      pipelining: true,
      eightBitMime: true,
      smtpUtf8: true,
      startTls: true,
      enhancedStatusCodes: true,
      dsn: true,
    });
    assert.equal(parseEhlo(ehlo('SIZE')).size, 0, 'SIZE without a limit');
    assert.equal(parseEhlo(ehlo('SIZE lots')).size, 0, 'a nonsense limit is no limit');
    assert.equal(
      parseEhlo({ ...ehlo(), lines: ['STARTTLS'] }).startTls,
      false,
      'the greeting line is not a keyword',
    );
  });

  it('builds MAIL and RCPT with only the parameters the server offers', () => {
    const p = ok(plan(FULL, { requireUtf8: true, envid: 'a b', ret: 'FULL' }, 10, true));
    assert.equal(p.mail, 'MAIL FROM:<a@example.com> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=a+20b');
    assert.deepEqual(
      ok(plan(NO_CAPABILITIES, { envid: 'x', ret: 'HDRS' })).mail,
      'MAIL FROM:<a@example.com>',
    );
    assert.equal(ok(plan(FULL, { mailFrom: '' })).mail, 'MAIL FROM:<> SIZE=10', 'null reverse-path');
  });

  it('applies the downgrade rules: 5.6.7, 5.6.3, 5.3.4', () => {
    const refusal = (p: Plan) => (p.ok ? null : p.refusal.enhanced);
    assert.equal(refusal(plan(NO_CAPABILITIES, { requireUtf8: true })), '5.6.7');
    assert.equal(refusal(plan(NO_CAPABILITIES, { mailFrom: 'j\u00fcrgen@example.com' })), '5.6.7');
    assert.equal(refusal(plan(NO_CAPABILITIES, {}, 10, true)), '5.6.3');
    assert.equal(
      refusal(plan({ ...FULL, eightBitMime: false }, {}, 10, true)),
      '5.6.3',
      'SMTPUTF8 alone does not allow 8-bit',
    );
    assert.equal(refusal(plan(FULL, {}, 1001)), '5.3.4');
    assert.equal(refusal(plan(FULL, {}, 1000)), null, 'exactly the limit fits');
    assert.equal(refusal(plan({ ...FULL, size: 0 }, {}, 10 ** 9)), null, 'SIZE 0 means no limit');
  });

  it('sends an IDN domain as its A-label without SMTPUTF8 and refuses only a UTF-8 local part', () => {
    const p = ok(
      plan(NO_CAPABILITIES, { rcptTo: ['b@b\u00fccher.example', '\u00fc@example.org', 'c@example.org'] }),
    );
    assert.deepEqual(
      p.rcpts.map((r) => (typeof r === 'string' ? r : r.enhanced)),
      ['RCPT TO:<b@xn--bcher-kva.example>', '5.6.7', 'RCPT TO:<c@example.org>'],
    );
    assert.equal(
      wireAddress('b@b\u00fccher.example', true),
      'b@b\u00fccher.example',
      'kept as is with SMTPUTF8',
    );
    const u = ok(plan(FULL, { rcptTo: ['\u00fc@b\u00fccher.example'] }));
    assert.match(u.mail, / SMTPUTF8$/);
    assert.deepEqual(u.rcpts, ['RCPT TO:<\u00fc@b\u00fccher.example>']);
  });

  it('refuses addresses that could break the command line', () => {
    for (const bad of [
      'a@b>\r\nRSET',
      'a\n@b',
      'a@b c',
      'a b@c',
      '<a@b>',
      'nodomain',
      '@b',
      'a@',
      'a\u0000@b',
    ]) {
      const p = ok(plan(FULL, { rcptTo: [bad] }));
      assert.equal(typeof p.rcpts[0], 'object', `refused: ${JSON.stringify(bad)}`);
    }
    assert.equal(
      typeof ok(plan(FULL, { rcptTo: ['"a b"@example.org'] })).rcpts[0],
      'string',
      'a quoted space is fine',
    );
    const bad = plan(FULL, { mailFrom: 'x@y>\r\nDATA' });
    assert.equal(bad.ok ? null : bad.refusal.enhanced, '5.1.7');
  });

  it('xtext-encodes DSN values (RFC 3461 §4)', () => {
    assert.equal(xtext('abc'), 'abc');
    assert.equal(xtext('a+b=c d\u00e9'), 'a+2Bb+3Dc+20d+C3+A9');
  });
});
