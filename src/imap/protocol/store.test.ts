import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsed, rejected } from './test-helpers.ts';

const ONE = { kind: 'ranges', ranges: [{ from: 1, to: 1 }] };

describe('IMAP STORE', () => {
  it('FLAGS, +FLAGS, -FLAGS with .SILENT, a flag list or space-separated flags', () => {
    assert.deepEqual(parsed('t STORE 1 +FLAGS (\\seen $Junk)'), {
      name: 'STORE',
      set: ONE,
      unchangedSince: undefined,
      action: { mode: 'add', silent: false, flags: ['\\Seen', '$Junk'] },
    });
    assert.deepEqual(parsed('t uid store 1 -flags.silent \\Deleted \\Flagged'), {
      name: 'UID STORE',
      set: ONE,
      unchangedSince: undefined,
      action: { mode: 'remove', silent: true, flags: ['\\Deleted', '\\Flagged'] },
    });
    assert.deepEqual(parsed('t STORE 1 FLAGS ()'), {
      name: 'STORE',
      set: ONE,
      unchangedSince: undefined,
      action: { mode: 'set', silent: false, flags: [] },
    });
    const one = parsed('t STORE 1 FLAGS.SILENT keyword');
    assert.ok(one.name === 'STORE' && one.action.flags[0] === 'keyword' && one.action.silent);
  });

  it('UNCHANGEDSINCE (RFC 7162 §3.1.3), 0 allowed', () => {
    const r = parsed('t UID STORE 1:* (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)');
    assert.ok(r.name === 'UID STORE' && r.unchangedSince === 320162338n);
    const z = parsed('t STORE 1 (unchangedsince 0) FLAGS (\\Seen)');
    assert.ok(z.name === 'STORE' && z.unchangedSince === 0n);
    for (const s of [
      't STORE 1 () +FLAGS (\\Seen)',
      't STORE 1 (UNCHANGEDSINCE) +FLAGS (\\Seen)',
      't STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) +FLAGS (\\Seen)',
      't STORE 1 (FOO 1) +FLAGS (\\Seen)',
      't STORE 1 (UNCHANGEDSINCE 9223372036854775808) +FLAGS (\\Seen)',
      't STORE 1 (UNCHANGEDSINCE 1)+FLAGS (\\Seen)',
    ])
      rejected(s);
  });

  it('refuses \\Recent, unknown system flags and non-atom keywords', () => {
    for (const s of [
      't STORE 1 +FLAGS (\\Recent)',
      't STORE 1 +FLAGS \\recent',
      't STORE 1 FLAGS (\\Seen \\Recent)',
      't STORE 1 +FLAGS (\\Foo)',
      't STORE 1 +FLAGS (\\*)',
      't STORE 1 +FLAGS ("quoted")',
      't STORE 1 +FLAGS (a]b)',
      't STORE 1 +FLAGS (a%b)',
      't STORE 1 +FLAGS ((\\Seen))',
      't STORE 1 +FLAGS',
      't STORE 1 +FLAGS ',
      't STORE 1 +FLAGS \\Seen ',
      't STORE 1 *FLAGS (\\Seen)',
      't STORE 1 FLAGS.LOUD (\\Seen)',
      't STORE 1 +FLAG (\\Seen)',
      't STORE 1 +FLAGS.SILENT.X (\\Seen)',
      't STORE +FLAGS (\\Seen)',
      't STORE 0 +FLAGS (\\Seen)',
    ])
      rejected(s);
    assert.match(rejected('t STORE 1 +FLAGS (\\Recent)').message, /cannot be set/);
  });
});

describe('IMAP COPY and MOVE', () => {
  it('parses the set and the mailbox, for all four', () => {
    for (const name of ['COPY', 'UID COPY', 'MOVE', 'UID MOVE']) {
      assert.deepEqual(parsed(`t ${name.toLowerCase()} 2:4 Entw&APw-rfe`), {
        name,
        set: { kind: 'ranges', ranges: [{ from: 2, to: 4 }] },
        mailbox: 'Entwürfe',
      });
      rejected(`t ${name} 1`);
      rejected(`t ${name} 1 `);
      rejected(`t ${name} x y`);
      rejected(`t ${name} 1 a b`);
    }
    assert.deepEqual(parsed('t MOVE $ "Trash"'), {
      name: 'MOVE',
      set: { kind: 'searchres' },
      mailbox: 'Trash',
    });
    assert.deepEqual(parsed('t COPY 1 {5+}\r\ninbox'), { name: 'COPY', set: ONE, mailbox: 'INBOX' });
  });
});
