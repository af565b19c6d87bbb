// CONDSTORE and QRESYNC (RFC 7162) against the real server: ENABLE, HIGHESTMODSEQ
// on SELECT and STATUS, STORE UNCHANGEDSINCE with MODIFIED when another session
// got there first, FETCH CHANGEDSINCE (and VANISHED), SELECT QRESYNC after another
// session changed flags, expunged and delivered, VANISHED instead of EXPUNGE, and
// SEARCH MODSEQ. RawImap checks exact lines; imapflow resyncs as a client does.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImapFlow } from 'imapflow';
import { imapflow, imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';

const mail = (subject: string): string =>
  `From: Bob <bob@example.org>\r\nTo: alice@sealpost.test\r\nSubject: ${subject}\r\n` +
  `Message-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\nAbout ${subject}.\r\n`;

/** A raw session with its own tag counter. */
class Session {
  readonly raw: RawImap;
  #n = 0;
  private constructor(raw: RawImap) {
    this.raw = raw;
  }
  static async open(port: number): Promise<Session> {
    const raw = await RawImap.connect(port);
    await raw.login();
    return new Session(raw);
  }
  /** All lines of a command, the tagged one last. */
  async run(text: string): Promise<string[]> {
    return this.raw.command(`c${++this.#n}`, text);
  }
  /** The untagged lines of a command that must end in OK; the tagged line is returned apart. */
  async ok(text: string): Promise<{ untagged: string[]; tagged: string }> {
    const lines = await this.run(text);
    const tagged = lines.at(-1)!;
    assert.match(tagged, /^c\d+ OK/, `${text}\n${lines.join('\n')}`);
    return { untagged: lines.slice(0, -1), tagged };
  }
  close(): void {
    this.raw.close();
  }
}

const modseqOf = (lines: readonly string[], re = /\[HIGHESTMODSEQ (\d+)\]/): number => {
  for (const l of lines) {
    const m = re.exec(l);
    if (m) return Number(m[1]);
  }
  throw new Error(`no modseq in:\n${lines.join('\n')}`);
};

/** `* n FETCH (...)` lines keyed by UID, with their MODSEQ. */
function fetched(lines: readonly string[]): Map<number, { line: string; modseq: number | undefined }> {
  const out = new Map<number, { line: string; modseq: number | undefined }>();
  for (const l of lines) {
    if (!/^\* \d+ FETCH /.test(l)) continue;
    const uid = /UID (\d+)/.exec(l);
    assert.ok(uid, `FETCH without UID: ${l}`);
    const m = /MODSEQ \((\d+)\)/.exec(l);
    out.set(Number(uid[1]), { line: l, modseq: m ? Number(m[1]) : undefined });
  }
  return out;
}

describe('IMAP CONDSTORE and QRESYNC', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;
  let flow: ImapFlow;
  let boxes = 0;

  /** A new mailbox with `count` messages (UIDs 1..count). */
  async function mailbox(count: number): Promise<string> {
    const name = `Sync${++boxes}`;
    await flow.mailboxCreate(name);
    for (let i = 1; i <= count; i++) await flow.append(name, mail(`${name} message ${i}`));
    return name;
  }

  async function highest(s: Session, box: string): Promise<number> {
    const { untagged } = await s.ok(`STATUS ${box} (HIGHESTMODSEQ)`);
    return modseqOf(untagged, /HIGHESTMODSEQ (\d+)/);
  }

  before(async () => {
    inst = await install();
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
    flow = await imapflow(port);
  });

  after(async () => {
    await flow?.logout().catch(() => {});
    await srv.server.stop();
    await inst.cleanup();
  });

  it('ENABLE answers with what it newly enabled; CONDSTORE and QRESYNC are advertised', async () => {
    const s = await Session.open(port);
    try {
      const caps = (await s.ok('CAPABILITY')).untagged.join(' ');
      assert.match(caps, / CONDSTORE /);
      assert.match(caps, / QRESYNC /);
      assert.deepEqual((await s.ok('ENABLE CONDSTORE')).untagged, ['* ENABLED CONDSTORE']);
      assert.deepEqual((await s.ok('ENABLE CONDSTORE')).untagged, ['* ENABLED']);
      assert.deepEqual((await s.ok('ENABLE QRESYNC X-UNKNOWN')).untagged, ['* ENABLED QRESYNC']);
      const pre = await RawImap.connect(port);
      assert.match((await pre.command('e', 'ENABLE CONDSTORE')).at(-1)!, /^e BAD/);
      pre.close();
    } finally {
      s.close();
    }
  });

  it('SELECT (CONDSTORE) reports HIGHESTMODSEQ, the highest MODSEQ of any message', async () => {
    const box = await mailbox(3);
    const s = await Session.open(port);
    try {
      const { untagged, tagged } = await s.ok(`SELECT ${box} (CONDSTORE)`);
      assert.match(tagged, /\[READ-WRITE\]/);
      const hms = modseqOf(untagged);
      const all = fetched((await s.ok('FETCH 1:* (UID MODSEQ)')).untagged);
      assert.equal(all.size, 3);
      assert.equal(Math.max(...[...all.values()].map((v) => v.modseq!)), hms);
      assert.equal(await highest(s, box), hms);
      const ex = await s.ok(`EXAMINE ${box} (CONDSTORE)`);
      assert.equal(modseqOf(ex.untagged), hms);
    } finally {
      s.close();
    }
  });

  it('HIGHESTMODSEQ grows with every append, flag change and expunge, and never goes back', async () => {
    const box = await mailbox(2);
    const s = await Session.open(port);
    const other = await Session.open(port);
    try {
      await s.ok('ENABLE CONDSTORE');
      await s.ok(`SELECT ${box}`);
      await other.ok(`SELECT ${box}`);
      const seen: number[] = [await highest(s, box)];
      const step = async (what: () => Promise<unknown>) => {
        await what();
        seen.push(await highest(s, box));
      };
      await step(() => flow.append(box, mail('third')));
      await step(() => other.ok('STORE 1 +FLAGS (\\Flagged)'));
      await step(() => s.ok('STORE 2 +FLAGS (\\Seen)'));
      await step(() => other.ok('STORE 3 +FLAGS (\\Deleted)'));
      await step(() => other.ok('EXPUNGE'));
      await step(() => s.ok('STORE 1 -FLAGS (\\Flagged)'));
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `modseqs: ${seen.join(' ')}`);
      // A session that opens the mailbox later hears the same highest value.
      const fresh = await Session.open(port);
      const sel = await fresh.ok(`SELECT ${box} (CONDSTORE)`);
      assert.equal(modseqOf(sel.untagged), seen.at(-1));
      fresh.close();
    } finally {
      s.close();
      other.close();
    }
  });

  it('STORE (UNCHANGEDSINCE): succeeds when unchanged, MODIFIED for what another session changed', async () => {
    // Sequence numbers differ from UIDs here: message n has UID n + 1.
    const box = await mailbox(5);
    const lock = await flow.getMailboxLock(box);
    await flow.messageDelete('1', { uid: true }).finally(() => lock.release());
    const a = await Session.open(port);
    const b = await Session.open(port);
    try {
      const base = modseqOf((await a.ok(`SELECT ${box} (CONDSTORE)`)).untagged);
      await b.ok(`SELECT ${box}`);
      // Success: unchanged since `base`; the FETCH carries UID and the new MODSEQ.
      const r1 = await a.ok(`STORE 1 (UNCHANGEDSINCE ${base}) +FLAGS (\\Answered)`);
      assert.doesNotMatch(r1.tagged, /MODIFIED/);
      const f1 = fetched(r1.untagged).get(2)!;
      assert.ok(f1.modseq! > base, r1.untagged.join('\n'));
      assert.match(f1.line, /^\* 1 FETCH .*FLAGS \(\\Answered\)/);
      // Another session changes UIDs 3 and 5; UID STORE's MODIFIED lists those UIDs.
      await b.ok('UID STORE 3,5 +FLAGS (\\Flagged)');
      const r2 = await a.ok(`UID STORE 2:5 (UNCHANGEDSINCE ${f1.modseq}) +FLAGS.SILENT (\\Seen)`);
      assert.match(r2.tagged, /^c\d+ OK \[MODIFIED 3,5\]/);
      const f2 = fetched(r2.untagged);
      for (const uid of [2, 4])
        assert.ok(f2.get(uid)?.modseq, `MODSEQ for UID ${uid}: ${r2.untagged.join('\n')}`);
      const m2 = Math.max(f2.get(2)!.modseq!, f2.get(4)!.modseq!);
      // STORE by sequence number: MODIFIED lists sequence numbers (UID 4 is message 3).
      await b.ok('UID STORE 4 +FLAGS (\\Draft)');
      const r3 = await a.ok(`STORE 1:4 (UNCHANGEDSINCE ${m2}) +FLAGS.SILENT ($Checked)`);
      assert.match(r3.tagged, /^c\d+ OK \[MODIFIED 3\]/);
      const flags = fetched((await a.ok('UID FETCH 2:5 (FLAGS)')).untagged);
      const has = (uid: number, flag: string) => flags.get(uid)!.line.includes(flag);
      assert.deepEqual(
        [2, 3, 4, 5].map((u) => [has(u, '\\Seen'), has(u, '$Checked')]),
        [
          [true, true],
          [false, true],
          [true, false],
          [false, true],
        ],
      );
      // UNCHANGEDSINCE 0 always fails (RFC 7162 §3.1.3).
      const r4 = await a.ok('UID STORE 3 (UNCHANGEDSINCE 0) +FLAGS (\\Draft)');
      assert.match(r4.tagged, /\[MODIFIED 3\]/);
    } finally {
      a.close();
      b.close();
    }
  });

  it('once CONDSTORE is on, FETCH responses of STORE and of an implicit \\Seen carry UID and MODSEQ', async () => {
    const box = await mailbox(2);
    const s = await Session.open(port);
    try {
      await s.ok('ENABLE CONDSTORE');
      await s.ok(`SELECT ${box}`);
      // RFC 7162 §3.1: "the server MUST automatically include both UID and mod-sequence
      // data in all subsequent untagged FETCH responses" caused by STORE or an implicit \Seen.
      const st = await s.ok('STORE 1 +FLAGS (\\Flagged)');
      assert.match(st.untagged.join('\n'), /^\* 1 FETCH \((?=.*UID 1\b)(?=.*MODSEQ \(\d+\)).*\)$/m);
      const silent = await s.ok('STORE 1 +FLAGS.SILENT (\\Answered)');
      assert.match(silent.untagged.join('\n'), /^\* 1 FETCH \((?=.*UID 1\b)(?=.*MODSEQ \(\d+\)).*\)$/m);
      const body = await s.ok('FETCH 2 (BODY[TEXT])');
      const line = body.untagged.find((l) => l.startsWith('* 2 FETCH'))!;
      const all = body.untagged.join('\n');
      assert.ok(line, all);
      assert.match(all, /\\Seen/);
      assert.match(all, /UID 2\b/);
      assert.match(all, /MODSEQ \(\d+\)/);
    } finally {
      s.close();
    }
  });

  it('FETCH (CHANGEDSINCE n) returns exactly the messages changed since n, with MODSEQ', async () => {
    const box = await mailbox(5);
    const a = await Session.open(port);
    const b = await Session.open(port);
    try {
      const n = modseqOf((await a.ok(`SELECT ${box} (CONDSTORE)`)).untagged);
      await b.ok(`SELECT ${box}`);
      await b.ok('STORE 2 +FLAGS (\\Seen)');
      await b.ok('STORE 4 +FLAGS ($Label1)');
      await a.ok('NOOP'); // take the unsolicited updates first
      const r = await a.ok(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${n})`);
      const lines = r.untagged.filter((l) => /^\* \d+ FETCH/.test(l));
      assert.equal(lines.length, 2, lines.join('\n'));
      assert.match(lines[0]!, /^\* 2 FETCH \((?=.*FLAGS \(\\Seen\))(?=.*MODSEQ \((\d+)\)).*\)$/);
      assert.match(lines[1]!, /^\* 4 FETCH \((?=.*FLAGS \(\$Label1\))(?=.*MODSEQ \((\d+)\)).*\)$/);
      for (const l of lines) assert.ok(modseqOf([l], /MODSEQ \((\d+)\)/) > n);
      // UID FETCH with a set narrower than the changes; nothing is newer than the highest.
      const u = await a.ok(`UID FETCH 3:5 (FLAGS) (CHANGEDSINCE ${n})`);
      assert.deepEqual([...fetched(u.untagged).keys()], [4]);
      const top = await highest(a, box);
      const none = await a.ok(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${top})`);
      assert.deepEqual(none.untagged, []);
      // imapflow's changedSince option sends the same modifier.
      const lock = await flow.getMailboxLock(box);
      try {
        const uids: number[] = [];
        for await (const m of flow.fetch('1:*', { uid: true, flags: true }, { changedSince: BigInt(n) }))
          uids.push(m.uid);
        assert.deepEqual(uids, [2, 4]);
      } finally {
        lock.release();
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it('UID FETCH (CHANGEDSINCE n VANISHED) reports VANISHED (EARLIER) for UIDs expunged since n', async () => {
    const box = await mailbox(6);
    const a = await Session.open(port);
    const b = await Session.open(port);
    try {
      await a.ok('ENABLE QRESYNC');
      const n = modseqOf((await a.ok(`SELECT ${box}`)).untagged);
      await b.ok(`SELECT ${box}`);
      await b.ok('UID STORE 2,3,5 +FLAGS.SILENT (\\Deleted)');
      await b.ok('UID EXPUNGE 2,3,5');
      await b.ok('UID STORE 6 +FLAGS (\\Flagged)');
      const noop = await a.ok('NOOP');
      assert.ok(noop.untagged.includes('* VANISHED 2:3,5'), noop.untagged.join('\n'));
      const r = await a.ok(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${n} VANISHED)`);
      assert.equal(r.untagged[0], '* VANISHED (EARLIER) 2:3,5');
      assert.deepEqual([...fetched(r.untagged).keys()], [6]);
      const narrow = await a.ok(`UID FETCH 1:4 (FLAGS) (CHANGEDSINCE ${n} VANISHED)`);
      assert.deepEqual(narrow.untagged, ['* VANISHED (EARLIER) 2:3']);
      // VANISHED only with UID FETCH, only with CHANGEDSINCE, only after ENABLE QRESYNC.
      assert.match((await a.run(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${n} VANISHED)`)).at(-1)!, /^c\d+ BAD/);
      assert.match((await a.run('UID FETCH 1:* (FLAGS) (VANISHED)')).at(-1)!, /^c\d+ BAD/);
      await b.ok('ENABLE CONDSTORE');
      assert.match((await b.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${n} VANISHED)`)).at(-1)!, /^c\d+ BAD/);
    } finally {
      a.close();
      b.close();
    }
  });

  it('SELECT (QRESYNC): flag changes, expunges and new mail made elsewhere since the last sync', async () => {
    const box = await mailbox(5);
    const a = await Session.open(port);
    const b = await Session.open(port);
    try {
      await a.ok('ENABLE QRESYNC');
      const first = await a.ok(`SELECT ${box}`);
      const validity = modseqOf(first.untagged, /\[UIDVALIDITY (\d+)\]/);
      const since = modseqOf(first.untagged);
      await a.ok('UNSELECT');
      await b.ok(`SELECT ${box}`);
      await b.ok('STORE 2 +FLAGS (\\Answered)');
      await b.ok('UID STORE 3,4 +FLAGS.SILENT (\\Deleted)');
      await b.ok('EXPUNGE');
      await flow.append(box, mail('arrived later'));
      const r = await a.ok(`SELECT ${box} (QRESYNC (${validity} ${since}))`);
      const lines = r.untagged;
      assert.ok(lines.includes('* 4 EXISTS'), lines.join('\n')); // 5 - 2 + 1
      const vanishedAt = lines.indexOf('* VANISHED (EARLIER) 3:4');
      assert.ok(vanishedAt >= 0, lines.join('\n'));
      const f = fetched(lines);
      assert.deepEqual(
        [...f.keys()].sort((x, y) => x - y),
        [2, 6],
      );
      assert.match(f.get(2)!.line, /^\* 2 FETCH .*FLAGS \(\\Answered\)/);
      assert.match(f.get(6)!.line, /^\* 4 FETCH /);
      for (const v of f.values()) assert.ok(v.modseq! > since);
      for (const v of f.values()) assert.ok(lines.indexOf(v.line) > vanishedAt, 'VANISHED precedes FETCH');
      assert.equal(modseqOf(lines), await highest(a, box));
      // With known UIDs, only those are reported as vanished.
      await a.ok('UNSELECT');
      const known = await a.ok(`SELECT ${box} (QRESYNC (${validity} ${since} 1:2,4:5))`);
      assert.ok(known.untagged.includes('* VANISHED (EARLIER) 4'), known.untagged.join('\n'));
      // The optional sequence match data is accepted.
      const seqMatch = await a.ok(`SELECT ${box} (QRESYNC (${validity} ${since} 1:6 (1:2 1:2)))`);
      assert.ok(seqMatch.untagged.includes('* OK [CLOSED] Previous mailbox closed'));
      // Another UIDVALIDITY: no incremental data, the client must resync fully.
      const stale = await a.ok(`SELECT ${box} (QRESYNC (${validity + 1} ${since}))`);
      assert.ok(!stale.untagged.some((l) => /VANISHED|FETCH/.test(l)), stale.untagged.join('\n'));
      // QRESYNC before ENABLE QRESYNC is BAD.
      assert.match((await b.run(`SELECT ${box} (QRESYNC (${validity} ${since}))`)).at(-1)!, /^c\d+ BAD/);
    } finally {
      a.close();
      b.close();
    }
  });

  it('with QRESYNC enabled, EXPUNGE, UID EXPUNGE and MOVE report VANISHED instead of EXPUNGE', async () => {
    const box = await mailbox(5);
    await flow.mailboxCreate(`${box}-target`);
    const s = await Session.open(port);
    try {
      await s.ok('ENABLE QRESYNC');
      await s.ok(`SELECT ${box}`);
      await s.ok('STORE 1,2 +FLAGS.SILENT (\\Deleted)');
      const ex = await s.ok('EXPUNGE');
      assert.deepEqual(ex.untagged, ['* VANISHED 1:2']);
      await s.ok('UID STORE 4 +FLAGS.SILENT (\\Deleted)');
      assert.deepEqual((await s.ok('UID EXPUNGE 3:5')).untagged, ['* VANISHED 4']);
      const mv = await s.ok(`UID MOVE 5 ${box}-target`);
      assert.match(mv.untagged[0]!, /^\* OK \[COPYUID \d+ 5 1\]/);
      assert.equal(mv.untagged[1], '* VANISHED 5');
      assert.ok(!mv.untagged.some((l) => / EXPUNGE$/.test(l)));
    } finally {
      s.close();
    }
  });

  it('SEARCH MODSEQ finds messages changed at or after n and reports their highest MODSEQ', async () => {
    const box = await mailbox(4);
    const s = await Session.open(port);
    try {
      await s.ok(`SELECT ${box} (CONDSTORE)`);
      const n = await highest(s, box);
      await s.ok('STORE 3 +FLAGS (\\Flagged)');
      await s.ok('STORE 1 +FLAGS (\\Seen)');
      const top = await highest(s, box);
      assert.deepEqual((await s.ok(`SEARCH MODSEQ ${n + 1}`)).untagged, [`* SEARCH 1 3 (MODSEQ ${top})`]);
      assert.deepEqual((await s.ok(`UID SEARCH MODSEQ ${top}`)).untagged, [`* SEARCH 1 (MODSEQ ${top})`]);
      const flaggedOnly = await s.ok(`SEARCH MODSEQ ${n + 1} FLAGGED`);
      assert.match(flaggedOnly.untagged[0]!, /^\* SEARCH 3 \(MODSEQ (\d+)\)$/);
      assert.ok(modseqOf(flaggedOnly.untagged, /MODSEQ (\d+)/) < top);
      // No match: no MODSEQ (RFC 7162 §3.1.5).
      assert.deepEqual((await s.ok(`SEARCH MODSEQ ${top + 1}`)).untagged, ['* SEARCH']);
      // The entry-name form is accepted.
      const entry = await s.ok(`SEARCH MODSEQ "/flags/\\\\flagged" all ${n + 1}`);
      assert.match(entry.untagged[0]!, /^\* SEARCH 1 3 \(MODSEQ \d+\)$/);
    } finally {
      s.close();
    }
  });

  it('imapflow with QRESYNC resyncs a mailbox: vanished UIDs, changed flags and new mail', async () => {
    const box = await mailbox(4);
    const client = await imapflow(port, undefined, undefined, { qresync: true });
    try {
      assert.ok(client.enabled.has('QRESYNC'));
      const opened = await client.mailboxOpen(box);
      const validity = opened.uidValidity;
      const since = opened.highestModseq;
      assert.ok(typeof since === 'bigint' && since > 0n);
      await client.mailboxClose();
      const lock = await flow.getMailboxLock(box);
      try {
        await flow.messageFlagsAdd('1', ['\\Flagged'], { uid: true });
        await flow.messageDelete('2:3', { uid: true });
      } finally {
        lock.release();
      }
      await flow.append(box, mail('new one'));
      const vanished: { uid: number; earlier: boolean }[] = [];
      const flags = new Map<number, string[]>();
      client.on('expunge', (e: { uid?: number; vanished: boolean; earlier?: boolean }) => {
        if (e.vanished && e.uid !== undefined) vanished.push({ uid: e.uid, earlier: e.earlier === true });
      });
      client.on('flags', (e: { uid?: number; flags: Set<string> }) => {
        if (e.uid !== undefined) flags.set(e.uid, [...e.flags]);
      });
      const again = await client.mailboxOpen(box, { uidValidity: validity, changedSince: since });
      assert.equal(again.exists, 3);
      assert.ok(again.highestModseq! > since!);
      assert.deepEqual(vanished, [
        { uid: 2, earlier: true },
        { uid: 3, earlier: true },
      ]);
      assert.deepEqual(flags.get(1), ['\\Flagged']);
      assert.ok(flags.has(5), `new message reported: ${[...flags.keys()]}`);
    } finally {
      await client.logout();
    }
  });
});
