import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImapBad } from './errors.ts';
import { imapLimits } from './limits.ts';
import { cursor, testLimits } from './test-helpers.ts';
import { Cursor } from './tokens.ts';

/** Parse the whole input with `f`; it must consume everything. */
function whole<T>(raw: string, f: (c: Cursor) => T, utf8 = false): T {
  const c = cursor(raw, utf8);
  const v = f(c);
  c.expectEnd();
  return v;
}
function bad(raw: string, f: (c: Cursor) => unknown, utf8 = false): void {
  assert.throws(() => whole(raw, f, utf8), ImapBad, raw);
}

describe('IMAP tokens', () => {
  it('atoms and keywords', () => {
    assert.equal(
      whole('FETCH', (c) => c.atom()),
      'FETCH',
    );
    assert.equal(
      whole('uid', (c) => c.keyword()),
      'UID',
    );
    for (const s of ['', '(', '"x"', '{x', '%', '*', ']', '\\']) bad(s, (c) => c.atom());
    bad('a\x00b', (c) => c.atom());
    bad('a\x7fb', (c) => c.atom());
  });

  it('numbers: number, nz-number, number64', () => {
    assert.equal(
      whole('0', (c) => c.number()),
      0,
    );
    assert.equal(
      whole('4294967295', (c) => c.number()),
      4294967295,
    );
    bad('4294967296', (c) => c.number());
    bad('99999999999999999999', (c) => c.number());
    bad('-1', (c) => c.number());
    bad('0', (c) => c.nzNumber());
    assert.equal(
      whole('7', (c) => c.nzNumber()),
      7,
    );
    assert.equal(
      whole('9007199254740991', (c) => c.number64()),
      9007199254740991,
    );
    bad('9007199254740992', (c) => c.number64());
  });

  it('quoted strings: only \\\\ and \\" escapes; 8-bit only in UTF-8 mode', () => {
    assert.equal(
      whole('"a\\"b\\\\c"', (c) => c.quoted()),
      'a"b\\c',
    );
    assert.equal(
      whole('""', (c) => c.quoted()),
      '',
    );
    bad('"a\\nb"', (c) => c.quoted());
    bad('"abc', (c) => c.quoted());
    bad('"a\x00b"', (c) => c.quoted());
    bad('"a\rb"', (c) => c.quoted());
    bad('"Grüße"', (c) => c.quoted());
    assert.equal(
      whole('"Grüße"', (c) => c.quoted(), true),
      'Grüße',
    );
    // invalid UTF-8 is refused even in UTF-8 mode (segments are latin1: one char per octet)
    const c = new Cursor(['"\xff\xfe"'], { limits: testLimits, utf8: true });
    assert.throws(() => c.quoted(), /Invalid UTF-8/);
  });

  it('literals, literal8 and strings', () => {
    assert.equal(
      whole('{3}\r\nabc', (c) => c.string()),
      'abc',
    );
    assert.equal(
      whole('{3+}\r\nabc', (c) => c.astring()),
      'abc',
    );
    assert.deepEqual(
      whole('~{3}\r\na\x00b', (c) => [...c.literal(true).data]),
      [0x61, 0, 0x62],
    );
    bad('~{3}\r\na\x00b', (c) => c.literal());
    bad('{3}\r\na\x00b', (c) => c.literal());
    bad('{3}\r\nabc extra', (c) => c.string());
    bad('{2', (c) => c.literal());
  });

  it('astring and nstring', () => {
    assert.equal(
      whole('foo]bar', (c) => c.astring()),
      'foo]bar',
    );
    assert.equal(
      whole('"a b"', (c) => c.astring()),
      'a b',
    );
    bad('(x)', (c) => c.astring());
    bad('a*b', (c) => c.astring());
    assert.equal(
      whole('NIL', (c) => c.nstring()),
      null,
    );
    assert.equal(
      whole('"NIL"', (c) => c.nstring()),
      'NIL',
    );
    bad('foo', (c) => c.nstring());
  });

  it('parenthesised lists', () => {
    assert.deepEqual(
      whole('(a b c)', (c) => c.list((l) => l.atom())),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      whole('()', (c) => c.list((l) => l.atom())),
      [],
    );
    bad('()', (c) => c.list((l) => l.atom(), false));
    bad('(a  b)', (c) => c.list((l) => l.atom()));
    bad('(a b', (c) => c.list((l) => l.atom()));
    bad('( a)', (c) => c.list((l) => l.atom()));
  });
});

describe('IMAP tokens: hostile input', () => {
  type Tree = string | Tree[];
  const tree = (c: Cursor): Tree => (c.peek() === '(' ? c.list(tree) : c.atom());

  it('bounds list nesting', () => {
    const ok = `${'('.repeat(16)}x${')'.repeat(16)}`;
    assert.doesNotThrow(() => whole(ok, tree));
    const deep = `${'('.repeat(17)}x${')'.repeat(17)}`;
    assert.throws(
      () => whole(deep, tree),
      (e: unknown) => e instanceof ImapBad && e.responseCode === 'TOOBIG',
    );
    // far deeper input fails fast, without recursion blowing the stack
    assert.throws(() => whole(`${'('.repeat(30000)}`, tree), ImapBad);
  });

  it('bounds list items and tokens', () => {
    const limits = imapLimits(1000, { maxListItems: 3, maxTokens: 100 });
    assert.throws(() => cursor('(a b c d)', false, limits).list((l) => l.atom()), ImapBad);
    const many = cursor(`(${Array(200).fill('a').join(' ')})`, false, imapLimits(1000, { maxTokens: 100 }));
    assert.throws(() => many.list((l) => l.atom()), /too many tokens/);
  });

  it('rejects NUL and * in odd places', () => {
    bad('a\x00', (c) => c.astring());
    bad('*', (c) => c.astring());
    bad('*', (c) => c.number());
    bad('(*)', (c) => c.list((l) => l.atom()));
  });
});
