// Mailbox commands against the real server (RFC 9051 §6.3, LIST-EXTENDED RFC 5258,
// LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154, QUOTA RFC 9208, MULTIAPPEND RFC 3502,
// BINARY RFC 3516, UIDPLUS RFC 4315, MOVE RFC 6851, UNSELECT RFC 3691, IDLE RFC
// 2177): exact lines over RawImap, and imapflow for modified UTF-7 names.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { newId, newUidValidity } from '../../src/core/ids.ts';
import { imapflow, imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, openStore, startInProcess } from '../support/server.ts';

const mail = (subject: string, pad = 0): string =>
  `From: bob@example.org\r\nSubject: ${subject}\r\n\r\n${'x'.repeat(pad)}Body of ${subject}.\r\n`;

/** A raw session with its own tags. */
class Session {
  readonly raw: RawImap;
  #n = 0;
  private constructor(raw: RawImap) {
    this.raw = raw;
  }
  static async open(port: number, user?: string): Promise<Session> {
    const raw = await RawImap.connect(port);
    await raw.login(user);
    return new Session(raw);
  }
  async run(text: string): Promise<string[]> {
    return this.raw.command(`m${++this.#n}`, text);
  }
  /** Untagged lines of a command that must succeed. */
  async ok(text: string): Promise<string[]> {
    const lines = await this.run(text);
    assert.match(lines.at(-1)!, /^m\d+ OK/, `${text}\n${lines.join('\n')}`);
    return lines.slice(0, -1);
  }
  /** The tagged line of a command that must fail with NO. */
  async no(text: string): Promise<string> {
    const lines = await this.run(text);
    assert.match(lines.at(-1)!, /^m\d+ NO/, `${text}\n${lines.join('\n')}`);
    return lines.at(-1)!;
  }
  /** APPEND of one or more messages with non-synchronising literals; all lines. */
  async append(box: string, messages: readonly { flags?: string; data: Buffer | string }[], l8 = false) {
    const tag = `a${++this.#n}`;
    const parts: Buffer[] = [Buffer.from(`${tag} APPEND ${box}`)];
    for (const m of messages) {
      const data = Buffer.from(m.data);
      parts.push(Buffer.from(`${m.flags ? ` ${m.flags}` : ''} ${l8 ? '~' : ''}{${data.length}+}\r\n`), data);
    }
    parts.push(Buffer.from('\r\n'));
    this.raw.write(Buffer.concat(parts));
    return this.raw.until(new RegExp(`^${tag} (OK|NO|BAD)`));
  }
  close(): void {
    this.raw.close();
  }
}

const listed = (lines: readonly string[]) =>
  lines
    .filter((l) => l.startsWith('* LIST '))
    .map((l) => {
      const m = /^\* LIST \(([^)]*)\) "\/" "?([^"]*)"?(.*)$/.exec(l)!;
      return `${m[2]} ${m[1]}${m[3]}`.trim();
    });

describe('IMAP mailboxes', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;
  let s: Session;

  before(async () => {
    inst = await install({ users: ['alice@sealpost.test', 'quota@sealpost.test', 'rename@sealpost.test'] });
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
    s = await Session.open(port);
    await s.ok('CREATE Tree/a/b');
    await s.ok('CREATE Tree/c');
    await s.ok('UNSUBSCRIBE Tree');
    await s.ok('UNSUBSCRIBE Tree/a');
  });

  after(async () => {
    s?.close();
    await srv.server.stop();
    await inst.cleanup();
  });

  it('LIST with * and %, a reference, and the delimiter query', async () => {
    assert.deepEqual(await s.ok('LIST "" ""'), ['* LIST (\\Noselect) "/" ""']);
    assert.deepEqual(listed(await s.ok('LIST "" Tree*')), [
      'Tree \\HasChildren',
      'Tree/a \\HasChildren',
      'Tree/a/b \\HasNoChildren',
      'Tree/c \\HasNoChildren',
    ]);
    assert.deepEqual(listed(await s.ok('LIST "" Tree/%')), [
      'Tree/a \\HasChildren',
      'Tree/c \\HasNoChildren',
    ]);
    assert.deepEqual(listed(await s.ok('LIST Tree %')), ['Tree/a \\HasChildren', 'Tree/c \\HasNoChildren']);
    assert.deepEqual(listed(await s.ok('LIST "" T%/%/%')), ['Tree/a/b \\HasNoChildren']);
    // INBOX matches case-insensitively; other names do not.
    assert.deepEqual(listed(await s.ok('LIST "" inbox')), ['INBOX \\HasNoChildren']);
    assert.deepEqual(listed(await s.ok('LIST "" tree')), []);
    const top = listed(await s.ok('LIST "" %'));
    assert.equal(top[0], 'INBOX \\HasNoChildren');
    assert.ok(top.includes('Sent \\HasNoChildren \\Sent'), top.join('\n'));
    assert.ok(!top.some((l) => l.startsWith('Tree/')));
  });

  it('LIST-EXTENDED: SUBSCRIBED, RECURSIVEMATCH, SPECIAL-USE and RETURN (CHILDREN SPECIAL-USE STATUS)', async () => {
    assert.deepEqual(listed(await s.ok('LIST (SUBSCRIBED) "" Tree*')), [
      'Tree/a/b \\HasNoChildren \\Subscribed',
      'Tree/c \\HasNoChildren \\Subscribed',
    ]);
    assert.deepEqual(listed(await s.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" Tree/%')), [
      'Tree/a \\HasChildren ("CHILDINFO" ("SUBSCRIBED"))',
      'Tree/c \\HasNoChildren \\Subscribed',
    ]);
    assert.match((await s.run('LIST (RECURSIVEMATCH) "" *')).at(-1)!, /^m\d+ BAD/);
    const special = listed(await s.ok('LIST (SPECIAL-USE) "" *'));
    assert.deepEqual(special.map((l) => l.split(' ').at(-1)).sort(), [
      '\\Archive',
      '\\Drafts',
      '\\Junk',
      '\\Sent',
      '\\Trash',
    ]);
    await s.append('Tree/c', [{ data: mail('one', 100) }, { flags: '(\\Seen)', data: mail('two') }]);
    const lines = await s.ok('LIST "" Tree/% RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN SIZE))');
    const size = Buffer.byteLength(mail('one', 100)) + Buffer.byteLength(mail('two'));
    assert.deepEqual(lines, [
      '* LIST (\\HasChildren) "/" "Tree/a"',
      '* STATUS "Tree/a" (MESSAGES 0 UNSEEN 0 SIZE 0)',
      '* LIST (\\HasNoChildren) "/" "Tree/c"',
      `* STATUS "Tree/c" (MESSAGES 2 UNSEEN 1 SIZE ${size})`,
    ]);
    const drafts = await s.ok('LIST "" Drafts RETURN (SPECIAL-USE SUBSCRIBED)');
    assert.deepEqual(drafts, ['* LIST (\\HasNoChildren \\Subscribed \\Drafts) "/" "Drafts"']);
  });

  it('a parent that exists only through its children is \\NonExistent (LIST-EXTENDED, rev2) or \\Noselect', async () => {
    const rt = await openStore(inst);
    try {
      const account = (await rt.store.getAccountByAddress('alice@sealpost.test'))!;
      await rt.store.createMailbox({
        id: newId('mbx'),
        accountId: account.id,
        name: 'Ghost/child',
        specialUse: null,
        uidValidity: newUidValidity(),
        subscribed: true,
      });
    } finally {
      await rt.close();
    }
    assert.deepEqual(listed(await s.ok('LIST "" Ghost*')), [
      'Ghost \\Noselect \\HasChildren',
      'Ghost/child \\HasNoChildren',
    ]);
    assert.deepEqual(listed(await s.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" Ghost')), [
      'Ghost \\NonExistent \\HasChildren ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    const rev2 = await Session.open(port);
    try {
      await rev2.ok('ENABLE IMAP4rev2');
      assert.deepEqual(listed(await rev2.ok('LIST "" Ghost')), ['Ghost \\NonExistent \\HasChildren']);
    } finally {
      rev2.close();
    }
    assert.match(await s.no('SELECT Ghost'), /NONEXISTENT/);
  });

  it('CREATE: parents are created, USE sets a special use, bad names and duplicates are refused', async () => {
    await s.ok('CREATE Deep/er/est');
    assert.deepEqual(listed(await s.ok('LIST "" Deep*')), [
      'Deep \\HasChildren',
      'Deep/er \\HasChildren',
      'Deep/er/est \\HasNoChildren',
    ]);
    await s.ok('SELECT Deep/er'); // a real mailbox, not a placeholder
    await s.ok('UNSELECT');
    assert.match(await s.no('CREATE Deep/er'), /\[ALREADYEXISTS\]/);
    assert.match(await s.no('CREATE "Junk 2" (USE (\\Junk))'), /\[USEATTR\]/); // Junk has it already
    assert.match(await s.no('CREATE Starred (USE (\\Flagged))'), /\[USEATTR\]/);
    assert.deepEqual(listed(await s.ok('LIST "" Starred')), []);
    await s.ok('DELETE Archive');
    await s.ok('CREATE "Old mail" (USE (\\Archive))');
    assert.deepEqual(
      listed(await s.ok('LIST (SPECIAL-USE) "" *')).filter((l) => l.includes('Archive')),
      ['Old mail \\HasNoChildren \\Archive'],
    );
    // A mailbox created again after DELETE gets a new UIDVALIDITY (RFC 9051 §6.3.5).
    const v1 = (await s.ok('STATUS Deep/er/est (UIDVALIDITY)'))[0];
    await s.ok('DELETE Deep/er/est');
    await s.ok('CREATE Deep/er/est');
    assert.notEqual((await s.ok('STATUS Deep/er/est (UIDVALIDITY)'))[0], v1);
  });

  it('DELETE is refused for INBOX and for a mailbox with children, with HASCHILDREN', async () => {
    await s.ok('CREATE Parent/kid');
    assert.match(await s.no('DELETE Parent'), /^m\d+ NO \[HASCHILDREN\]/);
    assert.match(await s.no('DELETE INBOX'), /NO/);
    assert.match(await s.no('DELETE Nowhere'), /\[NONEXISTENT\]/);
    await s.ok('DELETE Parent/kid');
    await s.ok('DELETE Parent');
    assert.deepEqual(listed(await s.ok('LIST "" Parent*')), []);
  });

  it('RENAME moves the children along; RENAME INBOX moves its messages and INBOX stays', async () => {
    const r = await Session.open(port, 'rename@sealpost.test');
    try {
      await r.ok('CREATE Projects/2025/Q1');
      await r.append('Projects/2025', [{ data: mail('kept') }]);
      await r.ok('RENAME Projects Archive/Projects');
      assert.deepEqual(listed(await r.ok('LIST "" *Projects*')), [
        'Archive/Projects \\HasChildren',
        'Archive/Projects/2025 \\HasChildren',
        'Archive/Projects/2025/Q1 \\HasNoChildren',
      ]);
      assert.deepEqual(await r.ok('STATUS Archive/Projects/2025 (MESSAGES)'), [
        '* STATUS "Archive/Projects/2025" (MESSAGES 1)',
      ]);
      assert.match(await r.no('RENAME Archive/Projects Sent'), /\[ALREADYEXISTS\]/);
      assert.match(await r.no('RENAME Nothing Else'), /\[NONEXISTENT\]/);
      await r.append('INBOX', [{ data: mail('in one') }, { data: mail('in two') }]);
      await r.ok('CREATE INBOX/Sub');
      await r.ok('RENAME INBOX "Old Inbox"');
      assert.deepEqual(await r.ok('STATUS INBOX (MESSAGES)'), ['* STATUS "INBOX" (MESSAGES 0)']);
      assert.deepEqual(await r.ok('STATUS "Old Inbox" (MESSAGES)'), ['* STATUS "Old Inbox" (MESSAGES 2)']);
      // INBOX's children stay where they are (RFC 9051 §6.3.6).
      assert.deepEqual(listed(await r.ok('LIST "" INBOX*')), [
        'INBOX \\HasChildren',
        'INBOX/Sub \\HasNoChildren',
      ]);
      await r.ok('SELECT INBOX');
      await r.append('INBOX', [{ data: mail('after rename') }]);
      assert.deepEqual(await r.ok('STATUS INBOX (MESSAGES)'), ['* STATUS "INBOX" (MESSAGES 1)']);
    } finally {
      r.close();
    }
  });

  it('SUBSCRIBE, UNSUBSCRIBE and LSUB, with % showing an unsubscribed parent as \\Noselect', async () => {
    await s.ok('CREATE Lists/ietf');
    await s.ok('UNSUBSCRIBE Lists');
    assert.deepEqual(await s.ok('LSUB "" Lists*'), ['* LSUB () "/" "Lists/ietf"']);
    // RFC 3501 §6.3.9: "%" must return the parent of a subscribed name, flagged \Noselect.
    assert.deepEqual(await s.ok('LSUB "" Lists'), []);
    assert.deepEqual(await s.ok('LSUB "" List%'), ['* LSUB (\\Noselect) "/" "Lists"']);
    await s.ok('SUBSCRIBE Lists');
    assert.deepEqual(await s.ok('LSUB "" List%'), ['* LSUB () "/" "Lists"']);
    await s.ok('UNSUBSCRIBE Lists/ietf');
    assert.deepEqual(await s.ok('LSUB "" Lists/*'), []);
    assert.deepEqual(listed(await s.ok('LIST "" Lists* RETURN (SUBSCRIBED)')), [
      'Lists \\HasChildren \\Subscribed',
      'Lists/ietf \\HasNoChildren',
    ]);
  });

  it('STATUS with every item, and NAMESPACE', async () => {
    await s.ok('CREATE Stat');
    const a = mail('a', 10);
    const b = mail('b', 20);
    const c = mail('c', 30);
    await s.append('Stat', [
      { flags: '(\\Seen)', data: a },
      { flags: '(\\Deleted \\Seen)', data: b },
      { data: c },
    ]);
    const [line] = await s.ok(
      'STATUS Stat (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT MAILBOXID)',
    );
    const size = [a, b, c].reduce((n, m) => n + Buffer.byteLength(m), 0);
    assert.match(
      line!,
      new RegExp(
        `^\\* STATUS "Stat" \\(MESSAGES 3 RECENT 0 UIDNEXT 4 UIDVALIDITY \\d+ UNSEEN 1 DELETED 1 SIZE ${size} ` +
          'HIGHESTMODSEQ \\d+ APPENDLIMIT \\d+ MAILBOXID \\([\\w-]+\\)\\)$',
      ),
    );
    assert.match(await s.no('STATUS Missing (MESSAGES)'), /\[NONEXISTENT\]/);
    assert.deepEqual(await s.ok('NAMESPACE'), ['* NAMESPACE (("" "/")) NIL NIL']);
  });

  it('QUOTA: GETQUOTAROOT/GETQUOTA, APPEND and COPY over quota are NO [OVERQUOTA] and store nothing', async () => {
    const rt = await openStore(inst);
    try {
      const account = (await rt.store.getAccountByAddress('quota@sealpost.test'))!;
      await rt.store.setQuota(account.id, 10 * 1024);
    } finally {
      await rt.close();
    }
    const q = await Session.open(port, 'quota@sealpost.test');
    try {
      assert.deepEqual(await q.ok('GETQUOTAROOT INBOX'), [
        '* QUOTAROOT "INBOX" ""',
        '* QUOTA "" (STORAGE 0 10)',
      ]);
      const big = mail('big', 6000);
      assert.match((await q.append('INBOX', [{ data: big }])).at(-1)!, /OK \[APPENDUID/);
      assert.deepEqual(await q.ok('GETQUOTA ""'), ['* QUOTA "" (STORAGE 6 10)']);
      const tooBig = await q.append('INBOX', [{ data: mail('huge', 5000) }]);
      assert.match(tooBig.at(-1)!, /^a\d+ NO \[OVERQUOTA\]/);
      // MULTIAPPEND over quota: nothing of it is stored, not even the first that would fit.
      const multi = await q.append('INBOX', [{ data: mail('m1', 2000) }, { data: mail('m2', 2500) }]);
      assert.match(multi.at(-1)!, /^a\d+ NO \[OVERQUOTA\]/);
      assert.deepEqual(await q.ok('STATUS INBOX (MESSAGES)'), ['* STATUS "INBOX" (MESSAGES 1)']);
      await q.ok('SELECT INBOX');
      assert.match(await q.no('COPY 1 Trash'), /\[OVERQUOTA\]/);
      assert.deepEqual(await q.ok('STATUS Trash (MESSAGES)'), ['* STATUS "Trash" (MESSAGES 0)']);
      assert.match(await q.no('GETQUOTA "other"'), /NONEXISTENT/);
      assert.match(await q.no('SETQUOTA "" (STORAGE 99999)'), /NO/);
    } finally {
      q.close();
    }
  });

  it('MULTIAPPEND is atomic and APPENDUID lists every UID; a literal8 APPEND keeps NUL bytes', async () => {
    await s.ok('CREATE Multi');
    const r = await s.append('Multi', [
      { flags: '(\\Seen)', data: mail('first') },
      { data: mail('second') },
      { flags: '(\\Flagged $Work)', data: mail('third') },
    ]);
    const uid = /APPENDUID (\d+) ([\d:,]+)\]/.exec(r.at(-1)!);
    assert.ok(uid, r.join('\n'));
    assert.ok(['1:3', '1,2,3'].includes(uid[2]!), uid[2]);
    // A bad message anywhere (here \Recent, which a client may not set) stores none.
    const bad = await s.append('Multi', [
      { data: mail('fourth') },
      { flags: '(\\Recent)', data: mail('fifth') },
    ]);
    assert.match(bad.at(-1)!, /^a\d+ (NO|BAD)/);
    const empty = await s.append('Multi', [{ data: mail('sixth') }, { data: '' }]);
    assert.match(empty.at(-1)!, /^a\d+ (NO|BAD)/);
    assert.deepEqual(await s.ok('STATUS Multi (MESSAGES UIDNEXT)'), [
      '* STATUS "Multi" (MESSAGES 3 UIDNEXT 4)',
    ]);
    // literal8 (RFC 3516 §4.4): a binary body with NUL bytes comes back as stored.
    const binary = Buffer.concat([
      Buffer.from(
        'Subject: binary\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n',
      ),
      Buffer.from([0, 1, 2, 0, 255, 13, 10, 0, 7]),
    ]);
    const b = await s.append('Multi', [{ data: binary }], true);
    const bu = /APPENDUID \d+ (\d+)\]/.exec(b.at(-1)!);
    assert.ok(bu, b.join('\n'));
    await s.ok('EXAMINE Multi');
    const f = (await s.ok(`UID FETCH ${bu[1]} (BINARY.PEEK[1] BINARY.SIZE[1])`)).join('\r\n');
    assert.match(f, /BINARY\.SIZE\[1\] 9\b/);
    const at = f.indexOf('BINARY[1] ~{9}\r\n');
    assert.ok(at >= 0, f);
    const start = at + 'BINARY[1] ~{9}\r\n'.length;
    assert.deepEqual(
      Buffer.from(f.slice(start, start + 9), 'latin1'),
      Buffer.from([0, 1, 2, 0, 255, 13, 10, 0, 7]),
    );
    await s.ok('UNSELECT');
  });

  it('non-ASCII mailbox names round-trip through modified UTF-7 with an IMAP4rev1 imapflow', async () => {
    const flow = await imapflow(port, undefined, undefined, {
      disableIMAP4rev2: true,
      disableAutoIdle: false,
    });
    try {
      await flow.mailboxCreate(['Köln', 'Übersicht 日本']);
      const boxes = (await flow.list()).map((b) => b.path);
      assert.ok(boxes.includes('Köln/Übersicht 日本'), boxes.join(', '));
      assert.ok(boxes.includes('Köln'));
      await flow.append('Köln/Übersicht 日本', mail('utf7'));
      const st = await flow.status('Köln/Übersicht 日本', { messages: true });
      assert.equal(st !== false ? st.messages : undefined, 1);
      assert.deepEqual(await s.ok('LIST "" K*'), [
        '* LIST (\\HasChildren) "/" "K&APY-ln"',
        '* LIST (\\HasNoChildren) "/" "K&APY-ln/&ANw-bersicht &ZeVnLA-"',
      ]);
      await s.ok('CREATE "&AOk-t&AOk-"');
      assert.ok((await flow.list()).some((b) => b.path === 'été'));
      await flow.mailboxRename('Köln/Übersicht 日本', 'Köln/Årsrapport');
      assert.ok((await flow.list()).some((b) => b.path === 'Köln/Årsrapport'));
    } finally {
      await flow.logout();
    }
  });

  it('an IMAP4rev2 session (imapflow by default) names mailboxes in UTF-8 (RFC 9051 §5.1)', async () => {
    const flow = await imapflow(port);
    try {
      await flow.mailboxCreate('Zürich/Ölbilder');
      assert.ok((await flow.list()).some((b) => b.path === 'Zürich/Ölbilder'));
      await flow.append('Zürich/Ölbilder', mail('rev2'));
      const st = await flow.status('Zürich/Ölbilder', { messages: true });
      assert.equal(st !== false ? st.messages : undefined, 1);
      const lock = await flow.getMailboxLock('Zürich/Ölbilder');
      lock.release();
      assert.deepEqual(await s.ok('LIST "" Z*'), [
        '* LIST (\\HasChildren) "/" "Z&APw-rich"',
        '* LIST (\\HasNoChildren) "/" "Z&APw-rich/&ANY-lbilder"',
      ]);
      const rev2 = await Session.open(port);
      try {
        await rev2.ok('ENABLE IMAP4rev2');
        // RawImap reads octets as latin1: decode the lines as UTF-8.
        const utf8 = (lines: string[]) => lines.map((l) => Buffer.from(l, 'latin1').toString('utf8'));
        assert.deepEqual(utf8(await rev2.ok('LIST "" Z*')), [
          '* LIST (\\HasChildren) "/" "Zürich"',
          '* LIST (\\HasNoChildren) "/" "Zürich/Ölbilder"',
        ]);
        const status = await rev2.run('STATUS "Zürich/Ölbilder" (MESSAGES)'); // sent as UTF-8
        assert.deepEqual(utf8(status.slice(0, -1)), ['* STATUS "Zürich/Ölbilder" (MESSAGES 1)']);
      } finally {
        rev2.close();
      }
    } finally {
      await flow.logout();
    }
  });

  it('IDLE reports new mail, flag changes and expunges until DONE', async () => {
    await s.ok('CREATE Idle');
    await s.append('Idle', [{ data: mail('already here') }]);
    const other = await Session.open(port);
    const idle = await Session.open(port);
    try {
      await idle.ok('SELECT Idle');
      await other.ok('SELECT Idle');
      idle.raw.write('i1 IDLE\r\n');
      await idle.raw.until(/^\+ /);
      await other.append('Idle', [{ data: mail('new') }]);
      await idle.raw.until(/^\* 2 EXISTS$/);
      await other.ok('NOOP');
      await other.ok('STORE 1 +FLAGS (\\Flagged)');
      await idle.raw.until(/^\* 1 FETCH \(.*FLAGS \(\\Flagged\)/);
      await other.ok('STORE 1 +FLAGS.SILENT (\\Deleted)');
      await other.ok('EXPUNGE');
      await idle.raw.until(/^\* 1 EXPUNGE$/);
      idle.raw.write('DONE\r\n');
      await idle.raw.until(/^i1 OK/);
      assert.match((await idle.run('NOOP')).at(-1)!, /OK/);
    } finally {
      other.close();
      idle.close();
    }
  });

  it('CLOSE expunges \\Deleted silently; UNSELECT and CLOSE after EXAMINE do not', async () => {
    await s.ok('CREATE Closing');
    await s.append('Closing', [{ data: mail('1') }, { data: mail('2') }, { data: mail('3') }]);
    await s.ok('SELECT Closing');
    await s.ok('STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await s.ok('UNSELECT'), []);
    assert.deepEqual(await s.ok('STATUS Closing (MESSAGES DELETED)'), [
      '* STATUS "Closing" (MESSAGES 3 DELETED 1)',
    ]);
    await s.ok('EXAMINE Closing');
    assert.deepEqual(await s.ok('CLOSE'), []);
    assert.deepEqual(await s.ok('STATUS Closing (MESSAGES)'), ['* STATUS "Closing" (MESSAGES 3)']);
    await s.ok('SELECT Closing');
    await s.ok('STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await s.ok('CLOSE'), []); // no EXPUNGE responses
    assert.deepEqual(await s.ok('STATUS Closing (MESSAGES DELETED)'), [
      '* STATUS "Closing" (MESSAGES 1 DELETED 0)',
    ]);
    assert.match((await s.run('FETCH 1 FLAGS')).at(-1)!, /^m\d+ BAD/); // nothing selected
  });

  it('MOVE answers COPYUID, then EXPUNGE, then OK; COPY to a missing mailbox is NO [TRYCREATE]', async () => {
    await s.ok('CREATE Moving');
    await s.ok('CREATE Moved');
    await s.append('Moving', [{ data: mail('1') }, { data: mail('2') }, { data: mail('3') }]);
    await s.ok('SELECT Moving');
    const lines = await s.run('MOVE 2:3 Moved');
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[0]!, /^\* OK \[COPYUID \d+ 2:3 (1:2|1,2)\]/);
    assert.deepEqual(lines.slice(1, 3), ['* 3 EXPUNGE', '* 2 EXPUNGE']);
    assert.match(lines[3]!, /^m\d+ OK/);
    assert.match(await s.no('COPY 1 "No Such Box"'), /^m\d+ NO \[TRYCREATE\]/);
    assert.match(await s.no('MOVE 1 "No Such Box"'), /\[TRYCREATE\]/);
    assert.match((await s.append('"No Such Box"', [{ data: mail('x') }])).at(-1)!, /NO \[TRYCREATE\]/);
    const copy = await s.run('UID COPY 1 Moved');
    assert.match(copy.at(-1)!, /^m\d+ OK \[COPYUID \d+ 1 3\]/);
    await s.ok('UNSELECT');
    assert.deepEqual(await s.ok('STATUS Moved (MESSAGES)'), ['* STATUS "Moved" (MESSAGES 3)']);
    assert.deepEqual(await s.ok('STATUS Moving (MESSAGES)'), ['* STATUS "Moving" (MESSAGES 1)']);
  });
});
