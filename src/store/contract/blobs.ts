// Store contract, part 4: sealed message bodies. The store keeps each message's
// sealedBlob under its blobRef wherever it likes (the SQLite store: inline up to
// 128 KiB by default, files above), so the sizes below straddle that boundary; every
// backend must round-trip them all, refuse a ref reused with other bytes, store
// nothing for a failed append, and delete a blob with the last message using it.
// Registered by runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewMessage, Store } from '../types.ts';
import {
  bytes,
  newMessage,
  type OpenStore,
  rejectsWith,
  sameBytes,
  seedAccount,
  useStore,
} from './fixtures.ts';

/** The SQLite store's default inline limit, and sizes on both sides of it. */
export const INLINE_LIMIT = 128 * 1024;
const SIZES = [0, 1, 4096, INLINE_LIMIT - 1, INLINE_LIMIT, INLINE_LIMIT + 1, 300_000];
const SMALL = 2000;
const LARGE = INLINE_LIMIT + 1;

async function refs(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const ref of store.listBlobRefs()) out.push(ref);
  return out.sort();
}

export function blobsContract(open: OpenStore): void {
  const s = useStore(open);

  describe('blobs', () => {
    it('readBlob returns the exact bytes of every size, at and around the inline limit', async () => {
      const { inbox } = await seedAccount(s());
      const one = SIZES.map((n) => newMessage(inbox, { sealedBlob: bytes(n) }));
      await s().appendMessages(one); // all sizes in one call
      const alone: NewMessage[] = [];
      for (const n of SIZES) {
        const m = newMessage(inbox, { sealedBlob: bytes(n) });
        await s().appendMessages([m]);
        alone.push(m);
      }
      for (const m of [...one, ...alone]) {
        const got = await s().readBlob(m.blobRef);
        assert.equal(got.length, m.sealedBlob.length);
        sameBytes(got, m.sealedBlob);
      }
      assert.deepEqual(await refs(s()), [...one, ...alone].map((m) => m.blobRef).sort());
      await rejectsWith(s().readBlob('msg_missing'), 'store.not-found');
      await rejectsWith(s().readBlob('../escape'), 'input.invalid');
    });

    it('concurrent appends of small and large blobs all land, readable', async () => {
      const { inbox } = await seedAccount(s());
      const sent = Array.from({ length: 30 }, (_, i) =>
        newMessage(inbox, { sealedBlob: bytes(i % 3 ? SMALL : LARGE) }),
      );
      const results = await Promise.all(sent.map((m) => s().appendMessages([m])));
      assert.equal(new Set(results.map((r) => r[0]!.uid)).size, 30);
      for (const m of sent) sameBytes(await s().readBlob(m.blobRef), m.sealedBlob);
    });

    it('a ref may be shared only with the same bytes; a failed append stores no blob', async () => {
      const { inbox } = await seedAccount(s());
      for (const size of [SMALL, LARGE]) {
        const first = newMessage(inbox, { sealedBlob: bytes(size) });
        const copy = newMessage(inbox, {
          blobRef: first.blobRef,
          sealedBlob: new Uint8Array(first.sealedBlob),
        });
        const uids = (await s().appendMessages([first, copy])).map((a) => a.uid);
        for (const other of [bytes(size), bytes(SMALL + 1), bytes(LARGE + 1)]) {
          const clash = newMessage(inbox, { blobRef: first.blobRef, sealedBlob: other });
          await rejectsWith(s().appendMessages([clash]), 'store.conflict');
          assert.equal((await s().getMailboxById(inbox.id))?.messageCount, 2);
        }
        sameBytes(await s().readBlob(first.blobRef), first.sealedBlob);
        assert.deepEqual(await s().expunge(inbox.id, uids), [first.blobRef]);
      }
      for (const size of [SMALL, LARGE]) {
        const lost = newMessage(inbox, { mailboxId: 'mbx_missing', sealedBlob: bytes(size) });
        await rejectsWith(s().appendMessages([lost]), 'store.not-found');
        await rejectsWith(s().readBlob(lost.blobRef), 'store.not-found');
      }
      await rejectsWith(s().appendMessages([newMessage(inbox, { blobRef: 'a/b' })]), 'input.invalid');
      await rejectsWith(s().appendMessages([newMessage(inbox, { blobRef: '' })]), 'input.invalid');
      assert.deepEqual(await refs(s()), []);
    });

    it('expunging the last message that uses a blob deletes it', async () => {
      const { inbox } = await seedAccount(s());
      const small = newMessage(inbox, { sealedBlob: bytes(SMALL) });
      const large = newMessage(inbox, { sealedBlob: bytes(LARGE) });
      const copies = [small, large].map((m) =>
        newMessage(inbox, { blobRef: m.blobRef, sealedBlob: m.sealedBlob }),
      );
      const kept = newMessage(inbox, { sealedBlob: bytes(LARGE) });
      await s().appendMessages([small, large, ...copies, kept]); // UIDs 1..5
      assert.deepEqual(await s().expunge(inbox.id, [1, 2]), []); // the copies still use both
      sameBytes(await s().readBlob(small.blobRef), small.sealedBlob);
      sameBytes(await s().readBlob(large.blobRef), large.sealedBlob);
      assert.deepEqual((await s().expunge(inbox.id, [3, 4])).sort(), [small.blobRef, large.blobRef].sort());
      await rejectsWith(s().readBlob(small.blobRef), 'store.not-found');
      await rejectsWith(s().readBlob(large.blobRef), 'store.not-found');
      assert.deepEqual(await refs(s()), [kept.blobRef]);
      sameBytes(await s().readBlob(kept.blobRef), kept.sealedBlob);
    });

    it('deleteAccount deletes the blobs of its messages and no others', async () => {
      const alice = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const gone = [SMALL, LARGE, 0].map((n) => newMessage(alice.inbox, { sealedBlob: bytes(n) }));
      const kept = [SMALL, LARGE].map((n) => newMessage(bob.inbox, { sealedBlob: bytes(n) }));
      await s().appendMessages([...gone, ...kept]);
      const dropped = await s().deleteAccount(alice.account.id);
      assert.deepEqual(dropped.sort(), gone.map((m) => m.blobRef).sort());
      for (const m of gone) await rejectsWith(s().readBlob(m.blobRef), 'store.not-found');
      for (const m of kept) sameBytes(await s().readBlob(m.blobRef), m.sealedBlob);
      assert.deepEqual(await refs(s()), kept.map((m) => m.blobRef).sort());
    });
  });
}
