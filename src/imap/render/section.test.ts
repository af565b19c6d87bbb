import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseStructure } from '../../mime/structure.ts';
import type { Section, SectionText } from '../protocol/section.ts';
import { applyPartial, extractBinary, extractSection } from './section.ts';

const raw = Buffer.from(
  [
    'From: a@x.test',
    'Subject: folded',
    ' subject line',
    'To: b@x.test',
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'first',
    '--b',
    'Content-Type: message/rfc822',
    '',
    'Subject: inner',
    'Content-Type: multipart/alternative; boundary=c',
    '',
    '--c',
    '',
    'inner plain',
    '--c',
    'Content-Type: text/html',
    '',
    '<p>inner</p>',
    '--c--',
    '--b',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    'aGVs',
    'bG8=',
    '--b',
    'Content-Type: text/plain',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'caf=C3=A9 =',
    'cr=C3=A8me',
    '--b',
    'Content-Transfer-Encoding: x-uuencode',
    '',
    'begin 644',
    '--b--',
    '',
  ].join('\r\n'),
);
const s = parseStructure(raw);

function get(part: number[], text?: SectionText): string | null {
  const section: Section = { part, text };
  return extractSection(raw, s, section)?.toString('utf8') ?? null;
}

describe('extractSection', () => {
  test('BODY[] is the whole message; [HEADER] and [TEXT] split it at the blank line', () => {
    assert.equal(get([]), raw.toString('utf8'));
    const header = get([], { kind: 'header' })!;
    assert.ok(header.startsWith('From: a@x.test\r\n') && header.endsWith('boundary=b\r\n\r\n'));
    assert.equal(header + get([], { kind: 'text' }), raw.toString('utf8'));
  });

  test('[HEADER.FIELDS] keeps folding and ends with the blank line; .NOT is the complement', () => {
    assert.equal(
      get([], { kind: 'header.fields', not: false, fields: ['subject', 'to', 'x-missing'] }),
      'Subject: folded\r\n subject line\r\nTo: b@x.test\r\n\r\n',
    );
    assert.equal(
      get([], { kind: 'header.fields', not: true, fields: ['subject', 'to', 'content-type'] }),
      'From: a@x.test\r\n\r\n',
    );
  });

  test('part numbers, [n.MIME], and message/rfc822 parts ([n] body, [n.HEADER], [n.TEXT], [n.m])', () => {
    assert.equal(get([1]), 'first');
    assert.equal(get([1], { kind: 'mime' }), 'Content-Type: text/plain\r\n\r\n');
    assert.ok(get([2])!.startsWith('Subject: inner\r\n'));
    assert.equal(
      get([2], { kind: 'header' }),
      'Subject: inner\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n',
    );
    assert.ok(get([2], { kind: 'text' })!.startsWith('--c\r\n'));
    assert.equal(
      get([2], { kind: 'header.fields', not: false, fields: ['SUBJECT'] }),
      'Subject: inner\r\n\r\n',
    );
    assert.equal(get([2, 1]), 'inner plain');
    assert.equal(get([2, 2]), '<p>inner</p>');
    assert.equal(get([2, 2], { kind: 'mime' }), 'Content-Type: text/html\r\n\r\n');
  });

  test('a non-multipart message: part 1 is its body', () => {
    const one = Buffer.from('Subject: x\r\n\r\nbody');
    const so = parseStructure(one);
    assert.equal(extractSection(one, so, { part: [1], text: undefined })?.toString(), 'body');
    assert.equal(extractSection(one, so, { part: [2], text: undefined })?.length, 0);
  });

  test('nonexistent parts are empty; HEADER/TEXT after a non-message part is null', () => {
    assert.equal(get([9]), '');
    assert.equal(get([1, 1]), '');
    assert.equal(get([2, 5]), '');
    assert.equal(get([1], { kind: 'header' }), null);
    assert.equal(get([1], { kind: 'text' }), null);
  });

  test('a header-only message gets its blank line in [HEADER]', () => {
    const h = Buffer.from('Subject: x\r\n');
    assert.equal(
      extractSection(h, parseStructure(h), { part: [], text: { kind: 'header' } })?.toString(),
      'Subject: x\r\n\r\n',
    );
    const h2 = Buffer.from('Subject: x');
    assert.equal(
      extractSection(h2, parseStructure(h2), { part: [], text: { kind: 'header' } })?.toString(),
      'Subject: x\r\n\r\n',
    );
  });
});

describe('applyPartial', () => {
  test('slices; past the end is empty', () => {
    const b = Buffer.from('0123456789');
    assert.equal(applyPartial(b, undefined).toString(), '0123456789');
    assert.equal(applyPartial(b, { offset: 2, length: 3 }).toString(), '234');
    assert.equal(applyPartial(b, { offset: 8, length: 100 }).toString(), '89');
    assert.equal(applyPartial(b, { offset: 10, length: 1 }).length, 0);
    assert.equal(applyPartial(b, { offset: 2 ** 40, length: 1 }).length, 0);
  });
});

describe('extractBinary', () => {
  test('base64 and quoted-printable decoded; identity for 7bit; unknown CTE reported', () => {
    assert.equal((extractBinary(raw, s, [3]) as Buffer).toString(), 'hello');
    assert.equal((extractBinary(raw, s, [4]) as Buffer).toString(), 'café crème');
    assert.equal((extractBinary(raw, s, [1]) as Buffer).toString(), 'first');
    assert.equal(extractBinary(raw, s, [5]), 'unknown-cte');
    assert.equal((extractBinary(raw, s, [9]) as Buffer).length, 0);
    assert.equal(extractBinary(raw, s, []), raw);
  });

  test('lenient base64: junk characters are skipped', () => {
    const m = Buffer.from('Content-Transfer-Encoding: base64\r\n\r\naGV*s\r\nbG8=!');
    assert.equal((extractBinary(m, parseStructure(m), [1]) as Buffer).toString(), 'hello');
  });
});
