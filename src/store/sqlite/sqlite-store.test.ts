// The SQLite backend: the shared Store contract, plus what only SQLite has —
// PRAGMAs, file mode, visibility to a second connection (another process's view),
// cross-process serialisation, group commit sharing one WAL write, migrations.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isSealpostError } from '../../core/errors.ts';
import { newMessage, seedAccount } from '../contract/fixtures.ts';
import { runStoreContract } from '../contract.ts';
import type { Store } from '../types.ts';
import { openSqliteStore, type SqliteStore } from './sqlite-store.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sealpost-sqlite-'));
}

runStoreContract('sqlite', async () => {
  const dir = await tempDir();
  // The contract throws from a listener on purpose; keep the test output quiet.
  const store = await openSqliteStore({ path: join(dir, 'store.db'), onListenerError: () => {} });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('SqliteStore', () => {
  let dir = '';
  let path = '';
  const opened: Store[] = [];
  const open = async (busyTimeoutMs?: number): Promise<SqliteStore> => {
    const store = await openSqliteStore(busyTimeoutMs === undefined ? { path } : { path, busyTimeoutMs });
    await store.migrate();
    opened.push(store);
    return store;
  };
  before(async () => {
    dir = await tempDir();
    path = join(dir, 'store.db');
  });
  after(async () => {
    for (const s of opened) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs WAL, synchronous=FULL, foreign keys and the busy timeout; the file is 0600', async () => {
    const store = await open();
    assert.equal(store.pragma('journal_mode'), 'wal');
    assert.equal(store.pragma('synchronous'), 2); // FULL
    assert.equal(store.pragma('foreign_keys'), 1);
    assert.equal(store.pragma('busy_timeout'), 5000);
    assert.equal((await open(1234)).pragma('busy_timeout'), 1234);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('a resolved write is visible to a second connection at once, and listeners run after COMMIT', async () => {
    const a = await open();
    const b = await open();
    const { account, inbox } = await seedAccount(a, 'vis');
    assert.equal((await b.getAccount(account.id))?.address, 'vis@example.test');
    const seenByOther: unknown[] = [];
    const off = a.onChange((c) => {
      // A synchronous read on another connection: sees the row only if committed.
      const other = new DatabaseSync(path, { readOnly: true });
      seenByOther.push(
        other.prepare('SELECT uid FROM mailbox_message WHERE message_id = ?').get(c.messageId)?.['uid'],
      );
      other.close();
    });
    const [appended] = await a.appendMessages([newMessage(inbox)]);
    off();
    assert.deepEqual(seenByOther, [1]);
    assert.equal((await b.getMessage(inbox.id, 1))?.id, appended?.messageId);
    assert.equal((await b.getMailboxById(inbox.id))?.messageCount, 1);
    await a.setFlags(inbox.id, [1], ['\\Seen'], 'add');
    assert.deepEqual((await b.getMessage(inbox.id, 1))?.flags, ['\\Seen']);
    await a.appendAudit(() => ({
      seq: 1,
      at: 1,
      actor: 'a',
      action: 'x',
      target: 't',
      detail: '{}',
      prevHash: '0',
      hash: '1',
    }));
    assert.equal((await b.listAudit()).length, 1);
  });

  it('group commit: 50 concurrent appends write far less WAL than 50 sequential ones', async () => {
    const store = await open();
    const { inbox } = await seedAccount(store, 'group');
    // WAL bytes written: reset the WAL, do the work, measure the -wal file.
    const probe = new DatabaseSync(path);
    const walBytes = async (): Promise<number> => {
      const size = (await stat(`${path}-wal`)).size;
      probe.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      return size;
    };
    await walBytes();
    await Promise.all(Array.from({ length: 50 }, () => store.appendMessages([newMessage(inbox)])));
    const concurrent = await walBytes();
    for (let i = 0; i < 50; i++) await store.appendMessages([newMessage(inbox)]);
    const sequential = await walBytes();
    probe.close();
    assert.ok(concurrent * 5 < sequential, `WAL bytes: concurrent ${concurrent}, sequential ${sequential}`);
  });

  it('serialises appends from two processes: unique UIDs and one audit chain', async () => {
    const store = await open();
    const { inbox } = await seedAccount(store, 'multi');
    const storeUrl = new URL('./sqlite-store.ts', import.meta.url).href;
    const fixturesUrl = new URL('../contract/fixtures.ts', import.meta.url).href;
    const child = `
      const { openSqliteStore } = await import(${JSON.stringify(storeUrl)});
      const { newMessage } = await import(${JSON.stringify(fixturesUrl)});
      const store = await openSqliteStore({ path: process.argv[1] });
      const inbox = await store.getMailboxById(process.argv[2]);
      for (let i = 0; i < 25; i++) {
        await store.appendMessages([newMessage(inbox)]);
        await store.appendAudit((last) => ({ seq: (last?.seq ?? 0) + 1, at: 1, actor: 'p', action: 'x',
          target: 't', detail: '{}', prevHash: last?.hash ?? '', hash: String((last?.seq ?? 0) + 1) }));
      }
      await store.close();`;
    const run = promisify(execFile);
    const args = ['--input-type=module', '--eval', child, path, inbox.id];
    await Promise.all([run(process.execPath, args), run(process.execPath, args)]);
    const uids = (await store.listMessages(inbox.id)).map((m) => m.uid);
    assert.deepEqual(
      uids,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal((await store.getMailboxById(inbox.id))?.uidNext, 51);
    const audit = await store.listAudit();
    assert.deepEqual(
      audit.map((r) => r.seq),
      Array.from({ length: audit.length }, (_, i) => i + 1),
    );
    assert.ok(audit.length >= 50);
    for (let i = 1; i < audit.length; i++) assert.equal(audit[i]!.prevHash, audit[i - 1]!.hash);
  });

  it('reports a throwing listener to onListenerError and carries on', async () => {
    const errors: unknown[] = [];
    const store = await openSqliteStore({ path, onListenerError: (e) => errors.push(e) });
    opened.push(store);
    const heard: number[] = [];
    store.onChange(() => {
      throw new Error('boom');
    });
    store.onChange((c) => heard.push(c.seq));
    const { inbox } = await seedAccount(store, 'noisy');
    await store.appendMessages([newMessage(inbox)]);
    assert.equal(errors.length, heard.length);
    assert.ok(heard.length >= 2);
    assert.match(String(errors[0]), /boom/);
  });

  it('keeps data across reopen; a closed store is unavailable', async () => {
    const store = await open();
    await store.setMeta('reopen', 'yes');
    await store.close();
    await assert.rejects(store.getMeta('reopen'), (e: unknown) => isSealpostError(e, 'store.unavailable'));
    await assert.rejects(store.appendMessages([]), (e: unknown) => isSealpostError(e, 'store.unavailable'));
    assert.equal(await (await open()).getMeta('reopen'), 'yes');
  });

  it('records migrations and refuses a schema newer than the code', async () => {
    const store = await open();
    await store.migrate();
    const raw = new DatabaseSync(path);
    assert.deepEqual(
      raw
        .prepare('SELECT version, name FROM schema_migrations')
        .all()
        .map((r) => ({ ...r })),
      [
        { version: 1, name: 'initial schema' },
        { version: 2, name: 'inline blobs' },
        { version: 3, name: 'imap and pop3: change index, search terms, maildrop lock' },
        { version: 4, name: 'search index as one Bloom filter per message' },
        { version: 5, name: 'login failure counters' },
        { version: 6, name: 'identity: app passwords, second factors, password history, security log' },
        { version: 7, name: 'web sessions' },
        { version: 8, name: 'outbound queue' },
        { version: 9, name: 'dkim keys' },
        { version: 10, name: 'sending counters and suspensions' },
        { version: 11, name: 'mta-sts policy cache' },
      ],
    );
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future');
    await assert.rejects(store.migrate(), (e: unknown) => isSealpostError(e, 'store.unavailable'));
    raw.prepare('DELETE FROM schema_migrations WHERE version = 99').run();
    // The guard is a row trigger: it needs a row to refuse (an empty DELETE succeeds).
    await store.appendAudit((last) => ({
      seq: (last?.seq ?? 0) + 1,
      at: 0,
      actor: 'test',
      action: 'probe',
      target: '',
      detail: '{}',
      prevHash: last?.hash ?? '0'.repeat(64),
      hash: '1'.repeat(64),
    }));
    assert.throws(() => raw.prepare('DELETE FROM audit_log').run(), /append-only/);
    assert.throws(() => raw.prepare("UPDATE audit_log SET actor = 'x'").run(), /append-only/);
    raw.close();
  });
});
