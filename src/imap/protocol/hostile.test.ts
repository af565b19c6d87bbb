import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from './grammar.ts';
import { parse, parsed, testLimits } from './test-helpers.ts';

// Valid commands of every family; the mutations below must never reach the
// grammar's catch-all ("Invalid command"), which would mean a parse function
// threw something other than ImapBad.
const CORPUS = [
  't UID FETCH 1:*,7 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BINARY[1]) (CHANGEDSINCE 5 VANISHED)',
  't FETCH 2 FULL',
  't STORE 1 (UNCHANGEDSINCE 3) +FLAGS.SILENT (\\Seen $Junk)',
  't UID MOVE 1:5 "Archive"',
  't SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FROM a SINCE 1-Jan-2024) NOT MODSEQ "/flags/\\\\Seen" all 4 UID $',
  't UID SORT RETURN (ALL) (REVERSE DATE DISPLAYFROM) UTF-8 HEADER X-A b LARGER 10 OLDER 5 EMAILID abc',
  't THREAD REFERENCES US-ASCII 1:3 NOT DELETED',
  't SETQUOTA "" (STORAGE 1 MESSAGE 2)',
  't CREATE a (USE (\\Sent))',
  't LIST (SUBSCRIBED RECURSIVEMATCH) "" ("a" b) RETURN (CHILDREN STATUS (MESSAGES))',
  't APPEND x (\\Seen) "01-Jan-2024 00:00:00 +0000" {1+}\r\na {1+}\r\nb',
];

function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('IMAP grammar: hostile input across command families', () => {
  it('the corpus parses, and mixed-case keywords are fine', () => {
    for (const s of CORPUS) parsed(s);
    const r = parsed('t uId SeArCh ReTuRn (mIn) cHaRsEt us-ascii nOt SeEn');
    assert.ok(r.name === 'UID SEARCH' && r.charset === 'US-ASCII' && r.returns?.[0] === 'MIN');
    assert.equal(parsed('t Uid Store 1 +Flags.Silent (\\SEEN)').name, 'UID STORE');
  });

  it('truncations and byte substitutions give ImapBad, never an internal error', () => {
    const next = rng(1);
    const noise = [
      '(',
      ')',
      ' ',
      '"',
      '\\',
      '[',
      ']',
      '<',
      '>',
      '.',
      '0',
      '9',
      '*',
      '$',
      ':',
      ',',
      '{',
      '}',
      'x',
      '~',
    ];
    for (const s of CORPUS) {
      const line = s.split('\r\n')[0] ?? s;
      for (let cut = 4; cut < line.length; cut++) {
        const r = parseCommand([line.slice(0, cut)], { limits: testLimits, utf8: false });
        if (!r.ok) assert.notEqual(r.error.message, 'Invalid command', line.slice(0, cut));
      }
      for (let i = 0; i < 300; i++) {
        const at = 2 + Math.floor(next() * (line.length - 2));
        const mutated = line.slice(0, at) + noise[Math.floor(next() * noise.length)] + line.slice(at + 1);
        if (/\{[0-9]*\+?\}$/.test(mutated)) continue; // a literal marker: framing territory
        const r = parse(mutated);
        if (!r.ok) assert.notEqual(r.error.message, 'Invalid command', mutated);
      }
    }
  });
});
