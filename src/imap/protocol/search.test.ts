import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from './commands.ts';
import type { SearchKey } from './fetch-types.ts';
import { parseCommand } from './grammar.ts';
import { frame, parsed, rejected, testLimits } from './test-helpers.ts';

function searched(raw: string, utf8 = false): Extract<Command, { name: 'SEARCH' | 'UID SEARCH' }> {
  const c = parsed(raw, utf8);
  assert.ok(c.name === 'SEARCH' || c.name === 'UID SEARCH', raw);
  return c;
}
const key = (criteria: string): SearchKey => searched(`t SEARCH ${criteria}`).key;
const set = (from: number | '*', to = from) => ({ kind: 'ranges', ranges: [{ from, to }] });

describe('IMAP SEARCH keys (RFC 9051 §6.4.4, RFC 3501)', () => {
  it('keys without arguments, IMAP4rev1 ones included, case-insensitive', () => {
    for (const k of [
      'all',
      'answered',
      'deleted',
      'draft',
      'flagged',
      'seen',
      'recent',
      'new',
      'old',
      'unanswered',
      'undeleted',
      'undraft',
      'unflagged',
      'unseen',
    ]) {
      assert.deepEqual(key(k.toUpperCase()), { kind: k });
      assert.deepEqual(key(k), { kind: k });
    }
  });

  it('keys with arguments', () => {
    assert.deepEqual(key('FROM alice'), { kind: 'from', value: 'alice' });
    assert.deepEqual(key('subject "hello world"'), { kind: 'subject', value: 'hello world' });
    for (const k of ['bcc', 'body', 'cc', 'text', 'to'])
      assert.deepEqual(key(`${k} x`), { kind: k, value: 'x' });
    assert.deepEqual(key('TEXT {5+}\r\nhi "x'), { kind: 'text', value: 'hi "x' });
    assert.deepEqual(key('HEADER Message-ID "<a@b>"'), {
      kind: 'header',
      field: 'message-id',
      value: '<a@b>',
    });
    assert.deepEqual(key('HEADER X-Spam ""'), { kind: 'header', field: 'x-spam', value: '' });
    assert.deepEqual(key('KEYWORD $Forwarded'), { kind: 'keyword', flag: '$Forwarded' });
    assert.deepEqual(key('UNKEYWORD junk'), { kind: 'unkeyword', flag: 'junk' });
    assert.deepEqual(key('SINCE 1-Feb-1994'), { kind: 'since', date: Date.UTC(1994, 1, 1) });
    assert.deepEqual(key('before "30-Nov-2024"'), { kind: 'before', date: Date.UTC(2024, 10, 30) });
    for (const k of ['on', 'sentbefore', 'senton', 'sentsince'])
      assert.deepEqual(key(`${k} 01-Jan-2000`), { kind: k, date: Date.UTC(2000, 0, 1) });
    assert.deepEqual(key('LARGER 9007199254740991'), { kind: 'larger', size: 2 ** 53 - 1 });
    assert.deepEqual(key('SMALLER 0'), { kind: 'smaller', size: 0 });
    assert.deepEqual(key('OLDER 3600'), { kind: 'older', seconds: 3600 });
    assert.deepEqual(key('YOUNGER 1'), { kind: 'younger', seconds: 1 });
    assert.deepEqual(key('UID 1:*'), { kind: 'uid', set: set(1, '*') });
    assert.deepEqual(key('UID $'), { kind: 'uid', set: { kind: 'searchres' } });
    assert.deepEqual(key('EMAILID M6d99ac3275bb4e'), { kind: 'emailid', id: 'M6d99ac3275bb4e' });
    assert.deepEqual(key('THREADID T64b478a75b7ea9_-'), { kind: 'threadid', id: 'T64b478a75b7ea9_-' });
  });

  it('sequence sets and $ as keys', () => {
    assert.deepEqual(key('1:3'), { kind: 'seq', set: set(1, 3) });
    assert.deepEqual(key('*'), { kind: 'seq', set: set('*') });
    assert.deepEqual(key('$'), { kind: 'seq', set: { kind: 'searchres' } });
    assert.deepEqual(key('$ SEEN'), {
      kind: 'and',
      keys: [{ kind: 'seq', set: { kind: 'searchres' } }, { kind: 'seen' }],
    });
  });

  it('MODSEQ with and without entry name/type (RFC 7162 §3.1.5)', () => {
    assert.deepEqual(key('MODSEQ 20010320162338'), { kind: 'modseq', modseq: 20010320162338n });
    assert.deepEqual(key('MODSEQ "/flags/\\\\draft" all 620162338'), { kind: 'modseq', modseq: 620162338n });
    assert.deepEqual(key('MODSEQ "/flags/$Junk" priv 0'), { kind: 'modseq', modseq: 0n });
    for (const s of [
      'MODSEQ "/flags/" all 1',
      'MODSEQ "/other/x" all 1',
      'MODSEQ "/flags/\\\\Seen" both 1',
      'MODSEQ "/flags/\\\\Seen" 1',
      'MODSEQ 9223372036854775808',
      'MODSEQ',
    ])
      rejected(`t SEARCH ${s}`);
  });

  it('NOT, OR, groups; several keys are an AND; a group of one is its key', () => {
    assert.deepEqual(key('NOT SEEN'), { kind: 'not', key: { kind: 'seen' } });
    assert.deepEqual(key('OR FROM a (TO b CC c)'), {
      kind: 'or',
      a: { kind: 'from', value: 'a' },
      b: {
        kind: 'and',
        keys: [
          { kind: 'to', value: 'b' },
          { kind: 'cc', value: 'c' },
        ],
      },
    });
    assert.deepEqual(key('(SEEN)'), { kind: 'seen' });
    assert.deepEqual(key('DELETED NOT OR 1 2'), {
      kind: 'and',
      keys: [
        { kind: 'deleted' },
        {
          kind: 'not',
          key: { kind: 'or', a: { kind: 'seq', set: set(1) }, b: { kind: 'seq', set: set(2) } },
        },
      ],
    });
  });

  it('CHARSET: UTF-8 and US-ASCII accepted, anything else NO [BADCHARSET (UTF-8 US-ASCII)]', () => {
    const r = searched(
      't SEARCH CHARSET utf-8 SUBJECT {6+}\r\nGrüße'.replace('{6+}', `{${Buffer.byteLength('Grüße')}+}`),
    );
    assert.equal(r.charset, 'UTF-8');
    assert.deepEqual(r.key, { kind: 'subject', value: 'Grüße' });
    assert.equal(searched('t SEARCH CHARSET "US-ASCII" ALL').charset, 'US-ASCII');
    assert.equal(searched('t SEARCH ALL').charset, undefined);
    for (const s of [
      't SEARCH CHARSET ISO-8859-1 ALL',
      't SEARCH CHARSET "KOI8-R" ALL',
      't SORT (DATE) ISO-8859-1 ALL',
    ]) {
      const e = rejected(s);
      assert.equal(e.responseCode, 'BADCHARSET', s);
      assert.equal(e.codeText, 'BADCHARSET (UTF-8 US-ASCII)');
      assert.equal(e.status, 'NO');
    }
    // a latin-1 literal after an unsupported charset is BADCHARSET, not "invalid UTF-8"
    const latin1 = parseCommand(
      ['t SEARCH CHARSET ISO-8859-1 SUBJECT {2}', { data: Buffer.from([0xe9, 0xe9]), binary: false }, ''],
      { limits: testLimits, utf8: false },
    );
    assert.ok(!latin1.ok && latin1.error.responseCode === 'BADCHARSET');
    rejected('t SEARCH CHARSET ALL');
    rejected('t SEARCH CHARSET UTF-8');
  });

  it('8-bit quoted strings only in UTF-8 mode', () => {
    assert.deepEqual(searched('t SEARCH SUBJECT "Grüße"', true).key, { kind: 'subject', value: 'Grüße' });
    rejected('t SEARCH SUBJECT "Grüße"');
  });

  it('RETURN options (RFC 4731, RFC 5182 SAVE)', () => {
    assert.deepEqual(searched('t SEARCH RETURN (MIN max COUNT ALL SAVE) UNSEEN').returns, [
      'MIN',
      'MAX',
      'COUNT',
      'ALL',
      'SAVE',
    ]);
    assert.deepEqual(searched('t UID SEARCH return () ALL').returns, ['ALL'], 'RETURN () means ALL');
    assert.deepEqual(searched('t SEARCH RETURN (MIN MIN) ALL').returns, ['MIN']);
    assert.equal(searched('t SEARCH ALL').returns, undefined);
    const full = searched('t UID SEARCH RETURN (SAVE) CHARSET UTF-8 UID 1:5');
    assert.deepEqual([full.name, full.returns, full.charset], ['UID SEARCH', ['SAVE'], 'UTF-8']);
    rejected('t SEARCH RETURN (PARTIAL 1:10) ALL');
    rejected('t SEARCH RETURN ALL');
    rejected('t SEARCH RETURN (MIN)');
    rejected('t SEARCH ALL RETURN (MIN)');
  });

  it('hostile input', () => {
    for (const s of [
      't SEARCH',
      't SEARCH ',
      't SEARCH FOO',
      't SEARCH OR SEEN',
      't SEARCH OR',
      't SEARCH NOT',
      't SEARCH ()',
      't SEARCH (SEEN',
      't SEARCH SEEN)',
      't SEARCH SEEN  DELETED',
      't SEARCH SINCE 31-Feb-2024',
      't SEARCH SINCE 2024-01-01',
      't SEARCH SINCE {11+}\r\n01-Jan-2024',
      't SEARCH LARGER -1',
      't SEARCH LARGER 9007199254740992',
      't SEARCH OLDER 0',
      't SEARCH UID 0',
      't SEARCH 4294967296',
      't SEARCH KEYWORD \\Seen',
      't SEARCH KEYWORD "x"',
      't SEARCH HEADER Subject',
      't SEARCH EMAILID',
      `t SEARCH EMAILID ${'a'.repeat(256)}`,
      't SEARCH EMAILID a.b',
      't SEARCH FROM "\x00"',
      't SEARCH ALL\r',
    ])
      rejected(s);
    assert.match(rejected('t SEARCH FROBNICATE').message, /Unknown search key/);
    assert.ok(searched(`t SEARCH EMAILID ${'a'.repeat(255)}`));
  });

  it('bounds recursion: NOT chains, OR chains, nested groups (maxListDepth)', () => {
    const deepNot = `t SEARCH ${'NOT '.repeat(10_000)}SEEN`;
    assert.equal(rejected(deepNot).responseCode, 'TOOBIG');
    const deepOr = `t SEARCH ${'OR SEEN '.repeat(1000)}SEEN`;
    assert.equal(rejected(deepOr).responseCode, 'TOOBIG');
    const deepLeftOr = `t SEARCH ${'OR '.repeat(1000)}${'SEEN '.repeat(1001).trim()}`;
    assert.equal(rejected(deepLeftOr).responseCode, 'TOOBIG');
    assert.equal(rejected(`t SEARCH ${'('.repeat(100)}SEEN${')'.repeat(100)}`).responseCode, 'TOOBIG');
    assert.equal(rejected(`t SEARCH ${'NOT ('.repeat(10)}SEEN${')'.repeat(10)}`).responseCode, 'TOOBIG');
    let nested: SearchKey = key(`${'NOT '.repeat(16)}SEEN`);
    for (let i = 0; i < 16; i++) {
      assert.equal(nested.kind, 'not');
      if (nested.kind === 'not') nested = nested.key;
    }
    assert.deepEqual(nested, { kind: 'seen' }, 'exactly maxListDepth levels are fine');
    assert.equal(rejected(`t SEARCH ${'NOT '.repeat(17)}SEEN`).responseCode, 'TOOBIG');
    assert.ok(
      frame(deepNot).length === 1,
      'the NOT chain fits in one line: the grammar, not the framing, refuses it',
    );
  });
});

describe('IMAP SORT and THREAD (RFC 5256, RFC 5957, RFC 5267)', () => {
  it('SORT with REVERSE, DISPLAYFROM/DISPLAYTO, charset and criteria', () => {
    assert.deepEqual(
      parsed('t UID SORT (REVERSE ARRIVAL displayfrom DISPLAYTO subject) UTF-8 SINCE 1-Jan-2024 SEEN'),
      {
        name: 'UID SORT',
        returns: undefined,
        sort: [
          { key: 'ARRIVAL', reverse: true },
          { key: 'DISPLAYFROM', reverse: false },
          { key: 'DISPLAYTO', reverse: false },
          { key: 'SUBJECT', reverse: false },
        ],
        charset: 'UTF-8',
        key: { kind: 'and', keys: [{ kind: 'since', date: Date.UTC(2024, 0, 1) }, { kind: 'seen' }] },
      },
    );
    const e = parsed('t SORT RETURN (MIN COUNT) (DATE) US-ASCII ALL');
    assert.ok(e.name === 'SORT');
    assert.deepEqual(e.returns, ['MIN', 'COUNT']);
    for (const s of [
      't SORT () UTF-8 ALL',
      't SORT (DATE) ALL',
      't SORT (DATE) UTF-8',
      't SORT (REVERSE) UTF-8 ALL',
      't SORT (REVERSE REVERSE DATE) UTF-8 ALL',
      't SORT (FOO) UTF-8 ALL',
      't SORT DATE UTF-8 ALL',
      't SORT (DATE) CHARSET UTF-8 ALL',
    ])
      rejected(s);
  });

  it('THREAD with REFERENCES or ORDEREDSUBJECT', () => {
    assert.deepEqual(parsed('t THREAD references UTF-8 ALL'), {
      name: 'THREAD',
      algorithm: 'REFERENCES',
      charset: 'UTF-8',
      key: { kind: 'all' },
    });
    const u = parsed('t UID THREAD ORDEREDSUBJECT US-ASCII NOT DELETED');
    assert.ok(u.name === 'UID THREAD' && u.algorithm === 'ORDEREDSUBJECT');
    for (const s of [
      't THREAD REFS UTF-8 ALL',
      't THREAD REFERENCES ALL',
      't THREAD REFERENCES UTF-8',
      't THREAD',
    ])
      rejected(s);
    assert.equal(rejected('t THREAD REFERENCES KOI8-R ALL').responseCode, 'BADCHARSET');
  });
});
