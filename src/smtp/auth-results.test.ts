// stripForgedAuthResults: which Authentication-Results fields go, and that nothing else moves.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripForgedAuthResults } from './auth-results.ts';

const ID = 'mx.sealpost.test';

const msg = (...lines: string[]) => Buffer.from(lines.join('\r\n'));
const strip = (...lines: string[]) => stripForgedAuthResults(msg(...lines), ID).toString('latin1');

describe('stripForgedAuthResults', () => {
  it('removes a field that claims our authserv-id and keeps the rest byte for byte', () => {
    const out = strip(
      'Received: from a by b',
      `Authentication-Results: ${ID}; dkim=pass header.d=bank.example`,
      'From: a@example.org',
      '',
      'body',
    );
    assert.equal(out, ['Received: from a by b', 'From: a@example.org', '', 'body'].join('\r\n'));
  });

  it('removes a folded field with all its continuation lines', () => {
    const out = strip(
      `Authentication-Results: ${ID};`,
      '\tdkim=pass header.d=bank.example;',
      '  spf=pass smtp.mailfrom=bank.example',
      'Subject: hi',
      '',
      'x',
    );
    assert.equal(out, 'Subject: hi\r\n\r\nx');
  });

  it('reads the authserv-id after CFWS: comments, nested comments, folds, quotes', () => {
    for (const value of [
      `(c) ${ID}; spf=pass`,
      ` (a (nested \\) comment)) ${ID} 1; none`,
      `\r\n ${ID};\r\n dkim=pass`,
      `"${ID}"; dkim=pass`,
      `${ID.toUpperCase()}; dkim=pass`,
      `${ID}.; dkim=pass`,
      `${ID}(c);dkim=pass`,
    ]) {
      assert.equal(strip(`Authentication-Results:${value}`, 'To: x', '', 'b'), 'To: x\r\n\r\nb', value);
    }
  });

  it('matches the field name case-insensitively, and with WSP before the colon', () => {
    assert.equal(strip(`authentication-RESULTS: ${ID}; none`, '', ''), '\r\n');
    assert.equal(strip(`Authentication-Results : ${ID}; none`, '', ''), '\r\n');
  });

  it("keeps other hosts' results and ARC-Authentication-Results", () => {
    const lines = [
      'Authentication-Results: mx.other.example; dkim=pass',
      `Authentication-Results: sub.${ID}; spf=pass`,
      `Authentication-Results: (${ID}) mx.other.example; spf=pass`,
      `ARC-Authentication-Results: i=1; ${ID}; dkim=pass`,
      `X-Authentication-Results: ${ID}; dkim=pass`,
      'Subject: x',
      '',
      'b',
    ];
    assert.equal(strip(...lines), lines.join('\r\n'));
  });

  it('removes a field whose authserv-id cannot be read', () => {
    assert.equal(strip('Authentication-Results: (unterminated dkim=pass', 'To: x', '', ''), 'To: x\r\n\r\n');
    assert.equal(strip('Authentication-Results:', 'To: x', '', ''), 'To: x\r\n\r\n');
    assert.equal(strip('Authentication-Results: "unterminated', 'To: x', '', ''), 'To: x\r\n\r\n');
  });

  it('never touches the body, even lines that look like our header', () => {
    const body = [`Authentication-Results: ${ID}; dkim=pass`, ` folded: ${ID}`, '', 'more'];
    const out = strip('Subject: x', `Authentication-Results: ${ID}; dkim=pass`, '', ...body);
    assert.equal(out, ['Subject: x', '', ...body].join('\r\n'));
  });

  it('handles a message with no body, with bare LF lines, and non-UTF-8 bytes', () => {
    assert.equal(strip('Subject: x', `Authentication-Results: ${ID}; none`), 'Subject: x\r\n');
    const lf = Buffer.from(`Authentication-Results: ${ID}; none\nSubject: x\n\nbody\n`);
    assert.equal(stripForgedAuthResults(lf, ID).toString(), 'Subject: x\n\nbody\n');
    const binary = Buffer.concat([
      Buffer.from('Subject: \xff\xfe\r\n', 'latin1'),
      Buffer.from(`Authentication-Results: ${ID}; none\r\n\r\n`),
      Buffer.from([0xc3, 0x28, 0x00, 0x0d, 0x0a]),
    ]);
    const out = stripForgedAuthResults(binary, ID);
    assert.deepEqual(
      out,
      Buffer.concat([
        Buffer.from('Subject: \xff\xfe\r\n\r\n', 'latin1'),
        Buffer.from([0xc3, 0x28, 0x00, 0x0d, 0x0a]),
      ]),
    );
  });

  it('returns the same buffer when there is nothing to remove', () => {
    const input = msg('Subject: x', 'Authentication-Results: other.example; none', '', 'b');
    assert.equal(stripForgedAuthResults(input, ID), input);
    const empty = Buffer.alloc(0);
    assert.equal(stripForgedAuthResults(empty, ID), empty);
  });

  it('removes every one of several forged fields', () => {
    const out = strip(
      `Authentication-Results: ${ID}; spf=pass`,
      'Received: x',
      `Authentication-Results: ${ID}; dkim=pass`,
      ' header.d=bank.example',
      `Authentication-Results: ${ID}; dmarc=pass`,
      '',
      '',
    );
    assert.equal(out, 'Received: x\r\n\r\n');
  });
});
