// The shared mailbox picture and the per-session views over it, against a real
// SQLite store: changes reach every session once, a session's own flag change is
// not echoed back to it, and an expunge held back from one session (a sequence
// command in progress) keeps that message readable for it until it is reported.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newMessage, seedAccount } from '../store/contract/fixtures.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Mailbox, Store } from '../store/types.ts';
import { MailboxCaches } from './mailbox-cache.ts';
import { SelectedMailbox } from './selected.ts';

const HOLD = { allowExpunge: false, condstore: false, qresync: false };
const SEND = { allowExpunge: true, condstore: false, qresync: false };

describe('shared mailbox cache and session views', () => {
  let dir: string;
  let store: Store;
  let inbox: Mailbox;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-view-'));
    store = await openSqliteStore({ path: join(dir, 'store.db'), onListenerError: () => {} });
    await store.migrate();
    inbox = (await seedAccount(store)).inbox;
    await store.appendMessages([1, 2, 3].map(() => newMessage(inbox)));
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const open = async (caches: MailboxCaches) => {
    const box = (await store.getMailboxById(inbox.id))!;
    return new SelectedMailbox(box, [], false, await caches.acquire(store, box));
  };

  it("shares one cache, reports others' changes once, and not a session's own", async () => {
    const caches = new MailboxCaches();
    const a = await open(caches);
    const b = await open(caches);
    assert.equal(a.cache, b.cache);
    assert.equal(caches.size, 1);
    const r = await store.storeFlags(inbox.id, [a.uids[0]!], ['\\Seen'], 'add');
    a.applyFlags(a.uids[0]!, ['\\Seen'], r.modseq);
    assert.deepEqual(await a.sync(store, SEND), []);
    assert.deepEqual(await b.sync(store, SEND), [`1 FETCH (UID ${a.uids[0]} FLAGS (\\Seen))`]);
    assert.deepEqual(await b.sync(store, SEND), []);
    await store.appendMessages([newMessage(inbox)]);
    assert.deepEqual(await a.sync(store, SEND), ['4 EXISTS']);
    assert.deepEqual(await b.sync(store, SEND), ['4 EXISTS']);
    a.release(caches);
    assert.equal(caches.size, 1);
    b.release(caches);
    assert.equal(caches.size, 0);
  });

  it('keeps a held-back expunged message readable until it is reported', async () => {
    const caches = new MailboxCaches();
    const a = await open(caches);
    const b = await open(caches);
    const gone = a.uids[1]!;
    await store.expunge(inbox.id, [gone]);
    assert.deepEqual(await a.sync(store, HOLD), []); // e.g. during SEARCH: no EXPUNGE yet
    assert.deepEqual(await b.sync(store, SEND), ['2 EXPUNGE']);
    assert.equal(a.seqOf(gone), 2);
    assert.ok(a.entries.get(gone), 'still numbered by a, so still readable');
    assert.equal(b.entries.get(gone), undefined);
    assert.deepEqual(await a.sync(store, SEND), ['2 EXPUNGE']);
    assert.equal(a.entries.get(gone), undefined);
    a.release(caches);
    b.release(caches);
  });
});
