// Fixtures for the store contract suite: a fresh store per test and builders for
// the rows the tests need. Only the Store interface is used, so every backend runs
// the suite unchanged.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach } from 'node:test';
import { type ErrorCode, isSealpostError } from '../../core/errors.ts';
import { newId, newUidValidity } from '../../core/ids.ts';
import type {
  Account,
  Domain,
  Mailbox,
  NewAccount,
  NewMailbox,
  NewMessage,
  SpecialUse,
  Store,
} from '../types.ts';

export type OpenStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

/** Registers beforeEach/afterEach in the current describe; returns the current store. */
export function useStore(open: OpenStore): () => Store {
  let current: { store: Store; cleanup: () => Promise<void> } | null = null;
  beforeEach(async () => {
    current = await open();
    await current.store.migrate();
  });
  afterEach(async () => {
    if (current === null) return;
    await current.store.close();
    await current.cleanup();
    current = null;
  });
  return () => {
    assert.ok(current !== null, 'store not open');
    return current.store;
  };
}

export async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSealpostError(e, code), `expected ${code}, got ${String(e)}`);
    return true;
  });
}

export function bytes(n = 32): Uint8Array {
  return new Uint8Array(randomBytes(n));
}

export function sameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(Buffer.from(actual).toString('hex'), Buffer.from(expected).toString('hex'));
}

export async function addDomain(store: Store, name = 'example.test'): Promise<Domain> {
  const domain: Domain = { id: newId('dom'), name, createdAt: 1_700_000_000_000 };
  await store.addDomain(domain);
  return domain;
}

export function newMailbox(
  accountId: string,
  name: string,
  specialUse: SpecialUse | null = null,
): NewMailbox {
  return { id: newId('mbx'), accountId, name, specialUse, uidValidity: newUidValidity(), subscribed: true };
}

export const FIXTURE_MAILBOXES: ReadonlyArray<[string, SpecialUse | null]> = [
  ['INBOX', null],
  ['Sent', '\\Sent'],
  ['Drafts', '\\Drafts'],
  ['Trash', '\\Trash'],
  ['Junk', '\\Junk'],
];

export interface Seeded {
  readonly domain: Domain;
  readonly account: Account;
  readonly inbox: Mailbox;
  readonly mailboxes: Mailbox[];
}

/** A NewAccount (with its first key record) for `local@domain`. */
export function newAccount(domain: Domain, local: string): NewAccount {
  const id = newId('acc');
  return {
    id,
    address: `${local}@${domain.name}`,
    domainId: domain.id,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    quotaBytes: 0,
    key: {
      accountId: id,
      version: 1,
      masterVersion: 1,
      wrappedKey: bytes(),
      publicKey: bytes(),
      sealedPrivateKey: bytes(),
      createdAt: 1_700_000_000_000,
    },
  };
}

/** A domain (created if missing) and an account with the default mailboxes. */
export async function seedAccount(
  store: Store,
  local = 'alice',
  domainName = 'example.test',
): Promise<Seeded> {
  const domain = (await store.getDomain(domainName)) ?? (await addDomain(store, domainName));
  const na = newAccount(domain, local);
  const account = await store.createAccount(
    na,
    FIXTURE_MAILBOXES.map(([name, use]) => newMailbox(na.id, name, use)),
  );
  const mailboxes = await store.listMailboxes(na.id);
  const inbox = mailboxes.find((m) => m.name === 'INBOX');
  assert.ok(inbox);
  return { domain, account, inbox, mailboxes };
}

export function newMessage(mailbox: Mailbox, over: Partial<NewMessage> = {}): NewMessage {
  const id = newId('msg');
  return {
    id,
    accountId: mailbox.accountId,
    mailboxId: mailbox.id,
    blobRef: id,
    size: 1000,
    internalDate: 1_700_000_000_000,
    flags: [],
    threadId: newId('thr'),
    threadKeys: [bytes(16)],
    keyVersion: 1,
    wrappedKey: bytes(60),
    sealedMeta: bytes(200),
    sealedBlob: bytes(300),
    ...over,
  };
}

export async function mailbox(store: Store, id: string): Promise<Mailbox> {
  const m = await store.getMailboxById(id);
  assert.ok(m, 'mailbox exists');
  return m;
}

export async function usedBytes(store: Store, accountId: string): Promise<number> {
  const a = await store.getAccount(accountId);
  assert.ok(a, 'account exists');
  return a.usedBytes;
}
