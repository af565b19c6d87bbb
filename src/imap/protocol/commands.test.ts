import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from './commands.ts';
import { type ParseResult, parseCommand } from './grammar.ts';
import { frame, testLimits } from './test-helpers.ts';
import { Cursor } from './tokens.ts';

const parse = (raw: string, utf8 = false): ParseResult =>
  parseCommand(frame(raw), { limits: testLimits, utf8 });
function ok(raw: string, utf8 = false): Command {
  const r = parse(raw, utf8);
  if (!r.ok) assert.fail(`${raw}: ${r.error.message}`);
  return r.command;
}
function bad(raw: string): string | undefined {
  const r = parse(raw);
  assert.equal(r.ok, false, raw);
  return r.ok ? undefined : r.tag;
}

describe('IMAP command head', () => {
  it('reads tag and name, case-insensitively', () => {
    const r = parse('a1 noop');
    assert.deepEqual(r, { ok: true, tag: 'a1', command: { name: 'NOOP' } });
    assert.deepEqual(ok('x uid expunge 1:*'), {
      name: 'UID EXPUNGE',
      uids: { kind: 'ranges', ranges: [{ from: 1, to: '*' }] },
    });
  });

  it('reports the tag when the rest is bad, and no tag when the tag is bad', () => {
    assert.equal(bad('a1 FROB'), 'a1');
    assert.equal(bad('a1 NOOP extra'), 'a1');
    assert.equal(bad('a1  NOOP'), 'a1');
    assert.equal(bad('a1'), 'a1');
    for (const t of ['+a NOOP', '* NOOP', 'a(b NOOP', 'a"b NOOP', 'a{b NOOP', 'a%b NOOP', ' NOOP', '']) {
      assert.equal(bad(t), undefined, t);
    }
    assert.equal(parse('a]b NOOP').ok, true, 'resp-specials are ASTRING-CHARs');
  });

  it('never throws, whatever the input', () => {
    const r = parseCommand(['a SELECT {1}'], { limits: testLimits, utf8: false });
    assert.equal(r.ok, false);
    assert.throws(() => new Cursor([], { limits: testLimits, utf8: false }));
    for (const s of [
      'a NOOP\r',
      'a SELECT *',
      'a UID EXPUNGE *:*:*',
      'a RENAME * x',
      'a SELECT "\x00"',
      'a LOGIN \x00 x',
      'a\x00 NOOP',
      'a LIST (((( "" *',
    ])
      assert.equal(parse(s).ok, false, s);
  });
});

describe('IMAP simple commands', () => {
  it('argument-less commands', () => {
    for (const n of [
      'CAPABILITY',
      'NOOP',
      'LOGOUT',
      'STARTTLS',
      'IDLE',
      'CLOSE',
      'UNSELECT',
      'CHECK',
      'EXPUNGE',
      'NAMESPACE',
    ]) {
      assert.deepEqual(ok(`t ${n}`), { name: n });
      bad(`t ${n} x`);
    }
  });

  it('LOGIN with atoms, quoted strings and literals', () => {
    assert.deepEqual(ok('t LOGIN bob "p w\\"d"'), { name: 'LOGIN', user: 'bob', password: 'p w"d' });
    assert.deepEqual(ok('t LOGIN {3+}\r\nbob {2+}\r\npw'), { name: 'LOGIN', user: 'bob', password: 'pw' });
    bad('t LOGIN bob');
    bad('t LOGIN bob pw x');
  });

  it('AUTHENTICATE with and without SASL-IR', () => {
    assert.deepEqual(ok('t AUTHENTICATE plain'), {
      name: 'AUTHENTICATE',
      mechanism: 'PLAIN',
      initialResponse: undefined,
    });
    const r = ok('t AUTHENTICATE PLAIN AGJvYgBwdw==');
    assert.ok(r.name === 'AUTHENTICATE' && r.initialResponse?.toString('latin1') === '\0bob\0pw');
    const e = ok('t AUTHENTICATE EXTERNAL =');
    assert.ok(e.name === 'AUTHENTICATE' && e.initialResponse?.length === 0);
    bad('t AUTHENTICATE PLAIN AGJvYg=BwdA');
    bad('t AUTHENTICATE PLAIN abc');
  });

  it('ENABLE', () => {
    assert.deepEqual(ok('t ENABLE utf8=accept CONDSTORE'), {
      name: 'ENABLE',
      capabilities: ['UTF8=ACCEPT', 'CONDSTORE'],
    });
    bad('t ENABLE');
  });

  it('SELECT/EXAMINE with CONDSTORE and QRESYNC', () => {
    assert.deepEqual(ok('t SELECT inbox'), {
      name: 'SELECT',
      mailbox: 'INBOX',
      condstore: false,
      qresync: undefined,
    });
    assert.deepEqual(ok('t EXAMINE x (CONDSTORE)'), {
      name: 'EXAMINE',
      mailbox: 'x',
      condstore: true,
      qresync: undefined,
    });
    assert.deepEqual(ok('t SELECT x (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:3 4:6)))'), {
      name: 'SELECT',
      mailbox: 'x',
      condstore: false,
      qresync: {
        uidValidity: 67890007,
        modSeq: 20050715194045000n,
        knownUids: {
          kind: 'ranges',
          ranges: [
            { from: 41, to: 41 },
            { from: 43, to: 211 },
            { from: 214, to: 541 },
          ],
        },
        seqMatch: {
          seqs: { kind: 'ranges', ranges: [{ from: 1, to: 3 }] },
          uids: { kind: 'ranges', ranges: [{ from: 4, to: 6 }] },
        },
      },
    });
    const q = ok('t SELECT x (QRESYNC (1 2))');
    assert.ok(q.name === 'SELECT' && q.qresync?.knownUids === undefined);
    bad('t SELECT x ()');
    bad('t SELECT x (CONDSTORE CONDSTORE)');
    bad('t SELECT x (FOO)');
    bad('t SELECT x (QRESYNC (0 2))');
    bad('t SELECT x (QRESYNC (1 9223372036854775808))');
    const max = ok('t SELECT x (QRESYNC (1 9223372036854775807))');
    assert.ok(max.name === 'SELECT' && max.qresync?.modSeq === 2n ** 63n - 1n);
  });

  it('mailbox commands', () => {
    assert.deepEqual(ok('t CREATE "a/b"'), { name: 'CREATE', mailbox: 'a/b', specialUse: undefined });
    assert.deepEqual(ok('t DELETE Entw&APw-rfe'), { name: 'DELETE', mailbox: 'Entwürfe' });
    assert.deepEqual(ok('t SUBSCRIBE "Entwürfe"', true), { name: 'SUBSCRIBE', mailbox: 'Entwürfe' });
    assert.deepEqual(ok('t UNSUBSCRIBE inbox'), { name: 'UNSUBSCRIBE', mailbox: 'INBOX' });
    assert.deepEqual(ok('t RENAME a b'), { name: 'RENAME', from: 'a', to: 'b' });
    bad('t RENAME a');
    bad('t CREATE &Jjo!');
  });

  it('LIST basic and extended', () => {
    assert.deepEqual(ok('t LIST "" *'), {
      name: 'LIST',
      selection: [],
      reference: '',
      patterns: ['*'],
      returns: [],
      returnStatus: undefined,
    });
    assert.deepEqual(
      ok(
        't LIST (SUBSCRIBED recursivematch) "" ("INBOX" %/Entw&APw-rfe) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))',
      ),
      {
        name: 'LIST',
        selection: ['SUBSCRIBED', 'RECURSIVEMATCH'],
        reference: '',
        patterns: ['INBOX', '%/Entwürfe'],
        returns: ['CHILDREN', 'STATUS'],
        returnStatus: ['MESSAGES', 'UNSEEN'],
      },
    );
    bad('t LIST ""');
    bad('t LIST "" * RETURN');
    bad('t LIST "" ()');
  });

  it('LSUB (IMAP4rev1)', () => {
    assert.deepEqual(ok('t lsub "" *'), { name: 'LSUB', reference: '', pattern: '*' });
    assert.deepEqual(ok('t LSUB a/ %/Entw&APw-rfe'), {
      name: 'LSUB',
      reference: 'a/',
      pattern: '%/Entwürfe',
    });
    bad('t LSUB ""');
    bad('t LSUB "" (a b)');
  });

  it('STATUS', () => {
    assert.deepEqual(ok('t STATUS x (messages UIDNEXT)'), {
      name: 'STATUS',
      mailbox: 'x',
      items: ['MESSAGES', 'UIDNEXT'],
    });
    bad('t STATUS x ()');
    bad('t STATUS x (FOO)');
  });

  it('APPEND with flags, date-time and literal or literal8', () => {
    const a = ok('t APPEND INBOX (\\seen $Junk) "17-Jul-1996 02:44:25 -0700" {5+}\r\nhello');
    assert.ok(a.name === 'APPEND' && a.messages.length === 1);
    const [m] = a.messages;
    assert.deepEqual(m?.flags, ['\\Seen', '$Junk']);
    assert.equal(m?.date?.zoneMinutes, -420);
    assert.equal(m?.message.data.toString(), 'hello');
    const b = ok('t APPEND x ~{3+}\r\na\0b');
    assert.ok(b.name === 'APPEND');
    assert.deepEqual(
      b.messages.map((x) => [x.message.binary, x.flags.length, x.date]),
      [[true, 0, undefined]],
    );
    bad('t APPEND x "hello"');
    bad('t APPEND x (\\Seen)');
    bad('t APPEND x () {1+}\r\na extra');
    bad('t APPEND x (\\Seen){1+}\r\na');
    bad('t APPEND x (\\Recent) {1+}\r\na');
  });

  it('MULTIAPPEND: several messages in one APPEND (RFC 3502)', () => {
    const a = ok(
      't APPEND Sent (\\Seen) {2+}\r\nm1 "01-Jan-2024 10:00:00 +0100" {2+}\r\nm2 () "02-Jan-2024 00:00:00 +0000" ~{2+}\r\nm3',
    );
    assert.ok(a.name === 'APPEND' && a.mailbox === 'Sent');
    assert.deepEqual(
      a.messages.map((m) => [m.flags, m.date?.time, m.message.data.toString(), m.message.binary]),
      [
        [['\\Seen'], undefined, 'm1', false],
        [[], Date.UTC(2024, 0, 1, 9), 'm2', false],
        [[], Date.UTC(2024, 0, 2), 'm3', true],
      ],
    );
    bad('t APPEND x {1+}\r\na ');
    bad('t APPEND x {1+}\r\na (\\Seen)');
    bad('t APPEND x {1+}\r\na  {1+}\r\nb');
  });

  it('ID', () => {
    const r = ok('t ID ("name" "sodr" "version" NIL)');
    assert.ok(r.name === 'ID' && r.params?.get('name') === 'sodr' && r.params.get('version') === null);
    assert.deepEqual(ok('t ID NIL'), { name: 'ID', params: null });
    bad('t ID (name)');
    bad(`t ID (${Array.from({ length: 31 }, (_, i) => `"k${i}" "v"`).join(' ')})`);
  });
});
