// Store contract, part 11: password history (recorded by setPasswordHash, newest
// first, capped at 10) and the account owner's security log (newest first, paging
// by beforeSeq, per-account isolation, removal with the account). Registered by
// runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecurityEvent } from '../types.ts';
import { type OpenStore, rejectsWith, seedAccount, useStore } from './fixtures.ts';

const T0 = 1_800_000_000_000;

function event(accountId: string, i: number, over: Partial<SecurityEvent> = {}): SecurityEvent {
  return {
    accountId,
    at: T0 + i,
    kind: 'login',
    protocol: 'imap',
    address: '192.0.2.1',
    client: 'Thunderbird',
    success: true,
    factor: 'password',
    detail: `event ${i}`,
    ...over,
  };
}

export function identityLogContract(open: OpenStore): void {
  const s = useStore(open);

  describe('password history', () => {
    it('records each replaced hash, newest first, keeping the newest 10', async () => {
      const { account } = await seedAccount(s());
      assert.deepEqual(await s().passwordHistory(account.id, 10), []);
      await s().setPasswordHash(account.id, 'h1');
      assert.deepEqual(await s().passwordHistory(account.id, 10), [account.passwordHash]);
      for (let i = 2; i <= 12; i++) await s().setPasswordHash(account.id, `h${i}`);
      const all = await s().passwordHistory(account.id, 50);
      assert.deepEqual(all, ['h11', 'h10', 'h9', 'h8', 'h7', 'h6', 'h5', 'h4', 'h3', 'h2']);
      assert.deepEqual(await s().passwordHistory(account.id, 3), ['h11', 'h10', 'h9']);
      assert.equal((await s().getAccount(account.id))?.passwordHash, 'h12');
    });

    it('records nothing when the account is missing, and keeps accounts apart', async () => {
      const { account } = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      await rejectsWith(s().setPasswordHash('acc_missing', 'x'), 'store.not-found');
      await s().setPasswordHash(bob.account.id, 'b1');
      assert.deepEqual(await s().passwordHistory(account.id, 10), []);
      assert.deepEqual(await s().passwordHistory('acc_missing', 10), []);
      await rejectsWith(s().passwordHistory(account.id, -1), 'input.invalid');
    });
  });

  describe('security log', () => {
    it('lists events newest first with store-assigned seqs, paging by beforeSeq', async () => {
      const { account } = await seedAccount(s());
      for (let i = 1; i <= 5; i++) {
        await s().appendSecurityEvent(event(account.id, i, i === 3 ? { success: false, factor: null } : {}));
      }
      const all = await s().listSecurityEvents(account.id, 10);
      assert.deepEqual(
        all.map((e) => e.detail),
        ['event 5', 'event 4', 'event 3', 'event 2', 'event 1'],
      );
      const seqs = all.map((e) => e.seq ?? 0);
      assert.ok(
        seqs.every((q, i) => i === 0 || q < (seqs[i - 1] ?? 0)),
        'seqs decrease',
      );
      assert.deepEqual(
        { ...all[2], seq: undefined },
        { ...event(account.id, 3, { success: false, factor: null }), seq: undefined },
      );
      const page1 = await s().listSecurityEvents(account.id, 2);
      const page2 = await s().listSecurityEvents(account.id, 2, page1[1]?.seq);
      const page3 = await s().listSecurityEvents(account.id, 2, page2[1]?.seq);
      assert.deepEqual(
        [...page1, ...page2, ...page3].map((e) => e.detail),
        all.map((e) => e.detail),
      );
      assert.deepEqual(await s().listSecurityEvents(account.id, 2, seqs[4]), []);
    });

    it('keeps accounts apart, refuses a missing account, and goes with the account', async () => {
      const alice = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      await s().appendSecurityEvent(event(alice.account.id, 1));
      await s().appendSecurityEvent(event(bob.account.id, 2, { kind: 'factor-added' }));
      await rejectsWith(s().appendSecurityEvent(event('acc_missing', 3)), 'store.not-found');
      await rejectsWith(s().appendSecurityEvent(event(alice.account.id, 4, { kind: '' })), 'input.invalid');
      assert.deepEqual(
        (await s().listSecurityEvents(bob.account.id, 10)).map((e) => e.kind),
        ['factor-added'],
      );
      await s().setPasswordHash(alice.account.id, 'new');
      await s().deleteAccount(alice.account.id);
      assert.deepEqual(await s().listSecurityEvents(alice.account.id, 10), []);
      assert.deepEqual(await s().passwordHistory(alice.account.id, 10), []);
      assert.equal((await s().listSecurityEvents(bob.account.id, 10)).length, 1);
    });
  });
}
