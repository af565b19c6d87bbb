// Password history and the account owner's security log in the SQLite store
// (migration 6).
// Invariants:
// - setPasswordHash (accounts.ts) calls recordReplacedPassword in its own
//   transaction, so a change of password and its history row commit together;
//   only the newest PASSWORD_HISTORY_KEEP hashes of an account are kept;
// - security events get an increasing seq from the store; lists are newest first
//   and page with beforeSeq (events with a lower seq); one account never sees
//   another's events.

import { SealpostError } from '../../core/errors.ts';
import type { Id, SecurityEvent } from '../types.ts';
import type { Tx } from './changes.ts';
import type { Row, SqliteDb } from './db.ts';
import { checkTime, nonEmpty, requireAccount } from './identity-rows.ts';
import { num, str, strOrNull } from './rows.ts';

export const PASSWORD_HISTORY_KEEP = 10;

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new SealpostError('input.invalid', 'limit must be a non-negative integer');
  }
}

export function recordReplacedPassword(tx: Tx, accountId: Id, replacedHash: string): void {
  tx.db.run(
    'INSERT INTO password_history (account_id, changed_at, password_hash) VALUES (?, ?, ?)',
    accountId,
    tx.now,
    replacedHash,
  );
  tx.db.run(
    `DELETE FROM password_history WHERE account_id = ? AND seq NOT IN
       (SELECT seq FROM password_history WHERE account_id = ? ORDER BY seq DESC LIMIT ${PASSWORD_HISTORY_KEEP})`,
    accountId,
    accountId,
  );
}

export function passwordHistory(db: SqliteDb, accountId: Id, limit: number): string[] {
  checkLimit(limit);
  return db
    .all(
      'SELECT password_hash FROM password_history WHERE account_id = ? ORDER BY seq DESC LIMIT ?',
      accountId,
      limit,
    )
    .map((r) => str(r, 'password_hash'));
}

const COLUMNS = 'seq, account_id, at, kind, protocol, address, client, success, factor, detail';

function toEvent(r: Row): SecurityEvent {
  return {
    seq: num(r, 'seq'),
    accountId: str(r, 'account_id'),
    at: num(r, 'at'),
    kind: str(r, 'kind'),
    protocol: strOrNull(r, 'protocol'),
    address: strOrNull(r, 'address'),
    client: strOrNull(r, 'client'),
    success: num(r, 'success') !== 0,
    factor: strOrNull(r, 'factor'),
    detail: strOrNull(r, 'detail'),
  };
}

/** The seq given by the caller, if any, is ignored: the store assigns it. */
export function appendSecurityEvent(tx: Tx, e: SecurityEvent): void {
  nonEmpty(e.kind, 'event kind');
  checkTime(e.at, 'event time');
  requireAccount(tx.db, e.accountId);
  tx.db.run(
    `INSERT INTO security_event (account_id, at, kind, protocol, address, client, success, factor, detail)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    e.accountId,
    e.at,
    e.kind,
    e.protocol,
    e.address,
    e.client,
    e.success ? 1 : 0,
    e.factor,
    e.detail,
  );
}

export function listSecurityEvents(
  db: SqliteDb,
  accountId: Id,
  limit: number,
  beforeSeq?: number,
): SecurityEvent[] {
  checkLimit(limit);
  if (beforeSeq !== undefined && !Number.isSafeInteger(beforeSeq)) {
    throw new SealpostError('input.invalid', 'beforeSeq must be an integer');
  }
  return db
    .all(
      `SELECT ${COLUMNS} FROM security_event WHERE account_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
      accountId,
      beforeSeq ?? Number.MAX_SAFE_INTEGER,
      limit,
    )
    .map(toEvent);
}
