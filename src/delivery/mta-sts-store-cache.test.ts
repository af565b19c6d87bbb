// The store-backed MTA-STS cache on a real SQLite store: a policy written by one cache
// is read back, parsed, by another (a restarted node); a row that no longer parses is
// dropped rather than trusted.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { parseStsPolicy } from './mta-sts-policy.ts';
import { StoreMtaStsCache } from './mta-sts-store-cache.ts';

describe('StoreMtaStsCache', () => {
  let dir: string;
  let store: SqliteStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-mta-sts-'));
    store = await openSqliteStore({ path: join(dir, 'sealpost.db') });
    await store.migrate();
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a policy across cache instances, as fetched', async () => {
    const parsed = parseStsPolicy(
      'version: STSv1\nmode: enforce\nmx: *.example.org\nmx: mx.example.net\nmax_age: 604800\n',
    );
    assert.ok(parsed.ok);
    const now = Date.now();
    await new StoreMtaStsCache(store).set({
      domain: 'example.org',
      id: '20261202',
      policy: parsed.value,
      fetchedAt: now,
      expiresAt: now + 604_800_000,
    });
    const again = await new StoreMtaStsCache(store).get('example.org');
    assert.ok(again);
    assert.equal(again.id, '20261202');
    assert.deepEqual(again.policy, parsed.value);
    assert.equal(again.expiresAt, now + 604_800_000);
    assert.equal(await new StoreMtaStsCache(store).get('other.example'), undefined);
  });

  it('drops a stored policy that does not parse', async () => {
    const now = Date.now();
    await store.putMtaStsPolicy({
      domain: 'broken.example',
      id: 'x',
      text: 'mode: enforce\n',
      fetchedAt: now,
      expiresAt: now + 1000,
    });
    assert.equal(await new StoreMtaStsCache(store).get('broken.example'), undefined);
    assert.equal(await store.getMtaStsPolicy('broken.example'), null);
  });
});
