// Store contract, part 7: what IMAP SELECT, FETCH, STORE (CONDSTORE) and QRESYNC
// read and write: storeFlags, expungedSince, listEntries and getMessages.
// Registered by runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mailbox,
  newMessage,
  type OpenStore,
  rejectsWith,
  sameBytes,
  seedAccount,
  useStore,
} from './fixtures.ts';

export function imapReadsContract(open: OpenStore): void {
  const s = useStore(open);

  describe('storeFlags', () => {
    it('UNCHANGEDSINCE: newer entries are conflicts, unchanged ones neither, the rest one new modseq', async () => {
      const { inbox } = await seedAccount(s());
      await s().appendMessages([
        newMessage(inbox),
        newMessage(inbox),
        newMessage(inbox, { flags: ['\\Seen'] }),
      ]);
      const base = (await mailbox(s(), inbox.id)).highestModseq;
      const touched = await s().storeFlags(inbox.id, [2], ['$x'], 'add');
      assert.deepEqual(touched, { changed: [2], conflicts: [], modseq: base + 1 });
      const result = await s().storeFlags(inbox.id, [4, 3, 2, 1], ['\\Seen'], 'add', base);
      assert.deepEqual(result, { changed: [1], conflicts: [2], modseq: base + 2 });
      assert.deepEqual((await s().getMessage(inbox.id, 2))?.flags, ['$x']);
      assert.equal((await s().getMessage(inbox.id, 2))?.modseq, base + 1);
      assert.equal((await s().getMessage(inbox.id, 1))?.modseq, base + 2);
      const after = await mailbox(s(), inbox.id);
      assert.deepEqual([after.highestModseq, after.unseenCount], [base + 2, 1]);
      // Nothing to change: no modseq.
      assert.deepEqual(await s().storeFlags(inbox.id, [1], ['\\Seen'], 'add', base + 5), {
        changed: [],
        conflicts: [],
        modseq: 0,
      });
      // UNCHANGEDSINCE 0 fails every existing entry (RFC 7162 §3.1.3).
      assert.deepEqual(await s().storeFlags(inbox.id, [1, 2, 3], [], 'set', 0), {
        changed: [],
        conflicts: [1, 2, 3],
        modseq: 0,
      });
      assert.equal((await mailbox(s(), inbox.id)).highestModseq, base + 2);
      await rejectsWith(s().storeFlags(inbox.id, [1], ['x'], 'add', -1), 'input.invalid');
      await rejectsWith(s().storeFlags(inbox.id, [1], ['a b'], 'add'), 'input.invalid');
      await rejectsWith(s().storeFlags('mbx_missing', [1], ['x'], 'add'), 'store.not-found');
    });
  });

  describe('expungedSince', () => {
    it('lists UIDs expunged or moved away above a modseq, ascending, optionally in a UID range', async () => {
      const { inbox, mailboxes } = await seedAccount(s());
      const trash = mailboxes.find((m) => m.name === 'Trash')!;
      await s().appendMessages(Array.from({ length: 6 }, () => newMessage(inbox)));
      const m0 = (await mailbox(s(), inbox.id)).highestModseq;
      await s().expunge(inbox.id, [5, 2]);
      const m1 = (await mailbox(s(), inbox.id)).highestModseq;
      await s().moveMessages(inbox.id, [1, 6], trash.id);
      await s().setFlags(inbox.id, [3], ['\\Seen'], 'add');
      assert.deepEqual(await s().expungedSince(inbox.id, m0), [1, 2, 5, 6]);
      assert.deepEqual(await s().expungedSince(inbox.id, m1), [1, 6]);
      assert.deepEqual(await s().expungedSince(inbox.id, m0, 2, 5), [2, 5]);
      assert.deepEqual(await s().expungedSince(inbox.id, (await mailbox(s(), inbox.id)).highestModseq), []);
      assert.deepEqual(await s().expungedSince(trash.id, 0), []);
      assert.deepEqual(await s().expungedSince('mbx_missing', 0), []);
      await rejectsWith(s().expungedSince(inbox.id, -1), 'input.invalid');
    });
  });

  describe('listEntries and getMessages', () => {
    it('listEntries: every entry in UID order, without sealed parts', async () => {
      const { inbox } = await seedAccount(s());
      const sent = Array.from({ length: 5 }, (_, i) =>
        newMessage(inbox, {
          size: 10 + i,
          internalDate: 1_700_000_000_000 + i,
          flags: i % 2 ? ['\\Seen'] : [],
        }),
      );
      await s().appendMessages(sent);
      await s().expunge(inbox.id, [2]);
      await s().setFlags(inbox.id, [5], ['$a'], 'add');
      const entries = await s().listEntries(inbox.id);
      const full = await s().listMessages(inbox.id);
      assert.deepEqual(
        entries.map((e) => e.uid),
        [1, 3, 4, 5],
      );
      assert.deepEqual(
        entries.map((e) => ({ ...e, flags: [...e.flags] })),
        full.map((m) => ({
          uid: m.uid,
          modseq: m.modseq,
          flags: [...m.flags],
          size: m.size,
          internalDate: m.internalDate,
          messageId: m.id,
          threadId: m.threadId,
        })),
      );
      assert.equal(entries[3]!.messageId, sent[4]!.id);
      assert.deepEqual(entries[3]!.flags, ['$a']);
      assert.ok(!('wrappedKey' in entries[0]!) && !('sealedMeta' in entries[0]!));
      assert.deepEqual(await s().listEntries('mbx_missing'), []);
      // changedSince: only entries whose modseq is above it (the flag change on UID 5).
      const before = entries[3]!.modseq - 1;
      assert.deepEqual(
        (await s().listEntries(inbox.id, before)).map((e) => e.uid),
        [5],
      );
      assert.deepEqual(await s().listEntries(inbox.id, entries[3]!.modseq), []);
    });

    it('getMessages: full rows for dense and sparse UID sets, UID order, unknown skipped', async () => {
      const { inbox } = await seedAccount(s());
      const sent = Array.from({ length: 300 }, () => newMessage(inbox));
      await s().appendMessages(sent);
      await s().expunge(inbox.id, [100, 101]);
      const dense = await s().getMessages(
        inbox.id,
        Array.from({ length: 400 }, (_, i) => 400 - i),
      );
      assert.equal(dense.length, 298);
      assert.deepEqual(
        dense.map((m) => m.uid),
        Array.from({ length: 300 }, (_, i) => i + 1).filter((u) => u !== 100 && u !== 101),
      );
      dense.forEach((m) => {
        const want = sent[m.uid - 1]!;
        assert.equal(m.id, want.id);
        sameBytes(m.wrappedKey, want.wrappedKey);
        sameBytes(m.sealedMeta, want.sealedMeta);
      });
      const sparse = [299, 1, 150, 150, 37, 36, 100, 0, -1, 1.5, 9999, 2 ** 40];
      assert.deepEqual(
        (await s().getMessages(inbox.id, sparse)).map((m) => m.uid),
        [1, 36, 37, 150, 299],
      );
      assert.deepEqual(await s().getMessages(inbox.id, []), []);
      assert.deepEqual(await s().getMessages('mbx_missing', [1]), []);
    });
  });
}
