// Store contract, part 8: the blind search index (searchTerms) and the POP3
// maildrop lock. Registered by runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bytes, newMessage, type OpenStore, rejectsWith, seedAccount, useStore } from './fixtures.ts';

export function searchLockContract(open: OpenStore): void {
  const s = useStore(open);

  describe('searchTerms', () => {
    it('returns the messages having ALL terms, per account', async () => {
      const { account, inbox, mailboxes } = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const [hello, world, other, missing] = [bytes(16), bytes(16), bytes(16), bytes(16)];
      const both = newMessage(inbox, { searchTerms: [hello, world, hello] });
      const onlyHello = newMessage(mailboxes.find((m) => m.name === 'Sent')!, {
        searchTerms: [hello, other],
      });
      const none = newMessage(inbox);
      const bobs = newMessage(bob.inbox, { searchTerms: [hello, world] });
      await s().appendMessages([both, onlyHello, none, bobs]);
      const search = (terms: Uint8Array[]) => s().searchTerms(account.id, terms);
      assert.deepEqual(await search([hello]), new Set([both.id, onlyHello.id]));
      assert.deepEqual(await search([new Uint8Array(world), hello]), new Set([both.id]));
      assert.deepEqual(await search([hello, hello, other]), new Set([onlyHello.id]));
      assert.deepEqual(await search([hello, missing]), new Set());
      assert.deepEqual(await search([]), new Set([both.id, onlyHello.id, none.id]));
      assert.deepEqual(await s().searchTerms(bob.account.id, [hello]), new Set([bobs.id]));
      await rejectsWith(search([bytes(15)]), 'input.invalid');
      await rejectsWith(
        s().appendMessages([newMessage(inbox, { searchTerms: [bytes(17)] })]),
        'input.invalid',
      );
      assert.equal((await s().getMailboxById(inbox.id))?.messageCount, 2);
    });

    it('terms go with the message row: kept while a copy lives, gone after the last entry', async () => {
      const { account, inbox, mailboxes } = await seedAccount(s());
      const trash = mailboxes.find((m) => m.name === 'Trash')!;
      const term = bytes(16);
      const m = newMessage(inbox, { searchTerms: [term, bytes(16)] });
      const kept = newMessage(inbox, { searchTerms: [term] });
      await s().appendMessages([m, kept]);
      await s().copyMessages(inbox.id, [1], trash.id);
      await s().expunge(inbox.id, [1]);
      assert.deepEqual(await s().searchTerms(account.id, [term]), new Set([m.id, kept.id]));
      await s().deleteMailbox(trash.id);
      assert.deepEqual(await s().searchTerms(account.id, [term]), new Set([kept.id]));
      await s().expunge(inbox.id, [2]);
      assert.deepEqual(await s().searchTerms(account.id, [term]), new Set());
      // A new message with the same id after deletion would not inherit old terms.
      const again = newMessage(inbox, { id: m.id, blobRef: m.blobRef, sealedBlob: m.sealedBlob });
      await s().appendMessages([again]);
      assert.deepEqual(await s().searchTerms(account.id, [term]), new Set());
      await s().deleteAccount(account.id);
      assert.deepEqual(await s().searchTerms(account.id, []), new Set());
    });
  });

  describe('maildrop lock', () => {
    it('is exclusive, refreshed and released by its owner only', async () => {
      const { account } = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      assert.equal(await s().lockMaildrop(account.id, 'session-1', 60_000), true);
      assert.equal(await s().lockMaildrop(account.id, 'session-2', 60_000), false);
      assert.equal(await s().lockMaildrop(bob.account.id, 'session-2', 60_000), true, 'per account');
      assert.equal(await s().lockMaildrop(account.id, 'session-1', 60_000), true, 'the owner again');
      assert.equal(await s().refreshMaildropLock(account.id, 'session-1', 60_000), true);
      assert.equal(await s().refreshMaildropLock(account.id, 'session-2', 60_000), false);
      await s().unlockMaildrop(account.id, 'session-2'); // not the owner: nothing happens
      assert.equal(await s().lockMaildrop(account.id, 'session-2', 60_000), false);
      await s().unlockMaildrop(account.id, 'session-1');
      assert.equal(await s().refreshMaildropLock(account.id, 'session-1', 60_000), false);
      assert.equal(await s().lockMaildrop(account.id, 'session-2', 60_000), true);
      const racers = await Promise.all(
        ['a', 'b', 'c', 'd'].map((owner) => s().lockMaildrop(bob.account.id, owner, 60_000)),
      );
      assert.deepEqual(racers, [false, false, false, false], 'session-2 still holds bob');
      await rejectsWith(s().lockMaildrop('acc_missing', 'x', 1000), 'store.not-found');
      await rejectsWith(s().lockMaildrop(account.id, '', 1000), 'input.invalid');
      await rejectsWith(s().lockMaildrop(account.id, 'x', 0), 'input.invalid');
      await rejectsWith(s().lockMaildrop(account.id, 'x', 1.5), 'input.invalid');
    });

    it('a stale lock is taken over; its old owner can no longer refresh or release it', async () => {
      const { account } = await seedAccount(s());
      assert.equal(await s().lockMaildrop(account.id, 'crashed', 20), true);
      assert.equal(await s().lockMaildrop(account.id, 'next', 60_000), false);
      await sleep(60);
      assert.equal(await s().lockMaildrop(account.id, 'next', 60_000), true);
      assert.equal(await s().refreshMaildropLock(account.id, 'crashed', 60_000), false);
      await s().unlockMaildrop(account.id, 'crashed');
      assert.equal(await s().lockMaildrop(account.id, 'third', 60_000), false);
      await s().deleteAccount(account.id);
      const again = await seedAccount(s());
      assert.equal(await s().lockMaildrop(again.account.id, 'third', 60_000), true);
    });
  });
}
