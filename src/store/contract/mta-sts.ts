// Store contract: the MTA-STS policy cache (getMtaStsPolicy, putMtaStsPolicy,
// deleteMtaStsPolicy). Registered by runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredStsPolicy } from '../types.ts';
import { type OpenStore, rejectsWith, useStore } from './fixtures.ts';

const NOW = Date.now();
const policy = (domain: string, over: Partial<StoredStsPolicy> = {}): StoredStsPolicy => ({
  domain,
  id: 'id1',
  text: 'version: STSv1\r\nmode: enforce\r\nmx: mx.example.org\r\nmax_age: 86400\r\n',
  fetchedAt: NOW,
  expiresAt: NOW + 86_400_000,
  ...over,
});

export function mtaStsContract(open: OpenStore): void {
  const s = useStore(open);
  describe('MTA-STS policy cache', () => {
    it('keeps one policy per domain, case-insensitively, and replaces it', async () => {
      await s().putMtaStsPolicy(policy('Example.ORG'));
      assert.deepEqual(await s().getMtaStsPolicy('example.org'), policy('example.org'));
      await s().putMtaStsPolicy(
        policy('example.org', { id: 'id2', text: 'version: STSv1\r\nmode: testing\r\n' }),
      );
      const got = await s().getMtaStsPolicy('EXAMPLE.org');
      assert.equal(got?.id, 'id2');
      assert.match(got?.text ?? '', /mode: testing/);
      await s().deleteMtaStsPolicy('example.org');
      assert.equal(await s().getMtaStsPolicy('example.org'), null);
      await s().deleteMtaStsPolicy('never.example'); // nothing to delete is fine
    });

    it('prunes expired policies as it stores new ones', async () => {
      await s().putMtaStsPolicy(policy('old.example', { fetchedAt: NOW - 10_000, expiresAt: NOW - 5_000 }));
      await s().putMtaStsPolicy(policy('new.example'));
      assert.equal(await s().getMtaStsPolicy('old.example'), null);
      assert.ok(await s().getMtaStsPolicy('new.example'));
    });

    it('refuses bad values and stores nothing', async () => {
      await rejectsWith(s().putMtaStsPolicy(policy('')), 'input.invalid');
      await rejectsWith(s().putMtaStsPolicy(policy('x.example', { id: '' })), 'input.invalid');
      await rejectsWith(s().putMtaStsPolicy(policy('x.example', { expiresAt: NOW - 1 })), 'input.invalid');
      assert.equal(await s().getMtaStsPolicy('x.example'), null);
    });
  });
}
