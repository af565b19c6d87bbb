// Store contract, part 9: the failed-login counters behind login throttling
// (countLoginFailures, getLoginCounters, clearLoginCounter). Registered by
// runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OpenStore, useStore } from './fixtures.ts';

export function loginCountersContract(open: OpenStore): void {
  const s = useStore(open);
  const FORGET = 60_000;

  describe('login counters', () => {
    it('counts failures per key, restarts a stale count, and clears a key', async () => {
      const t0 = 1_800_000_000_000;
      let r = await s().countLoginFailures(['a:192.0.2.1', 'u:alice@x'], t0, FORGET);
      assert.deepEqual(r.map((c) => [c.key, c.failures]).sort(), [
        ['a:192.0.2.1', 1],
        ['u:alice@x', 1],
      ]);
      r = await s().countLoginFailures(['u:alice@x'], t0 + 1000, FORGET);
      assert.deepEqual(r, [{ key: 'u:alice@x', failures: 2, lastFailure: t0 + 1000 }]);
      r = await s().countLoginFailures(['u:alice@x'], t0 + 1000 + FORGET + 1, FORGET);
      assert.equal(r[0]!.failures, 1, 'a count older than forgetMs starts again');
      await s().clearLoginCounter('u:alice@x');
      assert.deepEqual(await s().getLoginCounters(['u:alice@x']), []);
      assert.deepEqual(await s().getLoginCounters([]), []);
    });

    it('prunes counters older than forgetMs as it counts', async () => {
      const t0 = 1_800_000_000_000;
      await s().countLoginFailures(['old'], t0, FORGET);
      await s().countLoginFailures(['new'], t0 + FORGET + 10, FORGET);
      assert.deepEqual(
        (await s().getLoginCounters(['old', 'new'])).map((c) => c.key),
        ['new'],
      );
    });
  });
}
