import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseStructure } from '../../mime/structure.ts';
import { renderBodyStructure } from './bodystructure.ts';
import { readBody, WireReader } from './test-reader.ts';

const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

function roundTrip(raw: Buffer, extensible: boolean): string {
  const text = renderBodyStructure(parseStructure(raw).body, extensible);
  const r = new WireReader(text);
  readBody(r.value(), extensible);
  r.done();
  return text;
}

describe('renderBodyStructure', () => {
  test('text part without Content-Type: default charset, lines, extension data', () => {
    const raw = msg('Subject: x', '', 'a', 'b', '');
    assert.equal(
      roundTrip(raw, true),
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 6 2 NIL NIL NIL NIL)',
    );
    assert.equal(roundTrip(raw, false), '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 6 2)');
  });

  test('multipart with extension data (params, disposition, language, location)', () => {
    const raw = msg(
      'Content-Type: multipart/mixed; boundary="b"',
      'Content-Language: en',
      '',
      '--b',
      'Content-Type: image/png; name="a.png"',
      'Content-Transfer-Encoding: base64',
      'Content-ID: <i@x>',
      'Content-Disposition: inline; filename="a.png"',
      'Content-Language: en, de',
      'Content-MD5: abc=',
      'Content-Location: a.png',
      '',
      'AAAA',
      '--b--',
    );
    assert.equal(
      roundTrip(raw, true),
      '(("image" "png" ("name" "a.png") "<i@x>" NIL "BASE64" 4 "abc=" ("inline" ("filename" "a.png")) ("en" "de") "a.png")' +
        ' "mixed" ("boundary" "b") NIL "en" NIL)',
    );
    assert.equal(roundTrip(raw, false), '(("image" "png" ("name" "a.png") "<i@x>" NIL "BASE64" 4) "mixed")');
  });

  test('message/rfc822: envelope, body, lines', () => {
    const raw = msg('Content-Type: message/rfc822', '', 'Subject: in', '', 'x');
    assert.equal(
      roundTrip(raw, false),
      '("message" "rfc822" NIL NIL NIL "7BIT" 16 (NIL "in" NIL NIL NIL NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 1 0) 2)',
    );
  });

  test('8-bit, CR/LF and long parameter values become literals', () => {
    const raw = Buffer.from(`Content-Type: text/plain; name="grüße.txt"; x="${'y'.repeat(1200)}"\r\n\r\nz`);
    const out = roundTrip(raw, true);
    assert.match(out, /\("name" \{11\}\r\ngrüße\.txt "x" \{1200\}\r\ny+\)/);
  });

  test('a multipart with no parts gets one empty text/plain part', () => {
    assert.equal(
      roundTrip(msg('Content-Type: multipart/mixed; boundary=b', '', 'no parts'), false),
      '(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 0 0) "mixed")',
    );
  });

  test('deep and wide hostile messages still render valid BODYSTRUCTURE', () => {
    let nested = '';
    for (let i = 0; i < 100; i++)
      nested += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    roundTrip(Buffer.from(`${nested}\r\nx`), true);
    roundTrip(Buffer.from(`${'Content-Type: message/rfc822\r\n\r\n'.repeat(100)}x`), true);
  });
});
