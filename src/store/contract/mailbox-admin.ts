// Store contract, part 6: changing and deleting mailboxes (IMAP SUBSCRIBE, RENAME,
// DELETE, CREATE (USE ...)), with a hostile block for renames. Registered by
// runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Store } from '../types.ts';
import { INLINE_LIMIT } from './blobs.ts';
import {
  bytes,
  mailbox,
  newMailbox,
  newMessage,
  type OpenStore,
  rejectsWith,
  sameBytes,
  seedAccount,
  usedBytes,
  useStore,
} from './fixtures.ts';

async function names(store: Store, accountId: string): Promise<string[]> {
  return (await store.listMailboxes(accountId)).map((m) => m.name);
}

export function mailboxAdminContract(open: OpenStore): void {
  const s = useStore(open);

  describe('setSubscribed and setSpecialUse', () => {
    it('change the mailbox with a mailbox change; no-ops record nothing', async () => {
      const { account, inbox, mailboxes } = await seedAccount(s());
      const start = (await s().changesSince(account.id, 0)).at(-1)!.seq;
      await s().setSubscribed(inbox.id, false);
      await s().setSubscribed(inbox.id, false);
      const after = await mailbox(s(), inbox.id);
      assert.equal(after.subscribed, false);
      assert.equal(after.highestModseq, inbox.highestModseq + 1);
      await s().setSpecialUse(inbox.id, '\\Archive');
      assert.equal((await s().findMailboxBySpecialUse(account.id, '\\Archive'))?.id, inbox.id);
      const trash = mailboxes.find((m) => m.name === 'Trash')!;
      await rejectsWith(s().setSpecialUse(inbox.id, '\\Trash'), 'store.conflict');
      await rejectsWith(s().setSpecialUse(inbox.id, '\\Bogus' as '\\Trash'), 'input.invalid');
      await s().setSpecialUse(trash.id, null);
      await s().setSpecialUse(inbox.id, '\\Trash');
      assert.equal((await mailbox(s(), trash.id)).specialUse, null);
      assert.equal((await mailbox(s(), inbox.id)).specialUse, '\\Trash');
      const feed = await s().changesSince(account.id, start);
      assert.deepEqual(
        feed.map((c) => [c.kind, c.mailboxId, c.uid]),
        [
          ['mailbox', inbox.id, null],
          ['mailbox', inbox.id, null],
          ['mailbox', trash.id, null],
          ['mailbox', inbox.id, null],
        ],
      );
      assert.equal(feed.at(-1)!.modseq, (await mailbox(s(), inbox.id)).highestModseq);
      await rejectsWith(s().setSubscribed('mbx_missing', true), 'store.not-found');
      await rejectsWith(s().setSpecialUse('mbx_missing', null), 'store.not-found');
    });
  });

  describe('renameMailbox', () => {
    it('renames the mailbox and its children, keeping ids, UIDs and uidValidity', async () => {
      const { account } = await seedAccount(s());
      const make = async (name: string) => s().createMailbox(newMailbox(account.id, name));
      const a = await make('a');
      const ab = await make('a/b');
      const abc = await make('a/b/c');
      const ax = await make('ax'); // a sibling sharing the prefix but not below `a/`
      await s().appendMessages([newMessage(ab), newMessage(ab)]);
      await s().renameMailbox(a.id, 'z/new');
      assert.deepEqual(await names(s(), account.id), [
        'Drafts',
        'INBOX',
        'Junk',
        'Sent',
        'Trash',
        'ax',
        'z/new',
        'z/new/b',
        'z/new/b/c',
      ]);
      const movedAb = await mailbox(s(), ab.id);
      assert.equal(movedAb.name, 'z/new/b');
      assert.equal(movedAb.uidValidity, ab.uidValidity);
      assert.equal(movedAb.uidNext, 3);
      assert.equal((await s().getMessage(ab.id, 2))?.uid, 2);
      assert.equal((await s().getMailbox(account.id, 'z/new/b/c'))?.id, abc.id);
      assert.equal((await mailbox(s(), ax.id)).name, 'ax');
      const changes = (await s().changesSince(account.id, 0)).slice(-3);
      assert.deepEqual(new Set(changes.map((c) => c.mailboxId)), new Set([a.id, ab.id, abc.id]));
      assert.ok(changes.every((c) => c.kind === 'mailbox'));
    });

    it('moves a tree up onto names its own members held a moment before', async () => {
      const { account } = await seedAccount(s());
      const boxes = [];
      for (const name of ['p/q', 'p/q/z', 'p/q/q/z'])
        boxes.push(await s().createMailbox(newMailbox(account.id, name)));
      await s().renameMailbox(boxes[0]!.id, 'p');
      // In one step p/q/q/z becomes p/q/z while p/q/z becomes p/z.
      const renamed = await Promise.all(boxes.map(async (b) => (await mailbox(s(), b.id)).name));
      assert.deepEqual(renamed, ['p', 'p/z', 'p/q/z']);
    });

    it('refuses a collision anywhere in the tree and changes nothing', async () => {
      const { account } = await seedAccount(s());
      const a = await s().createMailbox(newMailbox(account.id, 'a'));
      await s().createMailbox(newMailbox(account.id, 'a/b'));
      await s().createMailbox(newMailbox(account.id, 'c/b'));
      const before = await s().listMailboxes(account.id);
      await rejectsWith(s().renameMailbox(a.id, 'INBOX'), 'store.conflict');
      await rejectsWith(s().renameMailbox(a.id, 'c'), 'store.conflict'); // a/b -> c/b exists
      await rejectsWith(s().renameMailbox(a.id, 'a'), 'store.conflict');
      await rejectsWith(s().renameMailbox('mbx_missing', 'q'), 'store.not-found');
      assert.deepEqual(await s().listMailboxes(account.id), before);
    });

    it('hostile: below itself, empty or control characters are input.invalid', async () => {
      const { account } = await seedAccount(s());
      const a = await s().createMailbox(newMailbox(account.id, 'a'));
      const before = await s().listMailboxes(account.id);
      for (const bad of ['a/b', 'a/', 'a/b/c', '', 'x\u0000y', 'x\ny']) {
        await rejectsWith(s().renameMailbox(a.id, bad), 'input.invalid');
      }
      assert.deepEqual(await s().listMailboxes(account.id), before);
      await s().renameMailbox(a.id, 'ab'); // a prefix that is not a child is fine
      assert.equal((await mailbox(s(), a.id)).name, 'ab');
    });
  });

  describe('deleteMailbox', () => {
    it('frees usage, deletes blobs no entry uses, keeps copies and children', async () => {
      const { account, inbox } = await seedAccount(s());
      const doomed = await s().createMailbox(newMailbox(account.id, 'Old'));
      const child = await s().createMailbox(newMailbox(account.id, 'Old/Child'));
      const only = newMessage(doomed, { size: 100, sealedBlob: bytes(INLINE_LIMIT + 1) });
      const shared = newMessage(doomed, { size: 200 });
      const small = newMessage(doomed, { size: 300 });
      await s().appendMessages([only, shared, small, newMessage(child, { size: 5 })]);
      await s().copyMessages(doomed.id, [2], inbox.id);
      assert.equal(await usedBytes(s(), account.id), 805);
      const start = (await s().changesSince(account.id, 0)).at(-1)!.seq;
      await s().deleteMailbox(doomed.id);
      assert.equal(await s().getMailboxById(doomed.id), null);
      assert.equal((await mailbox(s(), child.id)).messageCount, 1);
      assert.equal(await usedBytes(s(), account.id), 205);
      await rejectsWith(s().readBlob(only.blobRef), 'store.not-found');
      await rejectsWith(s().readBlob(small.blobRef), 'store.not-found');
      sameBytes(await s().readBlob(shared.blobRef), shared.sealedBlob);
      assert.equal((await s().getMessage(inbox.id, 1))?.id, shared.id);
      const feed = await s().changesSince(account.id, start);
      assert.deepEqual(
        feed.map((c) => [c.kind, c.mailboxId, c.uid]),
        [['mailbox', doomed.id, null]],
      );
      await rejectsWith(s().deleteMailbox(doomed.id), 'store.not-found');
      // The name is free again, for a new mailbox with new UIDs.
      const again = await s().createMailbox(newMailbox(account.id, 'Old'));
      assert.equal(again.uidNext, 1);
    });
  });
}
