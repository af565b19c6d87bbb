// Login throttling over a real SQLite store: the counts every role shares.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/types.ts';
import { DEFAULT_THROTTLE, LoginThrottle } from './throttle.ts';

function clock(start = 1_800_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('LoginThrottle', () => {
  let dir: string;
  let store: Store;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-throttle-'));
    store = await openSqliteStore({ path: join(dir, 'store.db'), onListenerError: () => {} });
    await store.migrate();
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lets the free failures of a pair through, then backs off exponentially up to the ceiling', async () => {
    const c = clock();
    const t = new LoginThrottle(store, DEFAULT_THROTTLE, c.now);
    for (let i = 0; i < DEFAULT_THROTTLE.freeFailures.pair; i++) {
      assert.equal(await t.waitMs('192.0.2.1', 'a@x'), 0);
      await t.failure('192.0.2.1', 'a@x');
    }
    await t.failure('192.0.2.1', 'a@x');
    const first = await t.waitMs('192.0.2.1', 'a@x');
    assert.ok(first > 0 && first <= 2 * DEFAULT_THROTTLE.baseDelayMs, String(first));
    await t.failure('192.0.2.1', 'a@x');
    assert.ok((await t.waitMs('192.0.2.1', 'a@x')) > first);
    for (let i = 0; i < 40; i++) await t.failure('192.0.2.1', 'a@x');
    assert.ok((await t.waitMs('192.0.2.1', 'a@x')) <= DEFAULT_THROTTLE.maxDelayMs);
    c.advance(DEFAULT_THROTTLE.maxDelayMs + 1);
    assert.equal(await t.waitMs('192.0.2.1', 'a@x'), 0, 'never a permanent lock');
  });

  it('slows guesses spread over many addresses against one account, but not other accounts', async () => {
    const c = clock(1_900_000_000_000);
    const t = new LoginThrottle(store, DEFAULT_THROTTLE, c.now);
    for (let i = 0; i < 50; i++) await t.failure(`198.51.100.${i}`, 'victim@x');
    assert.ok((await t.waitMs('203.0.113.9', 'victim@x')) > 0, 'account-wide back-off');
    assert.equal(await t.waitMs('203.0.113.9', 'other@x'), 0);
  });

  it('slows one address guessing many accounts; a /64 counts as one address', async () => {
    const c = clock(2_000_000_000_000);
    const t = new LoginThrottle(store, DEFAULT_THROTTLE, c.now);
    for (let i = 0; i < 50; i++) await t.failure(`2001:db8::${i.toString(16)}`, `user${i}@x`);
    assert.ok((await t.waitMs('2001:db8::ffff', 'fresh@x')) > 0);
    assert.equal(await t.waitMs('2001:db8:1::1', 'fresh@x'), 0);
  });

  it('shares counts between throttles on one store (every role), clears the pair on success, forgets', async () => {
    const c = clock(2_100_000_000_000);
    const imap = new LoginThrottle(store, DEFAULT_THROTTLE, c.now);
    const pop3 = new LoginThrottle(store, DEFAULT_THROTTLE, c.now);
    for (let i = 0; i < 8; i++) await (i % 2 ? imap : pop3).failure('192.0.2.7', 'b@x');
    assert.ok((await imap.waitMs('192.0.2.7', 'b@x')) > 0);
    await pop3.success('192.0.2.7', 'b@x');
    assert.equal(await imap.waitMs('192.0.2.7', 'b@x'), 0);
    for (let i = 0; i < 12; i++) await imap.failure('192.0.2.8', 'c@x');
    c.advance(DEFAULT_THROTTLE.forgetMs + 1);
    assert.equal(await pop3.waitMs('192.0.2.8', 'c@x'), 0);
  });
});
