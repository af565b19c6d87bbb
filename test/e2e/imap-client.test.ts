// IMAP with imapflow, the reference client: login, mailboxes, APPEND, FETCH,
// STORE, COPY/MOVE, EXPUNGE; two sessions see each other's changes; an IDLE
// client hears of an SMTP delivery within a second.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { imapflow, imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';

function message(subject: string, body = 'Hello there.\r\n'): string {
  return [
    'From: Bob <bob@example.org>',
    'To: Alice <alice@sealpost.test>',
    `Subject: ${subject}`,
    'Date: Mon, 30 Nov 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}@example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
  ].join('\r\n');
}

describe('IMAP with imapflow', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;

  before(async () => {
    inst = await install();
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
  });

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('logs in, lists the default mailboxes with special-use, and refuses a wrong password', async () => {
    const c = await imapflow(port);
    const boxes = await c.list();
    const byName = new Map(boxes.map((b) => [b.path, b]));
    for (const n of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive']) assert.ok(byName.has(n), n);
    assert.equal(byName.get('Sent')!.specialUse, '\\Sent');
    assert.equal(byName.get('Trash')!.specialUse, '\\Trash');
    await c.logout();
    await assert.rejects(imapflow(port, 'alice@sealpost.test', 'wrong password'));
    await assert.rejects(imapflow(port, 'nobody@sealpost.test', 'wrong password'));
  });

  it('appends, fetches envelope, bodystructure and body, and keeps UIDs', async () => {
    const c = await imapflow(port);
    const r = await c.append('INBOX', message('First message'), ['\\Flagged']);
    assert.ok(r && typeof r === 'object' && r.uid! >= 1);
    const lock = await c.getMailboxLock('INBOX');
    try {
      const m = await c.fetchOne(
        String(r.uid),
        { uid: true, envelope: true, bodyStructure: true, source: true, flags: true },
        { uid: true },
      );
      assert.ok(m);
      assert.equal(m.envelope?.subject, 'First message');
      assert.equal(m.envelope?.from?.[0]?.address, 'bob@example.org');
      assert.equal(m.bodyStructure?.type, 'text/plain');
      assert.ok(m.flags?.has('\\Flagged'));
      assert.match(m.source!.toString(), /Hello there\./);
      // imapflow fetches with BODY.PEEK: the message stays unseen.
      assert.ok(!m.flags?.has('\\Seen'));
      // A body fetch without PEEK sets \Seen, and the response carries the new FLAGS.
      const raw = await RawImap.connect(port);
      await raw.login();
      await raw.command('s', 'SELECT INBOX');
      const lines = await raw.command('f', `UID FETCH ${r.uid} (BODY[TEXT])`);
      assert.match(lines.join('\n'), /FLAGS \([^)]*\\Seen/);
      raw.close();
      const seen = await c.fetchOne(String(r.uid), { flags: true }, { uid: true });
      assert.ok(seen && seen.flags?.has('\\Seen'));
    } finally {
      lock.release();
    }
    await c.logout();
  });

  it('stores flags, copies, moves and expunges with UIDPLUS answers', async () => {
    const c = await imapflow(port);
    await c.mailboxCreate('Projects/2026');
    const a = await c.append('INBOX', message('To move'));
    const b = await c.append('INBOX', message('To copy'));
    const lock = await c.getMailboxLock('INBOX');
    try {
      assert.ok(a && b);
      await c.messageFlagsAdd(String(b.uid), ['$Important'], { uid: true });
      const copied = await c.messageCopy(String(b.uid), 'Projects/2026', { uid: true });
      assert.ok(copied && copied.uidMap?.size === 1);
      const moved = await c.messageMove(String(a.uid), 'Projects/2026', { uid: true });
      assert.ok(moved && moved.uidMap?.size === 1);
      const left = await c.search({ uid: `${a.uid}` }, { uid: true });
      assert.deepEqual(left, []);
      await c.messageDelete(String(b.uid), { uid: true });
      const after = await c.search({ uid: `${b.uid}` }, { uid: true });
      assert.deepEqual(after, []);
    } finally {
      lock.release();
    }
    const status = await c.status('Projects/2026', { messages: true, uidNext: true });
    assert.equal((status as { messages?: number }).messages, 2);
    const lock2 = await c.getMailboxLock('Projects/2026');
    try {
      const subjects: string[] = [];
      for await (const m of c.fetch('1:*', { envelope: true, flags: true })) {
        subjects.push(m.envelope?.subject ?? '');
        if (m.envelope?.subject === 'To copy') assert.ok(m.flags?.has('$Important'));
      }
      assert.deepEqual(subjects.sort(), ['To copy', 'To move']);
    } finally {
      lock2.release();
    }
    await c.logout();
  });

  it('renames and deletes mailboxes; INBOX cannot be deleted', async () => {
    const c = await imapflow(port);
    await c.mailboxCreate('Old');
    await c.mailboxRename('Old', 'New');
    const names = (await c.list()).map((b) => b.path);
    assert.ok(names.includes('New') && !names.includes('Old'));
    await c.mailboxDelete('New');
    await assert.rejects(c.mailboxDelete('INBOX'));
    await c.logout();
  });

  it('tells a second session about flags, new mail and expunges', async () => {
    const one = await imapflow(port);
    const two = await imapflow(port);
    const l1 = await one.getMailboxLock('INBOX');
    const l2 = await two.getMailboxLock('INBOX');
    try {
      const existsBefore = (two.mailbox as { exists: number }).exists;
      const flags: string[] = [];
      const expunged: number[] = [];
      let exists = existsBefore;
      two.on('flags', (e: { flags: Set<string> }) => flags.push([...e.flags].join(' ')));
      two.on('exists', (e: { count: number }) => (exists = e.count));
      two.on('expunge', (e: { seq: number }) => expunged.push(e.seq));
      const r = await one.append('INBOX', message('Seen by two'));
      assert.ok(r);
      await two.noop();
      assert.equal(exists, existsBefore + 1);
      await one.messageFlagsAdd(String(r.uid), ['\\Answered'], { uid: true });
      await two.noop();
      assert.ok(
        flags.some((f) => f.includes('\\Answered')),
        `flags seen: ${flags.join('|')}`,
      );
      await one.messageDelete(String(r.uid), { uid: true });
      await two.noop();
      assert.equal(expunged.length, 1);
    } finally {
      l1.release();
      l2.release();
    }
    await one.logout();
    await two.logout();
  });

  it('tells an IDLE client of an SMTP delivery within a second', async () => {
    const c = await imapflow(port);
    const lock = await c.getMailboxLock('INBOX');
    try {
      const got = new Promise<number>((resolve) => c.on('exists', () => resolve(Date.now())));
      const idle = c.idle();
      await new Promise((r) => setTimeout(r, 200));
      const sent = Date.now();
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: srv.mxPort,
        secure: false,
        tls: { rejectUnauthorized: false },
      });
      await t.sendMail({
        envelope: { from: 'bob@example.org', to: ['alice@sealpost.test'] },
        raw: message('Idle news'),
      });
      const at = await got;
      assert.ok(at - sent < 1000, `notified after ${at - sent} ms`);
      await c.noop(); // ends IDLE
      await idle;
    } finally {
      lock.release();
    }
    await c.logout();
  });
});
