// Store contract, part 1: migrations, meta, domains, accounts, keys, aliases and
// mailboxes. Registered by runStoreContract (../contract.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../../core/ids.ts';
import {
  addDomain,
  bytes,
  FIXTURE_MAILBOXES,
  newAccount,
  newMailbox,
  newMessage,
  type OpenStore,
  rejectsWith,
  sameBytes,
  seedAccount,
  useStore,
} from './fixtures.ts';

export function accountsContract(open: OpenStore): void {
  const s = useStore(open);

  describe('migrations and meta', () => {
    it('migrate() is idempotent and keeps data', async () => {
      await addDomain(s(), 'keep.test');
      await s().migrate();
      await s().migrate();
      assert.equal((await s().getDomain('keep.test'))?.name, 'keep.test');
      await s().ping();
    });

    it('meta get/set overwrites', async () => {
      assert.equal(await s().getMeta('k'), null);
      await s().setMeta('k', 'one');
      await s().setMeta('k', 'two');
      assert.equal(await s().getMeta('k'), 'two');
    });
  });

  describe('domains', () => {
    it('add, get, list, remove', async () => {
      const b = await addDomain(s(), 'b.test');
      const a = await addDomain(s(), 'a.test');
      assert.deepEqual(await s().getDomain('b.test'), b);
      assert.equal(await s().getDomain('missing.test'), null);
      assert.deepEqual(await s().listDomains(), [a, b]);
      await s().removeDomain('a.test');
      assert.deepEqual(await s().listDomains(), [b]);
      await rejectsWith(s().removeDomain('a.test'), 'store.not-found');
    });

    it('a duplicate name is a conflict', async () => {
      await addDomain(s(), 'dup.test');
      await rejectsWith(addDomain(s(), 'dup.test'), 'store.conflict');
    });

    it('cannot be removed while an account or an alias uses it', async () => {
      const { account } = await seedAccount(s(), 'bob', 'used.test');
      await rejectsWith(s().removeDomain('used.test'), 'store.conflict');
      await s().deleteAccount(account.id);
      await s().addAlias({ source: '@used.test', destinations: ['x@other.test'], createdAt: 1 });
      await rejectsWith(s().removeDomain('used.test'), 'store.conflict');
      await s().removeAlias('@used.test');
      await s().removeDomain('used.test');
    });
  });

  describe('accounts', () => {
    it('createAccount creates the account, its key and the given mailboxes', async () => {
      const { account, domain, mailboxes } = await seedAccount(s());
      assert.equal(account.address, 'alice@example.test');
      assert.equal(account.domainId, domain.id);
      assert.equal(account.disabled, false);
      assert.equal(account.usedBytes, 0);
      assert.deepEqual(await s().getAccount(account.id), account);
      assert.deepEqual(await s().getAccountByAddress('alice@example.test'), account);
      assert.equal(await s().getAccountByAddress('nobody@example.test'), null);
      assert.deepEqual(mailboxes.map((m) => m.name).sort(), FIXTURE_MAILBOXES.map(([n]) => n).sort());
      for (const m of mailboxes) {
        assert.deepEqual([m.uidNext, m.messageCount, m.unseenCount, m.totalBytes], [1, 0, 0, 0]);
        assert.ok(m.highestModseq >= 1);
      }
      assert.equal((await s().getAccountKeys(account.id)).length, 1);
    });

    it('refuses a duplicate address, an unknown domain, and is atomic', async () => {
      const { domain } = await seedAccount(s());
      await rejectsWith(s().createAccount(newAccount(domain, 'alice'), []), 'store.conflict');
      const lost = { ...domain, id: newId('dom') };
      await rejectsWith(s().createAccount(newAccount(lost, 'bob'), []), 'store.not-found');
      // Two mailboxes with one name: nothing of the account may remain.
      const carol = newAccount(domain, 'carol');
      const boxes = [newMailbox(carol.id, 'INBOX'), newMailbox(carol.id, 'INBOX')];
      await rejectsWith(s().createAccount(carol, boxes), 'store.conflict');
      assert.equal(await s().getAccount(carol.id), null);
      assert.equal(await s().getAccountByAddress(carol.address), null);
      assert.deepEqual(await s().getAccountKeys(carol.id), []);
      assert.deepEqual(await s().listMailboxes(carol.id), []);
      await s().createAccount(carol, [newMailbox(carol.id, 'INBOX')]);
    });

    it('lists accounts, optionally by domain', async () => {
      const a = (await seedAccount(s(), 'zed', 'one.test')).account;
      const b = (await seedAccount(s(), 'amy', 'one.test')).account;
      const c = (await seedAccount(s(), 'bob', 'two.test')).account;
      assert.deepEqual((await s().listAccounts()).map((x) => x.id).sort(), [a.id, b.id, c.id].sort());
      assert.deepEqual(
        (await s().listAccounts('one.test')).map((x) => x.address),
        ['amy@one.test', 'zed@one.test'],
      );
      assert.deepEqual(await s().listAccounts('none.test'), []);
    });

    it('setPasswordHash, setDisabled, setQuota; unknown account is not-found', async () => {
      const { account } = await seedAccount(s());
      await s().setPasswordHash(account.id, '$argon2id$new');
      await s().setDisabled(account.id, true);
      await s().setQuota(account.id, 5_000_000);
      const after = await s().getAccount(account.id);
      assert.deepEqual(
        [after?.passwordHash, after?.disabled, after?.quotaBytes],
        ['$argon2id$new', true, 5_000_000],
      );
      await s().setDisabled(account.id, false);
      assert.equal((await s().getAccount(account.id))?.disabled, false);
      await rejectsWith(s().setPasswordHash('acc_missing', 'x'), 'store.not-found');
      await rejectsWith(s().setDisabled('acc_missing', true), 'store.not-found');
      await rejectsWith(s().setQuota('acc_missing', 1), 'store.not-found');
      await rejectsWith(s().setQuota(account.id, -1), 'input.invalid');
    });

    it('deleteAccount removes every row and returns its blob refs', async () => {
      const { account, inbox } = await seedAccount(s());
      const other = await seedAccount(s(), 'bob');
      const m1 = newMessage(inbox);
      const m2 = newMessage(inbox);
      await s().appendMessages([m1, m2]);
      await s().appendMessages([newMessage(other.inbox)]);
      await s().addAlias({ source: 'only@example.test', destinations: [account.address], createdAt: 1 });
      const both = [account.address, other.account.address];
      await s().addAlias({ source: 'team@example.test', destinations: both, createdAt: 1 });

      const refs = await s().deleteAccount(account.id);
      assert.deepEqual(refs.sort(), [m1.blobRef, m2.blobRef].sort());
      assert.equal(await s().getAccount(account.id), null);
      assert.equal(await s().getAccountByAddress(account.address), null);
      assert.deepEqual(await s().listMailboxes(account.id), []);
      assert.equal(await s().getMailboxById(inbox.id), null);
      assert.equal(await s().getMessage(inbox.id, 1), null);
      assert.deepEqual(await s().getAccountKeys(account.id), []);
      assert.deepEqual(await s().changesSince(account.id, 0), []);
      assert.equal(await s().findThread(account.id, m1.threadKeys), null);
      // Documented choice: the address leaves every alias; an alias left empty goes.
      assert.equal(await s().getAlias('only@example.test'), null);
      assert.deepEqual((await s().getAlias('team@example.test'))?.destinations, [other.account.address]);
      // The other account is untouched.
      assert.equal((await s().getMailboxById(other.inbox.id))?.messageCount, 1);
      await rejectsWith(s().deleteAccount(account.id), 'store.not-found');
    });
  });

  describe('account keys', () => {
    it('put/get newest first, re-wrap in place, list all', async () => {
      const { account } = await seedAccount(s());
      const other = await seedAccount(s(), 'bob');
      const [v1] = await s().getAccountKeys(account.id);
      assert.ok(v1);
      const v2 = { ...v1, version: 2, wrappedKey: bytes(), publicKey: bytes(), createdAt: v1.createdAt + 1 };
      const rewrapped = { ...v1, masterVersion: 2, wrappedKey: bytes(48) };
      await s().putAccountKeys([v2, rewrapped]);
      const keys = await s().getAccountKeys(account.id);
      assert.deepEqual(
        keys.map((k) => [k.version, k.masterVersion]),
        [
          [2, 1],
          [1, 2],
        ],
      );
      sameBytes(keys[0]!.wrappedKey, v2.wrappedKey);
      sameBytes(keys[0]!.publicKey, v2.publicKey);
      sameBytes(keys[1]!.wrappedKey, rewrapped.wrappedKey);
      sameBytes(keys[1]!.sealedPrivateKey, v1.sealedPrivateKey);
      const all = await s().listAllAccountKeys();
      assert.equal(all.length, 3);
      assert.ok(all.some((k) => k.accountId === other.account.id));
      await rejectsWith(s().putAccountKeys([{ ...v1, accountId: 'acc_missing' }]), 'store.not-found');
    });
  });

  describe('aliases', () => {
    it('add, get, list, catch-all, conflicts and not-found', async () => {
      const { account } = await seedAccount(s());
      await addDomain(s(), 'other.test');
      const info = { source: 'info@example.test', destinations: [account.address], createdAt: 5 };
      const all = { source: '@example.test', destinations: [account.address], createdAt: 6 };
      const far = { source: 'x@other.test', destinations: [account.address], createdAt: 7 };
      await s().addAlias(info);
      await s().addAlias(all);
      await s().addAlias(far);
      assert.deepEqual(await s().getAlias('info@example.test'), info);
      assert.deepEqual(await s().getAlias('@example.test'), all);
      assert.equal(await s().getAlias('nobody@example.test'), null);
      assert.deepEqual(await s().listAliases('example.test'), [all, info]);
      assert.equal((await s().listAliases()).length, 3);
      await rejectsWith(s().addAlias(info), 'store.conflict');
      await rejectsWith(s().addAlias({ ...info, source: account.address }), 'store.conflict');
      await rejectsWith(s().addAlias({ ...info, source: 'a@unhosted.test' }), 'store.not-found');
      await s().removeAlias('info@example.test');
      await rejectsWith(s().removeAlias('info@example.test'), 'store.not-found');
      assert.equal(await s().getAlias('info@example.test'), null);
    });

    it('an account cannot take an alias address', async () => {
      await seedAccount(s());
      await s().addAlias({
        source: 'sales@example.test',
        destinations: ['alice@example.test'],
        createdAt: 1,
      });
      await rejectsWith(seedAccount(s(), 'sales'), 'store.conflict');
    });
  });

  describe('mailboxes', () => {
    it('unique names and special-uses per account; lookups', async () => {
      const { account, inbox } = await seedAccount(s());
      const other = await seedAccount(s(), 'bob');
      const created = await s().createMailbox(newMailbox(account.id, 'Archive/2024', '\\Archive'));
      assert.equal(created.uidNext, 1);
      assert.equal(created.messageCount, 0);
      assert.deepEqual(await s().getMailbox(account.id, 'Archive/2024'), created);
      assert.deepEqual(await s().getMailboxById(created.id), created);
      assert.deepEqual(await s().findMailboxBySpecialUse(account.id, '\\Archive'), created);
      assert.equal((await s().findMailboxBySpecialUse(account.id, '\\Sent'))?.name, 'Sent');
      assert.equal(await s().getMailbox(account.id, 'Nope'), null);
      assert.equal(await s().getMailboxById('mbx_missing'), null);
      assert.deepEqual(await s().getMailbox(account.id, 'INBOX'), inbox);
      await rejectsWith(s().createMailbox(newMailbox(account.id, 'INBOX')), 'store.conflict');
      await rejectsWith(s().createMailbox(newMailbox(account.id, 'Sent2', '\\Sent')), 'store.conflict');
      await rejectsWith(s().createMailbox(newMailbox('acc_missing', 'X')), 'store.not-found');
      // Names and special-uses are per account.
      await s().createMailbox(newMailbox(other.account.id, 'Archive/2024', '\\Archive'));
      const names = (await s().listMailboxes(account.id)).map((m) => m.name);
      assert.deepEqual(names, [...names].sort());
      assert.ok(names.includes('Archive/2024'));
      const feed = await s().changesSince(account.id, 0);
      assert.ok(feed.some((c) => c.kind === 'mailbox' && c.mailboxId === created.id && c.uid === null));
    });
  });
}
