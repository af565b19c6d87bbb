import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseEnvelope } from '../../mime/envelope.ts';
import { renderEnvelope } from './envelope.ts';
import { astring, literal, nstring, quoted } from './strings.ts';

describe('strings', () => {
  test('quoted escapes backslash and double quote', () => {
    assert.equal(quoted('a"b\\c'), '"a\\"b\\\\c"');
  });
  test('nstring: NIL, quoted, or a literal for CR/LF, 8-bit and long strings', () => {
    assert.equal(nstring(null), 'NIL');
    assert.equal(nstring(''), '""');
    assert.equal(nstring('a\r\nb'), '{4}\r\na\r\nb');
    assert.equal(nstring('Grüße'), '{7}\r\nGrüße');
    assert.equal(nstring('x'.repeat(1001)), `{1001}\r\n${'x'.repeat(1001)}`);
    assert.equal(nstring('x'.repeat(1000)), `"${'x'.repeat(1000)}"`);
  });
  test('NUL is dropped', () => {
    assert.equal(nstring('a\0b'), '"ab"');
    assert.equal(literal('\0é'), '{2}\r\né');
  });
  test('astring: atom when possible, never the atom NIL', () => {
    assert.equal(astring('INBOX'), 'INBOX');
    assert.equal(astring('NIL'), '"NIL"');
    assert.equal(astring('a b'), '"a b"');
    assert.equal(astring(''), '""');
    assert.equal(astring('a%'), '"a%"');
  });
});

describe('renderEnvelope', () => {
  test('RFC 9051 §7.5.2 shape: addresses without spaces between them, NIL lists', () => {
    const e = parseEnvelope(
      Buffer.from(
        'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\nSubject: IMAP4rev2 WG mtg summary and minutes\r\n' +
          'From: Terry Gray <gray@cac.washington.edu>\r\n' +
          'To: imap@cac.washington.edu\r\ncc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n' +
          'Message-Id: <B27397-0100000@cac.washington.edu>\r\n\r\n',
      ),
    );
    assert.equal(
      renderEnvelope(e),
      '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
        '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
        '"<B27397-0100000@cac.washington.edu>")',
    );
  });

  test('groups and quoted specials', () => {
    const e = parseEnvelope(Buffer.from('From: "a \\"b\\"" <x@y>\r\nTo: G:;\r\n\r\n'));
    assert.equal(
      renderEnvelope(e),
      '(NIL NIL (("a \\"b\\"" NIL "x" "y")) (("a \\"b\\"" NIL "x" "y")) (("a \\"b\\"" NIL "x" "y")) ' +
        '((NIL NIL "G" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)',
    );
  });
});
