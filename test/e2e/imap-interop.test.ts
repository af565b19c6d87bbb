// Interoperability with independent IMAP clients: Python's imaplib, curl and
// mbsync (isync). mbsync syncs a 1,000-message mailbox to a local Maildir and
// back, with flag changes made on both sides, and the contents must be identical.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { imapflow, imapPort } from '../support/imap.ts';
import { type InProcess, type Installation, install, PASSWORD, startInProcess } from '../support/server.ts';

const run = promisify(execFile);
const USER = 'alice@sealpost.test';
const COUNT = 1000;

function message(i: number): string {
  return [
    'From: Sender <sender@example.org>',
    `To: ${USER}`,
    `Subject: Message number ${i}`,
    'Date: Tue, 01 Dec 2026 09:00:00 +0000',
    `Message-ID: <m${i}@example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of message ${i}.`,
    `.A line starting with a dot, and some text ${'x'.repeat(i % 200)}`,
    '',
  ].join('\r\n');
}

describe('IMAP interoperability', () => {
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

  it('works with Python imaplib: login, append, search, fetch, store, expunge', async () => {
    const script = `
import imaplib, ssl, sys
ctx = ssl._create_unverified_context()
m = imaplib.IMAP4_SSL('127.0.0.1', ${port}, ssl_context=ctx)
m.login(sys.argv[1], sys.argv[2])
typ, _ = m.append('INBOX', '(\\\\Flagged)', None, b'From: py@example.org\\r\\nSubject: From Python\\r\\n\\r\\nHello from imaplib.\\r\\n')
assert typ == 'OK', typ
typ, data = m.select('INBOX')
assert typ == 'OK'
typ, data = m.search(None, 'FLAGGED', 'SUBJECT', '"From Python"')
ids = data[0].split()
assert len(ids) == 1, data
typ, data = m.fetch(ids[0], '(BODY.PEEK[TEXT] FLAGS)')
assert b'Hello from imaplib.' in data[0][1], data
typ, data = m.store(ids[0], '+FLAGS', '(\\\\Deleted)')
assert typ == 'OK' and b'\\\\Deleted' in data[0], data
typ, data = m.expunge()
assert typ == 'OK' and data[0] == ids[0], data
typ, data = m.search(None, 'SUBJECT', '"From Python"')
assert data[0] == b'', data
m.logout()
print('ok')
`;
    const { stdout } = await run('python3', ['-c', script, USER, PASSWORD]);
    assert.equal(stdout.trim(), 'ok');
  });

  it('works with curl: examine, fetch by UID, and a custom command', async () => {
    const c = await imapflow(port);
    const r = await c.append('INBOX', message(0));
    await c.logout();
    assert.ok(r);
    const base = ['-sS', '-k', '--user', `${USER}:${PASSWORD}`];
    const { stdout: body } = await run('curl', [...base, `imaps://127.0.0.1:${port}/INBOX;UID=${r.uid}`]);
    assert.match(body, /Body of message 0\./);
    const { stdout: examine } = await run('curl', [
      ...base,
      '-X',
      'EXAMINE INBOX',
      `imaps://127.0.0.1:${port}/`,
    ]);
    assert.match(examine, /UIDVALIDITY/);
    const bad = await run('curl', [
      '-sS',
      '-k',
      '--user',
      `${USER}:wrong`,
      `imaps://127.0.0.1:${port}/INBOX`,
    ]).then(
      () => 'ok',
      (e: { code: number }) => e.code,
    );
    assert.equal(bad, 67); // CURLE_LOGIN_DENIED
  });

  it('syncs 1,000 messages with mbsync both ways, flags included, with identical contents', {
    timeout: 600_000,
  }, async () => {
    const c = await imapflow(port);
    await c.mailboxCreate('Sync');
    for (let i = 1; i <= COUNT; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => c.append('Sync', message(i + k))));
    }
    const dir = path.join(inst.dir, 'mbsync');
    mkdirSync(path.join(dir, 'mail'), { recursive: true });
    const config = path.join(dir, 'mbsyncrc');
    writeFileSync(
      config,
      [
        'IMAPAccount sealpost',
        'Host 127.0.0.1',
        `Port ${port}`,
        `User ${USER}`,
        `Pass "${PASSWORD}"`,
        'SSLType IMAPS',
        `CertificateFile ${inst.config().tls.cert_file}`,
        '',
        'IMAPStore remote',
        'Account sealpost',
        '',
        'MaildirStore local',
        `Path ${path.join(dir, 'mail')}/`,
        '',
        'Channel sync',
        'Far :remote:',
        'Near :local:',
        'Patterns Sync',
        'Create Both',
        'Sync All',
        `SyncState ${dir}/`,
        '',
      ].join('\n'),
    );
    const sync = async () => {
      const { stdout, stderr } = await run('mbsync', ['-c', config, '-a'], { maxBuffer: 10 * 1024 * 1024 });
      assert.doesNotMatch(`${stdout}\n${stderr}`, /error|warning/i, stderr);
    };
    await sync();
    const box = path.join(dir, 'mail', 'Sync');
    const files = () =>
      ['cur', 'new'].flatMap((d) => readdirSync(path.join(box, d)).map((f) => path.join(box, d, f)));
    let local = files();
    assert.equal(local.length, COUNT);
    const byId = new Map<number, string>();
    for (const f of local) {
      const text = readFileSync(f, 'latin1');
      const i = Number(/Message-ID: <m(\d+)@/.exec(text)![1]);
      // mbsync writes Maildir files with local (LF) line ends.
      assert.equal(
        text.replace(/^X-TUID: .*\r?\n/m, ''),
        message(i).replace(/\r\n/g, '\n'),
        `message ${i} differs`,
      );
      byId.set(i, f);
    }
    // Flags both ways: \Flagged on 1..10 locally, \Seen on 11..20 on the server.
    for (let i = 1; i <= 10; i++) {
      const f = byId.get(i)!;
      const base = path.basename(f).replace(/:2,.*$/, '');
      renameSync(f, path.join(box, 'cur', `${base}:2,F`));
    }
    const lock = await c.getMailboxLock('Sync');
    try {
      const uids = await c.search(
        {
          or: Array.from({ length: 10 }, (_, k) => ({
            header: { 'message-id': `<m${11 + k}@example.org>` },
          })),
        },
        { uid: true },
      );
      assert.equal(uids && uids.length, 10);
      await c.messageFlagsAdd(uids as number[], ['\\Seen'], { uid: true });
    } finally {
      lock.release();
    }
    await sync();
    local = files();
    assert.equal(local.length, COUNT);
    const flagsOf = (i: number) => {
      const f = local.find((x) => readFileSync(x, 'latin1').includes(`<m${i}@example.org>`))!;
      return /:2,([A-Z]*)$/.exec(f)?.[1] ?? '';
    };
    for (let i = 11; i <= 20; i++) assert.match(flagsOf(i), /S/, `local flags of ${i}`);
    const lock2 = await c.getMailboxLock('Sync');
    try {
      // (Flag changes made by mbsync's own session reach this one as unsolicited
      // FETCH responses, so ask the server which messages are flagged.)
      const flagged = (await c.search({ flagged: true }, { uid: true })) as number[];
      assert.equal(flagged.length, 10);
      for await (const m of c.fetch(flagged.join(','), { envelope: true }, { uid: true })) {
        if (m.envelope === undefined) continue;
        const n = Number(/number (\d+)/.exec(m.envelope.subject ?? '')?.[1]);
        assert.ok(n >= 1 && n <= 10, `server \\Flagged on ${n}`);
      }
    } finally {
      lock2.release();
    }
    // And back: a message written into the local Maildir is uploaded unchanged.
    writeFileSync(
      path.join(box, 'new', `${Date.now()}.local.sealpost:2,S`),
      message(COUNT + 1).replace(/\r\n/g, '\n'),
    );
    await sync();
    const lock3 = await c.getMailboxLock('Sync');
    try {
      const found = (await c.search(
        { header: { 'message-id': `<m${COUNT + 1}@example.org>` } },
        { uid: true },
      )) as number[];
      assert.equal(found.length, 1);
      const up = await c.fetchOne(String(found[0]), { source: true, flags: true }, { uid: true });
      assert.ok(up);
      assert.equal(up.source?.toString('latin1').replace(/^X-TUID: .*\r\n/m, ''), message(COUNT + 1));
      assert.ok(up.flags?.has('\\Seen'));
      const status = (await c.status('Sync', { messages: true })) as { messages?: number };
      assert.equal(status.messages, COUNT + 1);
    } finally {
      lock3.release();
    }
    await c.logout();
  });
});
