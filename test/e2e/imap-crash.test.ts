// Durability over IMAP: APPEND, STORE, COPY and EXPUNGE answered OK survive a
// kill -9 of the server (their commits are fsync'd before the OK, also when they
// share the WAL fsync off the event loop).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawImap } from '../support/imap.ts';
import { type Child, freePort, type Installation, install, startChild } from '../support/server.ts';

const raw = (n: number) =>
  `From: a@example.org\r\nSubject: durable ${n}\r\nMessage-ID: <d${n}@example.org>\r\n\r\nBody ${n}\r\n`;

describe('IMAP durability across kill -9', () => {
  let inst: Installation;
  let child: Child;
  let imap: number;

  before(async () => {
    imap = await freePort();
    inst = await install({ env: { SEALPOST_IMAP_PORT: String(imap) } });
    child = await startChild(inst, await freePort());
  });
  after(async () => {
    await child.stop();
    await inst.cleanup();
  });

  it('keeps every acknowledged change', async () => {
    const c = await RawImap.connect(imap);
    await c.login();
    // Ten sessions' worth of writes in flight at once, all acknowledged before the kill.
    const appends = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const s = await RawImap.connect(imap);
        await s.login();
        s.write(`a APPEND INBOX {${raw(i).length}+}\r\n${raw(i)}\r\n`);
        const ok = (await s.until(/^a (OK|NO|BAD)/)).at(-1)!;
        s.close();
        return ok;
      }),
    );
    assert.ok(
      appends.every((l) => /^a OK \[APPENDUID \d+ \d+\]/.test(l)),
      appends.join('\n'),
    );
    await c.command('s', 'SELECT INBOX');
    assert.match((await c.command('f', 'UID STORE 1:5 +FLAGS (\\Flagged)')).at(-1)!, /^f OK/);
    assert.match((await c.command('d', 'UID STORE 6:8 +FLAGS.SILENT (\\Deleted)')).at(-1)!, /^d OK/);
    assert.match((await c.command('e', 'EXPUNGE')).at(-1)!, /^e OK/);
    assert.match((await c.command('k', 'UID COPY 9:10 Archive')).at(-1)!, /^k OK \[COPYUID/);
    child.process.kill('SIGKILL');
    await new Promise((r) => child.process.once('exit', r));
    c.close();

    child = await startChild(inst, await freePort());
    const after = await RawImap.connect(imap);
    await after.login();
    const sel = await after.command('s', 'SELECT INBOX');
    assert.ok(sel.includes('* 17 EXISTS'), sel.join('\n'));
    const flagged = await after.command('q', 'UID SEARCH FLAGGED');
    assert.ok(flagged.includes('* SEARCH 1 2 3 4 5'), flagged.join('\n'));
    const gone = await after.command('g', 'UID SEARCH UID 6:8');
    assert.ok(gone.includes('* SEARCH'), gone.join('\n'));
    const archive = await after.command('t', 'STATUS Archive (MESSAGES)');
    assert.ok(
      archive.some((l) => /MESSAGES 2\)/.test(l)),
      archive.join('\n'),
    );
    after.close();
  });
});
