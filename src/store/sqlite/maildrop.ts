// The POP3 maildrop lock (RFC 1939 §8: one session holds an account's maildrop) in
// the SQLite store: a row per locked account, so every process sharing the
// database sees the same lock.
// Invariants:
// - at most one owner per account (PRIMARY KEY); taking the lock is a check and a
//   write in one BEGIN IMMEDIATE transaction, so two processes cannot both win;
// - a lock expires at its last lock/refresh time + the ttl given then; an expired
//   lock may be taken over by anyone; only its owner refreshes or releases it;
// - times come from the store's clock (tx.now).

import { SealpostError } from '../../core/errors.ts';
import type { Id } from '../types.ts';
import type { Tx } from './changes.ts';
import { num, str } from './rows.ts';

function check(owner: string, ttlMs: number): void {
  if (owner.length === 0) throw new SealpostError('input.invalid', 'lock owner must not be empty');
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new SealpostError('input.invalid', 'lock ttl must be a positive integer');
  }
}

export function lockMaildrop(tx: Tx, accountId: Id, owner: string, ttlMs: number): boolean {
  check(owner, ttlMs);
  if (tx.db.get('SELECT 1 AS x FROM account WHERE id = ?', accountId) === undefined) {
    throw new SealpostError('store.not-found', 'no such account', { accountId });
  }
  const held = tx.db.get('SELECT owner, expires_at FROM maildrop_lock WHERE account_id = ?', accountId);
  if (held !== undefined && str(held, 'owner') !== owner && num(held, 'expires_at') > tx.now) return false;
  tx.db.run(
    `INSERT INTO maildrop_lock (account_id, owner, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (account_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`,
    accountId,
    owner,
    tx.now + ttlMs,
  );
  return true;
}

export function refreshMaildropLock(tx: Tx, accountId: Id, owner: string, ttlMs: number): boolean {
  check(owner, ttlMs);
  const sql = 'UPDATE maildrop_lock SET expires_at = ? WHERE account_id = ? AND owner = ?';
  return tx.db.run(sql, tx.now + ttlMs, accountId, owner) === 1;
}

export function unlockMaildrop(tx: Tx, accountId: Id, owner: string): void {
  tx.db.run('DELETE FROM maildrop_lock WHERE account_id = ? AND owner = ?', accountId, owner);
}
