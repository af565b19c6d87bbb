import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../log/logger.ts';
import { seedAccount } from '../store/contract/fixtures.ts';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { MaildropLock } from './lock.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pop3 maildrop lock (real SQLite store)', () => {
  let dir: string;
  let store: SqliteStore;
  let accountId: string;
  const log = silentLogger();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-pop3-lock-'));
    store = await openSqliteStore({ path: join(dir, 'store.db') });
    await store.migrate();
    accountId = (await seedAccount(store)).account.id;
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('excludes a second session until the first releases', async () => {
    const a = await MaildropLock.acquire(store, accountId, 'session-a', log, () => {});
    assert.ok(a);
    assert.equal(await MaildropLock.acquire(store, accountId, 'session-b', log, () => {}), null);
    await a.release();
    await a.release(); // idempotent
    const b = await MaildropLock.acquire(store, accountId, 'session-b', log, () => {});
    assert.ok(b);
    await b.release();
  });

  it('keeps the lock alive by renewing it before the ttl runs out', async () => {
    const a = await MaildropLock.acquire(store, accountId, 'session-a', log, () => assert.fail('lost'), {
      ttlMs: 150,
      refreshMs: 40,
    });
    assert.ok(a);
    await sleep(400);
    assert.equal(await MaildropLock.acquire(store, accountId, 'session-b', log, () => {}), null);
    assert.equal(await a.confirm(), true);
    await a.release();
  });

  it('tells a stalled session that its lock was taken over, and confirm() then fails', async () => {
    let lost = false;
    const a = await MaildropLock.acquire(store, accountId, 'session-a', log, () => (lost = true), {
      ttlMs: 50,
      refreshMs: 150,
    });
    assert.ok(a);
    await sleep(80); // stale: the renewal has not run yet
    const b = await MaildropLock.acquire(store, accountId, 'session-b', log, () => {});
    assert.ok(b, 'a stale lock is taken over');
    await sleep(150);
    assert.equal(lost, true);
    assert.equal(a.held, false);
    assert.equal(await a.confirm(), false);
    await a.release(); // must not release b's lock
    assert.equal(await MaildropLock.acquire(store, accountId, 'session-c', log, () => {}), null);
    await b.release();
  });
});
