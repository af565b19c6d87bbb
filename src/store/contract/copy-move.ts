// Store contract, part 5: IMAP COPY and MOVE. A copy is a new entry pointing at the
// same message row (same id, wrapped key, sealed meta and blob); the row and its blob
// go only with the last entry; usage counts per entry. Registered by runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store } from '../types.ts';
import { INLINE_LIMIT } from './blobs.ts';
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

async function refs(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const ref of store.listBlobRefs()) out.push(ref);
  return out.sort();
}

export function copyMoveContract(open: OpenStore): void {
  const s = useStore(open);

  describe('copyMessages', () => {
    it('adds entries for the same message rows; counters, usage and one modseq in the target', async () => {
      const { account, inbox, mailboxes } = await seedAccount(s());
      const trash = mailboxes.find((m) => m.name === 'Trash')!;
      const sent = [
        newMessage(inbox, { size: 100, flags: ['\\Seen', '$Work'] }),
        newMessage(inbox, { size: 200 }),
        newMessage(inbox, { size: 300 }),
      ];
      await s().appendMessages(sent);
      await s().appendMessages([newMessage(trash)]); // Trash UID 1 is taken
      const before = await mailbox(s(), trash.id);
      const inboxBefore = await mailbox(s(), inbox.id);
      const result = await s().copyMessages(inbox.id, [3, 99, 1, 3], trash.id);
      assert.equal(result.uidValidity, trash.uidValidity);
      assert.deepEqual(result.pairs, [
        [1, 2],
        [3, 3],
      ]);
      const copy = await s().getMessage(trash.id, 2);
      assert.ok(copy);
      const want = sent[0]!;
      assert.deepEqual(
        [copy.id, copy.blobRef, copy.size, copy.internalDate, copy.threadId, copy.keyVersion],
        [want.id, want.blobRef, 100, want.internalDate, want.threadId, want.keyVersion],
      );
      assert.deepEqual(copy.flags, ['$Work', '\\Seen']);
      sameBytes(copy.wrappedKey, want.wrappedKey);
      sameBytes(copy.sealedMeta, want.sealedMeta);
      const after = await mailbox(s(), trash.id);
      assert.equal(after.highestModseq, before.highestModseq + 1);
      assert.equal(copy.modseq, after.highestModseq);
      assert.equal((await s().getMessage(trash.id, 3))?.modseq, after.highestModseq);
      assert.deepEqual(
        [after.uidNext, after.messageCount, after.unseenCount, after.totalBytes],
        [4, 3, 2, 1000 + 100 + 300],
      );
      // Usage counts per entry: the copies count again.
      assert.equal(await usedBytes(s(), account.id), 600 + 1000 + 400);
      assert.deepEqual(await mailbox(s(), inbox.id), inboxBefore, 'the source is untouched');
      const feed = (await s().changesSince(account.id, 0)).slice(-2);
      assert.deepEqual(
        feed.map((c) => [c.kind, c.mailboxId, c.uid, c.messageId, c.modseq]),
        [
          ['append', trash.id, 2, want.id, after.highestModseq],
          ['append', trash.id, 3, sent[2]!.id, after.highestModseq],
        ],
      );
    });

    it('copies nothing for unknown UIDs, without a modseq bump; refuses other accounts', async () => {
      const { inbox, mailboxes } = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const sent = mailboxes.find((m) => m.name === 'Sent')!;
      await s().appendMessages([newMessage(inbox)]);
      assert.deepEqual(await s().copyMessages(inbox.id, [5, 6], sent.id), {
        uidValidity: sent.uidValidity,
        pairs: [],
      });
      assert.deepEqual(await mailbox(s(), sent.id), sent);
      await rejectsWith(s().copyMessages(inbox.id, [1], bob.inbox.id), 'input.invalid');
      await rejectsWith(s().moveMessages(inbox.id, [1], bob.inbox.id), 'input.invalid');
      await rejectsWith(s().copyMessages(inbox.id, [1], 'mbx_missing'), 'store.not-found');
      await rejectsWith(s().copyMessages('mbx_missing', [1], inbox.id), 'store.not-found');
      assert.equal((await mailbox(s(), bob.inbox.id)).messageCount, 0);
      assert.equal((await mailbox(s(), inbox.id)).messageCount, 1);
    });

    it('the blob stays while any entry uses it and goes with the last', async () => {
      const { account, inbox, mailboxes } = await seedAccount(s());
      const archive = mailboxes.find((m) => m.name === 'Junk')!;
      for (const size of [2000, INLINE_LIMIT + 1]) {
        const m = newMessage(inbox, { sealedBlob: bytes(size) });
        const [a] = await s().appendMessages([m]);
        const { pairs } = await s().copyMessages(inbox.id, [a!.uid], archive.id);
        const copyUid = pairs[0]![1];
        assert.deepEqual(await s().expunge(inbox.id, [a!.uid]), []);
        sameBytes(await s().readBlob(m.blobRef), m.sealedBlob);
        const copy = await s().getMessage(archive.id, copyUid);
        assert.equal(copy?.id, m.id);
        sameBytes(copy!.sealedMeta, m.sealedMeta);
        assert.deepEqual(await s().expunge(archive.id, [copyUid]), [m.blobRef]);
        await rejectsWith(s().readBlob(m.blobRef), 'store.not-found');
      }
      assert.deepEqual(await refs(s()), []);
      assert.equal(await usedBytes(s(), account.id), 0);
    });

    it('copies into the same mailbox; deleteAccount drops rows and blobs once', async () => {
      const { account, inbox } = await seedAccount(s());
      const m = newMessage(inbox, { sealedBlob: bytes(INLINE_LIMIT + 10) });
      await s().appendMessages([m]);
      assert.deepEqual((await s().copyMessages(inbox.id, [1], inbox.id)).pairs, [[1, 2]]);
      assert.equal((await s().getMessage(inbox.id, 2))?.id, m.id);
      assert.equal(await usedBytes(s(), account.id), 2000);
      assert.deepEqual(await s().deleteAccount(account.id), [m.blobRef]);
      assert.deepEqual(await refs(s()), []);
    });
  });

  describe('moveMessages', () => {
    it('moves atomically: appends in the target and expunges in the source, each at its new modseq', async () => {
      const { account, inbox, mailboxes } = await seedAccount(s());
      const trash = mailboxes.find((m) => m.name === 'Trash')!;
      const sent = [newMessage(inbox, { size: 10 }), newMessage(inbox, { size: 20, flags: ['\\Seen'] })];
      await s().appendMessages([...sent, newMessage(inbox, { size: 30 })]);
      const start = (await s().changesSince(account.id, 0)).at(-1)!.seq;
      const src = await mailbox(s(), inbox.id);
      const dst = await mailbox(s(), trash.id);
      const result = await s().moveMessages(inbox.id, [2, 1, 7], trash.id);
      assert.deepEqual(result, {
        uidValidity: trash.uidValidity,
        pairs: [
          [1, 1],
          [2, 2],
        ],
      });
      const srcAfter = await mailbox(s(), inbox.id);
      const dstAfter = await mailbox(s(), trash.id);
      assert.equal(srcAfter.highestModseq, src.highestModseq + 1);
      assert.equal(dstAfter.highestModseq, dst.highestModseq + 1);
      assert.deepEqual(
        [srcAfter.messageCount, srcAfter.unseenCount, srcAfter.totalBytes, srcAfter.uidNext],
        [1, 1, 30, 4],
      );
      assert.deepEqual([dstAfter.messageCount, dstAfter.unseenCount, dstAfter.totalBytes], [2, 1, 30]);
      assert.equal(await usedBytes(s(), account.id), 60, 'a move does not change usage');
      assert.equal(await s().getMessage(inbox.id, 1), null);
      assert.equal((await s().getMessage(trash.id, 2))?.id, sent[1]!.id);
      sameBytes(await s().readBlob(sent[0]!.blobRef), sent[0]!.sealedBlob);
      const feed = await s().changesSince(account.id, start);
      assert.deepEqual(
        feed.map((c) => [c.kind, c.mailboxId, c.uid, c.messageId, c.modseq]),
        [
          ['append', trash.id, 1, sent[0]!.id, dstAfter.highestModseq],
          ['append', trash.id, 2, sent[1]!.id, dstAfter.highestModseq],
          ['expunge', inbox.id, 1, sent[0]!.id, srcAfter.highestModseq],
          ['expunge', inbox.id, 2, sent[1]!.id, srcAfter.highestModseq],
        ],
      );
      assert.deepEqual(
        (await s().expunge(trash.id, [1, 2])).sort(),
        [sent[0]!.blobRef, sent[1]!.blobRef].sort(),
      );
    });

    it('a failed move changes nothing; a move within one mailbox renumbers', async () => {
      const { account, inbox } = await seedAccount(s());
      await s().appendMessages([newMessage(inbox), newMessage(inbox)]);
      const before = await mailbox(s(), inbox.id);
      const feed = await s().changesSince(account.id, 0);
      await rejectsWith(s().moveMessages(inbox.id, [1], 'mbx_missing'), 'store.not-found');
      assert.deepEqual(await mailbox(s(), inbox.id), before);
      assert.deepEqual(await s().changesSince(account.id, 0), feed);
      const { pairs } = await s().moveMessages(inbox.id, [2], inbox.id);
      assert.deepEqual(pairs, [[2, 3]]);
      assert.deepEqual(
        (await s().listEntries(inbox.id)).map((e) => e.uid),
        [1, 3],
      );
      assert.equal((await mailbox(s(), inbox.id)).messageCount, 2);
      assert.equal(await usedBytes(s(), account.id), 2000);
    });
  });
}
