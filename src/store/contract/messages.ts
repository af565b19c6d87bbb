// Store contract, part 2: appendMessages (including concurrent callers and group
// commit), reads, flags, expunge and threads. Registered by runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewMessage } from '../types.ts';
import {
  bytes,
  mailbox,
  newMessage,
  type OpenStore,
  rejectsWith,
  sameBytes,
  seedAccount,
  usedBytes,
  useStore,
} from './fixtures.ts';

export function messagesContract(open: OpenStore): void {
  const s = useStore(open);

  describe('appendMessages', () => {
    it('assigns increasing UIDs and modseqs and keeps counters', async () => {
      const { account, inbox } = await seedAccount(s());
      const first = await s().appendMessages([newMessage(inbox, { size: 100 })]);
      const second = await s().appendMessages([
        newMessage(inbox, { size: 200, flags: ['\\Seen'] }),
        newMessage(inbox, { size: 300 }),
      ]);
      assert.deepEqual(
        [...first, ...second].map((a) => a.uid),
        [1, 2, 3],
      );
      assert.ok(first[0]!.modseq > inbox.highestModseq);
      assert.ok(second[0]!.modseq > first[0]!.modseq);
      // One call is one step: its entries in a mailbox share one new modseq.
      assert.equal(second[1]!.modseq, second[0]!.modseq);
      const after = await mailbox(s(), inbox.id);
      assert.deepEqual(
        [after.uidNext, after.messageCount, after.unseenCount, after.totalBytes, after.highestModseq],
        [4, 3, 2, 600, second[0]!.modseq],
      );
      assert.equal(await usedBytes(s(), account.id), 600);
    });

    it('50 concurrent callers get UIDs 1..50 exactly once', async () => {
      const { account, inbox } = await seedAccount(s());
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => s().appendMessages([newMessage(inbox, { size: i + 1 })])),
      );
      const uids = results.map((r) => r[0]!.uid).sort((a, b) => a - b);
      assert.deepEqual(
        uids,
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      const after = await mailbox(s(), inbox.id);
      assert.equal(after.uidNext, 51);
      assert.equal(after.messageCount, 50);
      assert.equal(after.totalBytes, (50 * 51) / 2);
      assert.equal(await usedBytes(s(), account.id), (50 * 51) / 2);
      const modseqs = new Set(results.map((r) => r[0]!.modseq));
      assert.equal(modseqs.size, 50, 'each caller is its own step');
      assert.equal(after.highestModseq, Math.max(...modseqs));
    });

    it('a failing caller does not fail the callers it is batched with', async () => {
      const { inbox } = await seedAccount(s());
      const dup = newMessage(inbox);
      await s().appendMessages([dup]);
      const calls = [
        s().appendMessages([newMessage(inbox)]),
        s().appendMessages([newMessage(inbox), dup]),
        s().appendMessages([newMessage(inbox, { mailboxId: 'mbx_missing' })]),
        s().appendMessages([newMessage(inbox)]),
      ];
      const settled = await Promise.allSettled(calls);
      assert.deepEqual(
        settled.map((r) => r.status),
        ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
      );
      const after = await mailbox(s(), inbox.id);
      assert.equal(after.messageCount, 3);
      const uids = (await s().listMessages(inbox.id)).map((m) => m.uid);
      assert.equal(new Set(uids).size, 3);
      await rejectsWith(calls[1]!, 'store.conflict');
      await rejectsWith(calls[2]!, 'store.not-found');
    });

    it('refuses a mailbox of another account and bad flags, changing nothing', async () => {
      const { inbox } = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      await rejectsWith(
        s().appendMessages([newMessage(inbox, { accountId: bob.account.id })]),
        'store.not-found',
      );
      await rejectsWith(s().appendMessages([newMessage(inbox, { flags: ['bad flag'] })]), 'input.invalid');
      assert.deepEqual(await mailbox(s(), inbox.id), inbox);
      assert.equal(await usedBytes(s(), bob.account.id), 0);
    });

    it('appends for several accounts in one call', async () => {
      const a = await seedAccount(s());
      const b = await seedAccount(s(), 'bob');
      const out = await s().appendMessages([newMessage(a.inbox), newMessage(b.inbox), newMessage(a.inbox)]);
      assert.deepEqual(
        out.map((x) => [x.mailboxId, x.uid]),
        [
          [a.inbox.id, 1],
          [b.inbox.id, 1],
          [a.inbox.id, 2],
        ],
      );
      assert.equal(await usedBytes(s(), a.account.id), 2000);
      assert.equal(await usedBytes(s(), b.account.id), 1000);
    });
  });

  describe('reads', () => {
    it('getMessage and listMessages round-trip the sealed bytes exactly', async () => {
      const { inbox } = await seedAccount(s());
      const sent: NewMessage[] = Array.from({ length: 5 }, (_, i) =>
        newMessage(inbox, { size: 10 + i, internalDate: 1_700_000_000_000 + i, flags: ['$Label', '\\seen'] }),
      );
      sent.push(
        newMessage(inbox, { wrappedKey: new Uint8Array(0), sealedMeta: new Uint8Array([0, 255, 0]) }),
      );
      await s().appendMessages(sent);
      const got = await s().getMessage(inbox.id, 3);
      assert.ok(got);
      const want = sent[2]!;
      assert.deepEqual(
        [
          got.id,
          got.accountId,
          got.mailboxId,
          got.uid,
          got.blobRef,
          got.size,
          got.internalDate,
          got.threadId,
        ],
        [want.id, want.accountId, inbox.id, 3, want.blobRef, want.size, want.internalDate, want.threadId],
      );
      assert.deepEqual(got.flags, ['$Label', '\\Seen']);
      assert.equal(got.keyVersion, 1);
      sameBytes(got.wrappedKey, want.wrappedKey);
      sameBytes(got.sealedMeta, want.sealedMeta);
      const all = await s().listMessages(inbox.id);
      assert.deepEqual(
        all.map((m) => m.uid),
        [1, 2, 3, 4, 5, 6],
      );
      all.forEach((m, i) => {
        sameBytes(m.sealedMeta, sent[i]!.sealedMeta);
        sameBytes(m.wrappedKey, sent[i]!.wrappedKey);
      });
      assert.deepEqual(
        (await s().listMessages(inbox.id, 3, 2)).map((m) => m.uid),
        [3, 4],
      );
      assert.deepEqual(await s().listMessages(inbox.id, 7), []);
      assert.equal(await s().getMessage(inbox.id, 99), null);
    });
  });

  describe('flags', () => {
    it('set/add/remove normalise, count changes and bump modseq only for changed entries', async () => {
      const { inbox } = await seedAccount(s());
      await s().appendMessages([
        newMessage(inbox),
        newMessage(inbox),
        newMessage(inbox, { flags: ['\\Seen'] }),
      ]);
      const before = await mailbox(s(), inbox.id);
      assert.equal(before.unseenCount, 2);

      assert.equal(
        await s().setFlags(inbox.id, [1, 2, 3, 99], ['\\SEEN', 'work', '\\seen', 'work'], 'add'),
        3,
      );
      const m1 = await s().getMessage(inbox.id, 1);
      assert.deepEqual(m1?.flags, ['\\Seen', 'work']);
      const afterAdd = await mailbox(s(), inbox.id);
      assert.equal(afterAdd.unseenCount, 0);
      assert.equal(afterAdd.highestModseq, before.highestModseq + 1);
      assert.equal(m1?.modseq, afterAdd.highestModseq);

      // Nothing changes: no modseq bump.
      assert.equal(await s().setFlags(inbox.id, [1, 2], ['work'], 'add'), 0);
      assert.equal((await mailbox(s(), inbox.id)).highestModseq, afterAdd.highestModseq);

      assert.equal(await s().setFlags(inbox.id, [1], ['\\seen'], 'remove'), 1);
      const afterRemove = await mailbox(s(), inbox.id);
      assert.equal(afterRemove.unseenCount, 1);
      assert.equal(afterRemove.highestModseq, afterAdd.highestModseq + 1);
      assert.equal((await s().getMessage(inbox.id, 1))?.modseq, afterRemove.highestModseq);
      assert.equal((await s().getMessage(inbox.id, 2))?.modseq, afterAdd.highestModseq);

      assert.equal(await s().setFlags(inbox.id, [2], ['\\flagged', '\\Draft', '$x'], 'set'), 1);
      assert.deepEqual((await s().getMessage(inbox.id, 2))?.flags, ['$x', '\\Draft', '\\Flagged']);
      assert.equal((await mailbox(s(), inbox.id)).unseenCount, 2);
      await rejectsWith(s().setFlags(inbox.id, [1], [''], 'add'), 'input.invalid');
      await rejectsWith(s().setFlags('mbx_missing', [1], ['x'], 'add'), 'store.not-found');
    });
  });

  describe('expunge', () => {
    it('removes entries, updates counters and usage, returns freed refs, never reuses UIDs', async () => {
      const { account, inbox } = await seedAccount(s());
      const msgs = [newMessage(inbox, { size: 10 }), newMessage(inbox, { size: 20, flags: ['\\Seen'] })];
      const shared = newMessage(inbox, { size: 30 });
      const copy = newMessage(inbox, { size: 30, blobRef: shared.blobRef, sealedBlob: shared.sealedBlob });
      await s().appendMessages([...msgs, shared, copy]);
      const before = await mailbox(s(), inbox.id);

      const refs = await s().expunge(inbox.id, [1, 2, 3, 42]);
      assert.deepEqual(refs.sort(), [msgs[0]!.blobRef, msgs[1]!.blobRef].sort());
      const after = await mailbox(s(), inbox.id);
      assert.deepEqual(
        [after.messageCount, after.unseenCount, after.totalBytes, after.uidNext],
        [1, 1, 30, 5],
      );
      assert.equal(after.highestModseq, before.highestModseq + 1);
      assert.equal(await usedBytes(s(), account.id), 30);
      assert.equal(await s().getMessage(inbox.id, 1), null);
      assert.deepEqual(await s().expunge(inbox.id, [1, 2]), []);
      assert.equal((await mailbox(s(), inbox.id)).highestModseq, after.highestModseq);

      assert.deepEqual(await s().expunge(inbox.id, [4]), [shared.blobRef]);
      const [next] = await s().appendMessages([newMessage(inbox)]);
      assert.equal(next?.uid, 5);
      assert.equal(await s().findThread(account.id, msgs[0]!.threadKeys), null);
    });
  });

  describe('threads', () => {
    it('findThread matches any key, per account', async () => {
      const { account, inbox } = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const k1 = bytes(16);
      const k2 = bytes(16);
      const first = newMessage(inbox, { threadKeys: [k1, k2] });
      await s().appendMessages([first, newMessage(bob.inbox, { threadKeys: [k1] })]);
      assert.equal(await s().findThread(account.id, [bytes(16), k2]), first.threadId);
      assert.equal(await s().findThread(account.id, [new Uint8Array(k1)]), first.threadId);
      assert.equal(await s().findThread(account.id, [bytes(16)]), null);
      assert.equal(await s().findThread(account.id, []), null);
      assert.notEqual(await s().findThread(bob.account.id, [k1]), first.threadId);
      assert.equal(await s().findThread(bob.account.id, [k2]), null);
    });
  });
}
