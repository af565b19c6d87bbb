import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateSearch, hasModseq } from './evaluate.ts';
import { command, crlf, type Fixture, fixture } from './test-fixtures.ts';

const ALICE = crlf([
  'From: Alice Example <alice@example.com>',
  'To: Bob <bob@example.org>',
  'Cc: carol@example.org',
  'Subject: Quarterly report',
  'Date: Tue, 01 Jul 2025 23:30:00 -0500',
  'Message-ID: <q1@example.com>',
  '',
  'The numbers look good this quarter.',
]);

const JURGEN = crlf([
  'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>',
  'To: alice@example.com',
  'Bcc: Secret Keeper <secret@example.net>',
  'Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgQmVybGlu?=',
  'X-Priority: 1',
  'Date: Wed, 09 Jul 2025 08:00:00 +0200',
  'MIME-Version: 1.0',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Hello <b>world</b>, caf&#233; time</p>',
]);

const NO_DATE = crlf([
  'From: Dave <dave@example.com>',
  'To: alice@example.com',
  'Subject: Re: Quarterly report',
  '',
  'punctuation !!! here, and the word numbers too',
]);

const sizes: [number, number][] = [
  [1, ALICE.length],
  [2, Buffer.byteLength(JURGEN)],
  [5, NO_DATE.length],
];

function mailbox(): Fixture {
  return fixture([
    { uid: 1, raw: ALICE, flags: ['\\Seen'], internalDate: '2025-07-02T10:00:00Z', modseq: 10 },
    {
      uid: 2,
      raw: JURGEN,
      flags: ['\\Flagged', '$Important'],
      internalDate: '2025-07-09T06:00:00Z',
      modseq: 30,
      threadId: 'thrX',
    },
    {
      uid: 5,
      raw: NO_DATE,
      flags: ['\\Deleted', '\\Seen'],
      internalDate: '2025-07-31T23:00:00Z',
      modseq: 20,
    },
  ]);
}

async function search(f: Fixture, criteria: string): Promise<number[]> {
  return evaluateSearch(f.env, command(`a SEARCH ${criteria}`, 'SEARCH').key);
}

describe('search: keys the view answers (nothing is loaded)', () => {
  const cases: [string, number[]][] = [
    ['ALL', [1, 2, 5]],
    ['SEEN', [1, 5]],
    ['UNSEEN', [2]],
    ['FLAGGED', [2]],
    ['UNFLAGGED', [1, 5]],
    ['DELETED', [5]],
    ['UNDELETED', [1, 2]],
    ['ANSWERED', []],
    ['UNANSWERED', [1, 2, 5]],
    ['DRAFT', []],
    ['UNDRAFT', [1, 2, 5]],
    ['KEYWORD $important', [2]], // keywords compare case-insensitively
    ['UNKEYWORD $Important', [1, 5]],
    ['RECENT', []], // \Recent is not tracked
    ['NEW', []],
    ['OLD', [1, 2, 5]],
    ['NOT SEEN', [2]],
    ['OR SEEN FLAGGED', [1, 2, 5]],
    ['SEEN UNDELETED', [1]],
    ['(OR DELETED FLAGGED) NOT KEYWORD $Important', [5]],
    ['BEFORE 9-Jul-2025', [1]],
    ['ON 9-Jul-2025', [2]],
    ['SINCE 9-Jul-2025', [2, 5]],
    ['ON 31-Jul-2025', [5]],
    ['OLDER 86400', [1, 2]], // now is 2025-08-01T00:00Z
    ['YOUNGER 86400', [5]],
    ['LARGER 10000', []],
    [`SMALLER ${ALICE.length + 1}`, sizes.filter(([, n]) => n <= ALICE.length).map(([u]) => u)],
    [`LARGER ${ALICE.length}`, sizes.filter(([, n]) => n > ALICE.length).map(([u]) => u)],
    ['UID 2:*', [2, 5]],
    ['UID 3:4', []],
    ['UID *', [5]],
    ['2:*', [2, 5]],
    ['1,3', [1, 5]],
    ['10:20', []], // past the end: matches nothing rather than failing
    ['MODSEQ 20', [2, 5]],
    ['MODSEQ 31', []],
    ['EMAILID msg2', [2]],
    ['THREADID thrX', [2]],
    ['THREADID nope', []],
  ];
  for (const [criteria, want] of cases) {
    it(criteria, async () => {
      const f = mailbox();
      assert.deepEqual(await search(f, criteria), want);
      assert.deepEqual(f.loaded, [], 'no message was loaded');
      assert.deepEqual(f.indexQueries, []);
    });
  }

  it('$ is the saved result, limited to messages still in the view', async () => {
    const f = mailbox();
    f.view.searchResult = [2, 5, 7];
    assert.deepEqual(await search(f, '$'), [2, 5]);
    assert.deepEqual(await search(f, 'UID $'), [2, 5]);
    assert.deepEqual(await search(f, 'NOT $'), [1]);
  });

  it('decides cheap keys first: a content key is read only for messages still in question', async () => {
    const f = mailbox();
    assert.deepEqual(await search(f, 'FLAGGED FROM "jürgen"'), [2]);
    assert.deepEqual(f.loaded, [2]);
    const g = mailbox();
    assert.deepEqual(await search(g, 'OR SEEN SUBJECT berlin'), [1, 2, 5]);
    assert.deepEqual(g.loaded, [2]);
  });
});

describe('search: a large mailbox', () => {
  it('a flag search over 10,000 messages reads no message and asks no index', async () => {
    const messages = Array.from({ length: 10_000 }, (_, i) => ({
      uid: i + 1,
      raw: ALICE,
      flags: i % 1000 === 0 ? ['\\Flagged'] : ['\\Seen'],
    }));
    const f = fixture(messages);
    const started = performance.now();
    const got = await search(f, 'OR FLAGGED (UNSEEN SUBJECT x) NOT SEEN');
    assert.deepEqual(got, [1, 1001, 2001, 3001, 4001, 5001, 6001, 7001, 8001, 9001]);
    assert.deepEqual(f.loaded, []);
    assert.deepEqual(f.indexQueries, []);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('search: header keys (case-insensitive substrings of decoded values)', () => {
  const cases: [string, number[]][] = [
    ['FROM alice', [1]],
    ['FROM "ALICE EXAMPLE"', [1]],
    ['FROM "jürgen müller"', [2]],
    ['FROM "<juergen@example.de>"', [2]],
    ['TO alice@example.com', [2, 5]],
    ['TO bob', [1]],
    ['CC carol', [1]],
    ['CC bob', []],
    ['BCC secret', [2]],
    ['BCC "secret keeper"', [2]],
    ['SUBJECT quarterly', [1, 5]],
    ['SUBJECT "RE: QUARTERLY"', [5]],
    ['SUBJECT "GRÜßE"', [2]],
    ['SUBJECT ""', [1, 2, 5]],
    ['HEADER X-Priority 1', [2]],
    ['HEADER X-PRIORITY ""', [2]], // has the field
    ['HEADER Subject berlin', [2]], // encoded words decoded
    ['HEADER Message-ID q1@example', [1]],
    ['HEADER X-Missing ""', []],
    ['SENTON 1-Jul-2025', [1]], // the date as written, not its UTC day (2 Jul)
    ['SENTBEFORE 9-Jul-2025', [1]],
    ['SENTSINCE 9-Jul-2025', [2]], // no Date: field: no SENT* match
    ['NOT SENTON 1-Jul-2025', [2, 5]],
  ];
  for (const [criteria, want] of cases) {
    it(criteria, async () => {
      assert.deepEqual(await search(mailbox(), criteria), want);
    });
  }
});

describe('search: BODY and TEXT through the blind index', () => {
  it('matches whole words of the body, confirmed after the index', async () => {
    const f = mailbox();
    assert.deepEqual(await search(f, 'BODY numbers'), [1, 5]);
    assert.deepEqual(f.indexQueries, [['numbers']]);
    assert.deepEqual(f.loaded, [1, 5]);
  });

  it('does not match part of a word', async () => {
    assert.deepEqual(await search(mailbox(), 'BODY numb'), []);
  });

  it('needs every word of the query, in any order, case- and accent-insensitively', async () => {
    assert.deepEqual(await search(mailbox(), 'BODY "quarter GOOD"'), [1]);
    assert.deepEqual(await search(mailbox(), 'BODY "WORLD cafe"'), [2]); // HTML text, entity decoded
    assert.deepEqual(await search(mailbox(), 'BODY "world numbers"'), []);
  });

  it('loads only the index candidates, and none when the index has none', async () => {
    const f = mailbox();
    assert.deepEqual(await search(f, 'BODY world'), [2]);
    assert.deepEqual(f.loaded, [2]);
    const g = mailbox();
    assert.deepEqual(await search(g, 'BODY zebra'), []);
    assert.deepEqual(g.loaded, []);
  });

  it('asks the index only when the cheap keys leave something open', async () => {
    const f = mailbox();
    assert.deepEqual(await search(f, 'ANSWERED BODY numbers'), []);
    assert.deepEqual(f.indexQueries, []);
    const g = mailbox();
    assert.deepEqual(await search(g, 'UNSEEN TEXT world'), [2]);
    assert.deepEqual(g.loaded, [2]);
  });

  it('BODY is the text parts only; TEXT also covers Subject, From, To and Cc', async () => {
    assert.deepEqual(await search(mailbox(), 'BODY alice'), []);
    assert.deepEqual(await search(mailbox(), 'TEXT alice'), [1, 2, 5]);
    assert.deepEqual(await search(mailbox(), 'TEXT berlin'), [2]);
    assert.deepEqual(await search(mailbox(), 'TEXT "quarterly numbers"'), [1, 5]);
  });

  it('a query without any word falls back to a substring scan', async () => {
    const f = mailbox();
    assert.deepEqual(await search(f, 'BODY "!!!"'), [5]);
    assert.deepEqual(f.indexQueries, []);
    assert.deepEqual(f.loaded, [1, 2, 5]);
  });

  it('combines with NOT and OR', async () => {
    assert.deepEqual(await search(mailbox(), 'NOT BODY numbers'), [2]);
    assert.deepEqual(await search(mailbox(), 'OR BODY world FROM dave'), [2, 5]);
  });

  it('a message expunged before it could be read does not match', async () => {
    const f = mailbox();
    const load = f.env.load;
    const env = {
      ...f.env,
      load: (uids: readonly number[]) => load(uids.filter((u) => u !== 5)),
    };
    assert.deepEqual(await evaluateSearch(env, command('a SEARCH BODY numbers', 'SEARCH').key), [1]);
  });
});

describe('hasModseq', () => {
  it('finds a MODSEQ criterion at any depth', () => {
    const key = (s: string) => command(`a SEARCH ${s}`, 'SEARCH').key;
    assert.equal(hasModseq(key('MODSEQ 5')), true);
    assert.equal(hasModseq(key('SEEN (OR FLAGGED NOT MODSEQ 5)')), true);
    assert.equal(hasModseq(key('SEEN FLAGGED')), false);
  });
});
