import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dateTime } from './datetime.ts';
import { mailbox } from './mailbox.ts';
import {
  astring,
  flagList,
  formatDateTime,
  list,
  literalBytes,
  mailboxName,
  nstring,
  quoted,
  responseCodeText,
  sequenceSetString,
  str,
} from './response.ts';
import { sequenceSet } from './sequence.ts';
import { cursor } from './test-helpers.ts';
import type { Cursor } from './tokens.ts';

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '\r',
  '\n',
  '\r\n',
  '\t',
  '(',
  ')',
  '{',
  '}',
  '%',
  '*',
  ']',
  '[',
  '+',
];
const UNICODE = ['é', 'ü', '日本', '😀', '\x7f', '&', '-', '~', 'NIL', '{3}', '{3+}'];

function randomString(next: () => number, maxPieces: number): string {
  const pool = [...PIECES, ...UNICODE];
  let s = '';
  const n = Math.floor(next() * maxPieces);
  for (let i = 0; i < n; i++) s += pool[Math.floor(next() * pool.length)];
  return s;
}

function readBack<T>(wire: string, f: (c: Cursor) => T, utf8: boolean): T {
  const c = cursor(`${wire}\r\n`, utf8); // explicit CRLF: the wire text may itself end in one
  const v = f(c);
  c.expectEnd();
  return v;
}

describe('IMAP response strings', () => {
  it('quoted escapes only " and \\ and refuses CR, LF, NUL', () => {
    assert.equal(quoted('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(quoted(''), '""');
    for (const s of ['a\rb', 'a\nb', 'a\0b']) assert.throws(() => quoted(s), RangeError);
  });

  it('str picks quoted or literal', () => {
    assert.equal(str('hello world'), '"hello world"');
    assert.equal(str('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
    assert.equal(str('a\r\nb'), '{4}\r\na\r\nb');
    assert.equal(str('a\0b'), '{3}\r\na\0b');
    assert.equal(str('Grüße'), '{7}\r\nGrüße', '8-bit without UTF-8 mode: a literal counting octets');
    assert.equal(str('Grüße', true), '"Grüße"');
    assert.equal(str('x'.repeat(1024)), `"${'x'.repeat(1024)}"`);
    assert.equal(str('x'.repeat(1025)), `{1025}\r\n${'x'.repeat(1025)}`);
    assert.equal(str('é'.repeat(513), true).slice(0, 8), '{1026}\r\n', 'the 1024 cap counts octets');
  });

  it('astring: atoms bare, NIL and specials quoted; nstring: NIL for null', () => {
    assert.equal(astring('INBOX'), 'INBOX');
    assert.equal(astring('a]b'), 'a]b');
    assert.equal(astring(''), '""');
    assert.equal(astring('nil'), '"nil"');
    assert.equal(astring('a b'), '"a b"');
    for (const s of ['a(b', 'a)b', 'a{b', 'a%b', 'a*b', 'a"b', 'a\\b', 'a\x7fb'])
      assert.notEqual(astring(s), s, s);
    assert.equal(nstring(null), 'NIL');
    assert.equal(nstring('NIL'), '"NIL"');
    assert.equal(nstring(''), '""');
  });

  it('round-trips: what str/astring/nstring write, the grammar reads back', () => {
    const next = rng(42);
    for (let i = 0; i < 2000; i++) {
      const s = i % 100 === 0 ? randomString(next, 1200) : randomString(next, 12);
      for (const utf8 of [false, true]) {
        assert.equal(
          readBack(str(s, utf8), (c) => c.string(), utf8),
          s,
          JSON.stringify(s),
        );
        assert.equal(
          readBack(astring(s, utf8), (c) => c.astring(), utf8),
          s,
          JSON.stringify(s),
        );
        assert.equal(
          readBack(nstring(s, utf8), (c) => c.nstring(), utf8),
          s,
          JSON.stringify(s),
        );
      }
    }
    assert.equal(
      readBack(nstring(null), (c) => c.nstring(), false),
      null,
    );
  });

  it('literalBytes: literal, or literal8 when the octets contain NUL', () => {
    const [m, d] = literalBytes(Buffer.from('hello'));
    assert.equal(m?.toString('latin1'), '{5}\r\n');
    assert.equal(d?.toString(), 'hello');
    assert.equal(literalBytes(Buffer.from([1, 0, 2]))[0]?.toString('latin1'), '~{3}\r\n');
    assert.equal(literalBytes(Buffer.alloc(0))[0]?.toString('latin1'), '{0}\r\n');
  });

  it('lists and flag lists', () => {
    assert.equal(list([]), '()');
    assert.equal(list(['UIDNEXT', '4', 'MESSAGES', '2']), '(UIDNEXT 4 MESSAGES 2)');
    assert.equal(flagList(['\\Seen', '$Junk']), '(\\Seen $Junk)');
  });
});

describe('IMAP response mailbox names', () => {
  it('modified UTF-7 unless UTF-8 mode; INBOX as is', () => {
    assert.equal(mailboxName('INBOX', false), 'INBOX');
    assert.equal(mailboxName('Entwürfe', false), 'Entw&APw-rfe');
    assert.equal(mailboxName('Entwürfe', true), '"Entwürfe"');
    assert.equal(mailboxName('a&b', false), 'a&-b');
    assert.equal(mailboxName('a&b', true), 'a&b');
    assert.equal(mailboxName('Sent Items', false), '"Sent Items"');
    assert.equal(mailboxName('50%', false), '"50%"');
  });

  it('round-trips through the grammar', () => {
    const next = rng(7);
    const pool = ['a', 'B', ' ', '&', '-', '/', '.', '"', '\\', '%', '*', 'é', '日本', '😀', '~', '+', ','];
    for (let i = 0; i < 1000; i++) {
      let name = '';
      const n = 1 + Math.floor(next() * 10);
      for (let k = 0; k < n; k++) name += pool[Math.floor(next() * pool.length)];
      for (const utf8 of [false, true])
        assert.equal(readBack(mailboxName(name, utf8), mailbox, utf8), name, name);
    }
  });
});

describe('IMAP response sequence sets', () => {
  it('sorts, merges and drops duplicates', () => {
    assert.equal(sequenceSetString([9, 1, 2, 3, 5, 7, 8, 3]), '1:3,5,7:9');
    assert.equal(sequenceSetString([]), '');
    assert.equal(sequenceSetString([4294967295]), '4294967295');
    assert.equal(sequenceSetString(new Set([10, 2, 11])), '2,10:11');
    for (const bad of [[0], [-1], [1.5], [4294967296], [Number.NaN]])
      assert.throws(() => sequenceSetString(bad), RangeError, String(bad));
  });

  it('round-trips through the grammar', () => {
    const next = rng(3);
    for (let i = 0; i < 300; i++) {
      const nums = Array.from({ length: 1 + Math.floor(next() * 50) }, () => 1 + Math.floor(next() * 100));
      const parsedSet = readBack(sequenceSetString(nums), sequenceSet, false);
      assert.ok(parsedSet.kind === 'ranges');
      const back = new Set<number>();
      for (const r of parsedSet.ranges) {
        assert.ok(typeof r.from === 'number' && typeof r.to === 'number');
        for (let n = r.from; n <= r.to; n++) back.add(n);
      }
      assert.deepEqual(
        [...back].sort((a, b) => a - b),
        [...new Set(nums)].sort((a, b) => a - b),
      );
    }
  });
});

describe('IMAP response dates and texts', () => {
  it('formats INTERNALDATE date-time', () => {
    const t = Date.UTC(1996, 6, 17, 9, 44, 25);
    assert.equal(formatDateTime(t), '"17-Jul-1996 09:44:25 +0000"');
    assert.equal(formatDateTime(t, -420), '"17-Jul-1996 02:44:25 -0700"');
    assert.equal(formatDateTime(Date.UTC(2024, 0, 1, 0, 0, 0, 999), 330), '"01-Jan-2024 05:30:00 +0530"');
    assert.equal(formatDateTime(Date.UTC(2023, 11, 31, 23, 0), 60), '"01-Jan-2024 00:00:00 +0100"');
    for (const [ms, tz] of [
      [Number.NaN, 0],
      [0, 1440],
      [0, 0.5],
      [Date.UTC(10000, 0, 1), 0],
    ] as const)
      assert.throws(() => formatDateTime(ms, tz), RangeError);
  });

  it('date-time round-trips through the grammar', () => {
    const next = rng(11);
    for (let i = 0; i < 500; i++) {
      const ms = Math.floor(next() * 4e12);
      const tz = Math.floor(next() * 1561) - 720; // -12:00 … +14:00
      const d = readBack(formatDateTime(ms, tz), dateTime, false);
      assert.equal(d.time, Math.floor(ms / 1000) * 1000);
      assert.equal(d.zoneMinutes, tz);
    }
  });

  it('response codes and text', () => {
    assert.equal(responseCodeText('UIDNEXT 4392', 'Predicted next UID'), '[UIDNEXT 4392] Predicted next UID');
    assert.equal(responseCodeText(undefined, 'done'), 'done');
    assert.equal(responseCodeText('ALERT', 'line1\r\nline2\0'), '[ALERT] line1  line2 ');
    assert.throws(() => responseCodeText('ALERT', ''), RangeError);
    assert.throws(() => responseCodeText('A]B', 'x'), RangeError);
    assert.throws(() => responseCodeText('A\r\nB', 'x'), RangeError);
  });
});
