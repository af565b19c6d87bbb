// Accounts and account keys of the SQLite store.
// Invariants:
// - createAccount writes the account, its first key record and its mailboxes in
//   one transaction: an account never exists without its keys;
// - usedBytes starts at 0 and is only changed by messages.ts;
// - deleteAccount removes every row of the account (keys, mailboxes, entries,
//   messages, thread keys, search terms, maildrop lock, change-feed rows, and by
//   cascade its app passwords, factors, password history and security events) and drops its address from alias
//   destinations (aliases left with none are removed); it returns the blob refs
//   that no other account's message still uses, for the caller to delete after
//   the commit;
// - setPasswordHash records the replaced hash in password_history in the same
//   transaction (security-log.ts keeps the newest 10);
// - key records are keyed by (account, version); putAccountKeys upserts them all
//   in one transaction.

import { SealpostError } from '../../core/errors.ts';
import type { Account, AccountKeyRecord, Id, NewAccount, NewMailbox } from '../types.ts';
import type { Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { domainOf, unlinkAliasDestination } from './directory.ts';
import { insertMailbox } from './mailboxes.ts';
import { str, toAccount, toAccountKey } from './rows.ts';
import { deleteAccountTerms } from './search.ts';
import { recordReplacedPassword } from './security-log.ts';

const ACCOUNT_COLUMNS =
  'account.id, account.address, account.domain_id, account.password_hash, account.disabled, ' +
  'account.quota_bytes, account.used_bytes, account.created_at';
const KEY_COLUMNS =
  'account_id, version, master_version, wrapped_key, public_key, sealed_private_key, created_at';

function checkQuota(quotaBytes: number): void {
  if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0) {
    throw new SealpostError('input.invalid', 'quota must be a non-negative integer');
  }
}

export function createAccount(tx: Tx, a: NewAccount, mailboxes: readonly NewMailbox[]): Account {
  checkQuota(a.quotaBytes);
  if (a.key.accountId !== a.id || mailboxes.some((m) => m.accountId !== a.id)) {
    throw new SealpostError('input.invalid', 'key and mailboxes must belong to the new account');
  }
  const domain = tx.db.get('SELECT name FROM domain WHERE id = ?', a.domainId);
  if (domain === undefined) throw new SealpostError('store.not-found', 'no such domain', { id: a.domainId });
  if (domainOf(a.address) !== str(domain, 'name')) {
    throw new SealpostError('input.invalid', 'address is not in the account domain');
  }
  if (tx.db.get('SELECT 1 AS x FROM alias WHERE source = ?', a.address) !== undefined) {
    throw new SealpostError('store.conflict', 'an alias has this address', { address: a.address });
  }
  const account: Account = {
    id: a.id,
    address: a.address,
    domainId: a.domainId,
    passwordHash: a.passwordHash,
    disabled: false,
    quotaBytes: a.quotaBytes,
    usedBytes: 0,
    createdAt: tx.now,
  };
  tx.db.run(
    `INSERT INTO account (id, address, domain_id, password_hash, disabled, quota_bytes, used_bytes, created_at)
     VALUES (?, ?, ?, ?, 0, ?, 0, ?)`,
    account.id,
    account.address,
    account.domainId,
    account.passwordHash,
    account.quotaBytes,
    account.createdAt,
  );
  putAccountKeys(tx, [a.key]);
  for (const m of mailboxes) insertMailbox(tx, m);
  return account;
}

export function getAccount(db: SqliteDb, id: Id): Account | null {
  const row = db.get(`SELECT ${ACCOUNT_COLUMNS} FROM account WHERE id = ?`, id);
  return row === undefined ? null : toAccount(row);
}

export function getAccountByAddress(db: SqliteDb, address: string): Account | null {
  const row = db.get(`SELECT ${ACCOUNT_COLUMNS} FROM account WHERE address = ?`, address);
  return row === undefined ? null : toAccount(row);
}

export function listAccounts(db: SqliteDb, domainName?: string): Account[] {
  const rows =
    domainName === undefined
      ? db.all(`SELECT ${ACCOUNT_COLUMNS} FROM account ORDER BY address`)
      : db.all(
          `SELECT ${ACCOUNT_COLUMNS} FROM account JOIN domain ON domain.id = account.domain_id
           WHERE domain.name = ? ORDER BY account.address`,
          domainName,
        );
  return rows.map(toAccount);
}

function updateAccount(tx: Tx, accountId: Id, column: string, value: string | number): void {
  if (tx.db.run(`UPDATE account SET ${column} = ? WHERE id = ?`, value, accountId) === 0) {
    throw new SealpostError('store.not-found', 'no such account', { accountId });
  }
}

export function setPasswordHash(tx: Tx, accountId: Id, passwordHash: string): void {
  const old = tx.db.get('SELECT password_hash FROM account WHERE id = ?', accountId);
  updateAccount(tx, accountId, 'password_hash', passwordHash);
  if (old !== undefined) recordReplacedPassword(tx, accountId, str(old, 'password_hash'));
}

export function setDisabled(tx: Tx, accountId: Id, disabled: boolean): void {
  updateAccount(tx, accountId, 'disabled', disabled ? 1 : 0);
}

export function setQuota(tx: Tx, accountId: Id, quotaBytes: number): void {
  checkQuota(quotaBytes);
  updateAccount(tx, accountId, 'quota_bytes', quotaBytes);
}

export function deleteAccount(tx: Tx, accountId: Id): string[] {
  const account = getAccount(tx.db, accountId);
  if (account === null) throw new SealpostError('store.not-found', 'no such account', { accountId });
  const refs = tx.db
    .all(
      `SELECT DISTINCT m.blob_ref FROM message m WHERE m.account_id = ? AND NOT EXISTS
         (SELECT 1 FROM message o WHERE o.blob_ref = m.blob_ref AND o.account_id <> m.account_id)
       ORDER BY m.blob_ref`,
      accountId,
    )
    .map((r) => str(r, 'blob_ref'));
  tx.db.run('DELETE FROM change WHERE account_id = ?', accountId);
  deleteAccountTerms(tx, accountId);
  // Cascades to account_key, mailbox, message, mailbox_message, thread_key, maildrop_lock,
  // app_password, auth_factor, password_history, security_event and web_session.
  tx.db.run('DELETE FROM account WHERE id = ?', accountId);
  unlinkAliasDestination(tx, account.address);
  return refs;
}

export function putAccountKeys(tx: Tx, records: readonly AccountKeyRecord[]): void {
  for (const r of records) {
    if (!Number.isSafeInteger(r.version) || r.version < 1 || !Number.isSafeInteger(r.masterVersion)) {
      throw new SealpostError('input.invalid', 'key versions must be integers (version >= 1)');
    }
    if (tx.db.get('SELECT 1 AS x FROM account WHERE id = ?', r.accountId) === undefined) {
      throw new SealpostError('store.not-found', 'no such account', { accountId: r.accountId });
    }
    tx.db.run(
      `INSERT INTO account_key (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, version) DO UPDATE SET master_version = excluded.master_version,
         wrapped_key = excluded.wrapped_key, public_key = excluded.public_key,
         sealed_private_key = excluded.sealed_private_key, created_at = excluded.created_at`,
      r.accountId,
      r.version,
      r.masterVersion,
      r.wrappedKey,
      r.publicKey,
      r.sealedPrivateKey,
      r.createdAt,
    );
  }
}

export function getAccountKeys(db: SqliteDb, accountId: Id): AccountKeyRecord[] {
  return db
    .all(`SELECT ${KEY_COLUMNS} FROM account_key WHERE account_id = ? ORDER BY version DESC`, accountId)
    .map(toAccountKey);
}

export function listAllAccountKeys(db: SqliteDb): AccountKeyRecord[] {
  return db.all(`SELECT ${KEY_COLUMNS} FROM account_key ORDER BY account_id, version DESC`).map(toAccountKey);
}
