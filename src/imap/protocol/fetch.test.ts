import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from './commands.ts';
import type { FetchAttribute } from './fetch-types.ts';
import { parsed, rejected } from './test-helpers.ts';

function fetched(raw: string): Extract<Command, { name: 'FETCH' | 'UID FETCH' }> {
  const c = parsed(raw);
  assert.ok(c.name === 'FETCH' || c.name === 'UID FETCH', raw);
  return c;
}
const kinds = (raw: string): string[] => fetched(raw).attributes.map((a) => a.kind);
const one = (raw: string): FetchAttribute | undefined => fetched(raw).attributes[0];

describe('IMAP FETCH', () => {
  it('a single attribute or a list; sequence sets; case-insensitive', () => {
    assert.deepEqual(parsed('t FETCH 1:3,5 flags'), {
      name: 'FETCH',
      set: {
        kind: 'ranges',
        ranges: [
          { from: 1, to: 3 },
          { from: 5, to: 5 },
        ],
      },
      attributes: [{ kind: 'FLAGS' }],
      modifiers: { changedSince: undefined, vanished: false },
    });
    assert.deepEqual(kinds('t fetch * (uid Flags INTERNALDATE rfc822.size ENVELOPE BODYSTRUCTURE BODY)'), [
      'UID',
      'FLAGS',
      'INTERNALDATE',
      'RFC822.SIZE',
      'ENVELOPE',
      'BODYSTRUCTURE',
      'BODY',
    ]);
    assert.deepEqual(kinds('t FETCH 1 (MODSEQ EMAILID THREADID RFC822 RFC822.HEADER RFC822.TEXT)'), [
      'MODSEQ',
      'EMAILID',
      'THREADID',
      'RFC822',
      'RFC822.HEADER',
      'RFC822.TEXT',
    ]);
    assert.deepEqual(fetched('t FETCH $ FLAGS').set, { kind: 'searchres' });
  });

  it('expands the macros ALL, FAST, FULL (RFC 9051 §6.4.5), only outside a list', () => {
    assert.deepEqual(kinds('t FETCH 1 ALL'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
    assert.deepEqual(kinds('t FETCH 1 fast'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
    assert.deepEqual(kinds('t FETCH 1 FULL'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
    rejected('t FETCH 1 (ALL)');
    rejected('t FETCH 1 (FLAGS FAST)');
  });

  it('BODY[section]<partial>, BODY.PEEK, BINARY, BINARY.PEEK, BINARY.SIZE', () => {
    assert.deepEqual(one('t FETCH 1 BODY[]'), {
      kind: 'BODY[]',
      section: { part: [], text: undefined },
      partial: undefined,
      peek: false,
    });
    assert.deepEqual(one('t FETCH 1 (body.peek[1.2.HEADER.FIELDS (From Subject)]<0.2048>)'), {
      kind: 'BODY[]',
      section: { part: [1, 2], text: { kind: 'header.fields', not: false, fields: ['from', 'subject'] } },
      partial: { offset: 0, length: 2048 },
      peek: true,
    });
    assert.deepEqual(one('t FETCH 1 BINARY.PEEK[1.2]<10.20>'), {
      kind: 'BINARY[]',
      part: [1, 2],
      partial: { offset: 10, length: 20 },
      peek: true,
    });
    assert.deepEqual(one('t FETCH 1 binary[]'), {
      kind: 'BINARY[]',
      part: [],
      partial: undefined,
      peek: false,
    });
    assert.deepEqual(one('t FETCH 1 BINARY.SIZE[3]'), {
      kind: 'BINARY.SIZE[]',
      part: [3],
      partial: undefined,
      peek: true,
    });
    assert.deepEqual(kinds('t FETCH 1 (BODY BODY[TEXT] BODY.PEEK[HEADER])'), ['BODY', 'BODY[]', 'BODY[]']);
  });

  it('drops duplicates; UID FETCH always has UID, CHANGEDSINCE always MODSEQ', () => {
    assert.deepEqual(kinds('t FETCH 1 (FLAGS FLAGS BODY[1] BODY[1] BODY[2])'), ['FLAGS', 'BODY[]', 'BODY[]']);
    assert.deepEqual(kinds('t UID FETCH 1:* FLAGS'), ['UID', 'FLAGS']);
    assert.deepEqual(kinds('t uid fetch 1:* (FLAGS UID)'), ['UID', 'FLAGS']);
    assert.deepEqual(kinds('t FETCH 1 (FLAGS) (CHANGEDSINCE 12345)'), ['FLAGS', 'MODSEQ']);
    assert.deepEqual(kinds('t FETCH 1 (MODSEQ FLAGS) (CHANGEDSINCE 1)'), ['MODSEQ', 'FLAGS']);
  });

  it('CHANGEDSINCE and VANISHED modifiers (RFC 7162)', () => {
    assert.deepEqual(fetched('t UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)').modifiers, {
      changedSince: 12345n,
      vanished: true,
    });
    assert.deepEqual(fetched('t FETCH 1 FLAGS (changedsince 9223372036854775807)').modifiers, {
      changedSince: 2n ** 63n - 1n,
      vanished: false,
    });
    assert.match(rejected('t UID FETCH 1 FLAGS (VANISHED)').message, /CHANGEDSINCE/);
    assert.match(rejected('t FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)').message, /UID FETCH/);
    for (const s of [
      't FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)',
      't FETCH 1 FLAGS (CHANGEDSINCE)',
      't FETCH 1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)',
      't UID FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED VANISHED)',
      't FETCH 1 FLAGS ()',
      't FETCH 1 FLAGS (FOO)',
      't FETCH 1 FLAGS  (CHANGEDSINCE 1)',
    ])
      rejected(s);
  });

  it('hostile input', () => {
    for (const s of [
      't FETCH 1 FOO',
      't FETCH 1 (FLAGS FOO)',
      't FETCH 1 BODY.PEEK',
      't FETCH 1 BINARY',
      't FETCH 1 BINARY.SIZE',
      't FETCH 1 BINARY.SIZE[1]<0.10>',
      't FETCH 1 BINARY[1.HEADER]',
      't FETCH 1 BODY [1]',
      't FETCH 1 BODY[1]<0.0>',
      't FETCH 1 BODY[]<0>',
      't FETCH 1 ()',
      't FETCH 1',
      't FETCH FLAGS',
      't FETCH 0 FLAGS',
      't FETCH 4294967296 FLAGS',
      't FETCH 1:0 FLAGS',
      't FETCH 1 (FLAGS',
      't FETCH 1 FLAGS)',
      't FETCH 1 ((FLAGS))',
      't FETCH 1 RFC822.PEEK',
    ])
      rejected(s);
    const single = fetched('t FETCH 1:4294967295 FLAGS').set;
    assert.ok(single.kind === 'ranges' && single.ranges.length === 1);
    assert.equal(rejected(`t FETCH ${Array(10_001).fill('1').join(',')} FLAGS`).responseCode, 'TOOBIG');
    assert.equal(rejected(`t FETCH 1 BODY[${Array(33).fill('1').join('.')}]`).responseCode, 'TOOBIG');
    assert.equal(rejected(`t FETCH 1 BINARY[${Array(33).fill('1').join('.')}]`).responseCode, 'TOOBIG');
    assert.deepEqual(
      one(`t FETCH 1 BODY[${Array(32).fill('2').join('.')}]`),
      {
        kind: 'BODY[]',
        section: { part: Array(32).fill(2), text: undefined },
        partial: undefined,
        peek: false,
      },
      'exactly maxSectionDepth parts is fine',
    );
  });
});
