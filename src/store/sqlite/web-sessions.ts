// Web sessions of the SQLite store (migration 7): one row per browser session, keyed
// by the keyed hash of the cookie's id (auth/session.ts); the id itself is never stored.
// Invariants:
// - an idHash is unique ('store.conflict'); a session belongs to an existing account
//   ('store.not-found') and goes with it;
// - input is refused, never trimmed ('input.invalid'): an empty idHash, a user agent
//   over USER_AGENT_MAX chars, a time that is not an integer, an empty factor or
//   challenge (null clears a challenge);
// - last_seen_at never moves backwards (touches may arrive out of order);
// - touching or deleting a missing session does nothing; completing, rotating it or
//   setting its challenge is 'store.not-found'; rotation replaces a session by a new
//   idHash of the same account in one transaction; a session is only ever read or ended by its idHash
//   or through its own account, except by the expiry sweep (deleteExpiredWebSessions), which
//   ends only sessions that have timed out and would be refused on their next use.

import { SealpostError } from '../../core/errors.ts';
import type { Id, WebSession, WebSessionCutoff } from '../types.ts';
import type { Tx } from './changes.ts';
import type { Row, SqliteDb } from './db.ts';
import { checkTime, nonEmpty, requireAccount } from './identity-rows.ts';
import { num, str, strOrNull } from './rows.ts';

/** The longest user agent kept; the caller shortens a longer one before creating. */
export const USER_AGENT_MAX = 512;

const COLUMNS =
  'id_hash, account_id, created_at, last_seen_at, expires_at, address, user_agent, pending, ' +
  'second_factor, challenge';

function toSession(r: Row): WebSession {
  return {
    idHash: str(r, 'id_hash'),
    accountId: str(r, 'account_id'),
    createdAt: num(r, 'created_at'),
    lastSeenAt: num(r, 'last_seen_at'),
    expiresAt: num(r, 'expires_at'),
    address: str(r, 'address'),
    userAgent: str(r, 'user_agent'),
    pending: num(r, 'pending') !== 0,
    secondFactor: strOrNull(r, 'second_factor'),
    challenge: strOrNull(r, 'challenge'),
  };
}

function checkIdHash(idHash: string): void {
  nonEmpty(idHash, 'web session id hash');
}

function check(s: WebSession): void {
  checkIdHash(s.idHash);
  if (s.userAgent.length > USER_AGENT_MAX) {
    throw new SealpostError('input.invalid', `user agent must be at most ${USER_AGENT_MAX} characters`);
  }
  if (s.secondFactor !== null) nonEmpty(s.secondFactor, 'second factor');
  if (s.challenge !== null) nonEmpty(s.challenge, 'challenge');
  checkTime(s.createdAt, 'createdAt');
  checkTime(s.lastSeenAt, 'lastSeenAt');
  checkTime(s.expiresAt, 'expiresAt');
}

function requireSession(tx: Tx, idHash: string): void {
  if (tx.db.get('SELECT 1 AS x FROM web_session WHERE id_hash = ?', idHash) === undefined) {
    throw new SealpostError('store.not-found', 'no such web session');
  }
}

export function createWebSession(tx: Tx, s: WebSession): void {
  check(s);
  requireAccount(tx.db, s.accountId);
  if (tx.db.get('SELECT 1 AS x FROM web_session WHERE id_hash = ?', s.idHash) !== undefined) {
    throw new SealpostError('store.conflict', 'web session exists');
  }
  tx.db.run(
    `INSERT INTO web_session (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    s.idHash,
    s.accountId,
    s.createdAt,
    s.lastSeenAt,
    s.expiresAt,
    s.address,
    s.userAgent,
    s.pending ? 1 : 0,
    s.secondFactor,
    s.challenge,
  );
}

export function getWebSession(db: SqliteDb, idHash: string): WebSession | null {
  checkIdHash(idHash);
  const row = db.get(`SELECT ${COLUMNS} FROM web_session WHERE id_hash = ?`, idHash);
  return row === undefined ? null : toSession(row);
}

export function touchWebSession(tx: Tx, idHash: string, at: number): void {
  checkIdHash(idHash);
  checkTime(at, 'activity time');
  tx.db.run('UPDATE web_session SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?', at, idHash, at);
}

export function completeWebSession(tx: Tx, idHash: string, factor: string, at: number): void {
  checkIdHash(idHash);
  nonEmpty(factor, 'second factor');
  checkTime(at, 'completion time');
  requireSession(tx, idHash);
  tx.db.run(
    `UPDATE web_session SET pending = 0, second_factor = ?,
       last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END
     WHERE id_hash = ?`,
    factor,
    at,
    at,
    idHash,
  );
}

/**
 * One transaction: the old session goes and `next` is created (same account only);
 * a throw leaves both as they were.
 */
export function rotateWebSession(tx: Tx, oldIdHash: string, next: WebSession): void {
  checkIdHash(oldIdHash);
  check(next);
  const row = tx.db.get('SELECT account_id FROM web_session WHERE id_hash = ?', oldIdHash);
  if (row === undefined) throw new SealpostError('store.not-found', 'no such web session');
  if (str(row, 'account_id') !== next.accountId) {
    throw new SealpostError('input.invalid', 'a rotated web session must keep its account');
  }
  // The new id must be new: rotating onto the old one (or any other) is a conflict.
  if (tx.db.get('SELECT 1 AS x FROM web_session WHERE id_hash = ?', next.idHash) !== undefined) {
    throw new SealpostError('store.conflict', 'web session exists');
  }
  tx.db.run('DELETE FROM web_session WHERE id_hash = ?', oldIdHash);
  createWebSession(tx, next);
}

export function setWebSessionChallenge(tx: Tx, idHash: string, challenge: string | null): void {
  checkIdHash(idHash);
  if (challenge !== null) nonEmpty(challenge, 'challenge');
  requireSession(tx, idHash);
  tx.db.run('UPDATE web_session SET challenge = ? WHERE id_hash = ?', challenge, idHash);
}

export function deleteWebSession(tx: Tx, idHash: string): void {
  checkIdHash(idHash);
  tx.db.run('DELETE FROM web_session WHERE id_hash = ?', idHash);
}

/** Newest first (creation time, then insertion order for a stable order). */
export function listWebSessions(db: SqliteDb, accountId: Id): WebSession[] {
  return db
    .all(
      `SELECT ${COLUMNS} FROM web_session WHERE account_id = ? ORDER BY created_at DESC, rowid DESC`,
      accountId,
    )
    .map(toSession);
}

/** Ends the account's sessions but `keepIdHash` (if given); returns how many ended. */
export function deleteWebSessions(tx: Tx, accountId: Id, keepIdHash?: string): number {
  if (keepIdHash === undefined) {
    return tx.db.run('DELETE FROM web_session WHERE account_id = ?', accountId);
  }
  checkIdHash(keepIdHash);
  return tx.db.run('DELETE FROM web_session WHERE account_id = ? AND id_hash <> ?', accountId, keepIdHash);
}

/** The sweep: deletes every timed-out session (WebSessionCutoff); returns how many. */
export function deleteExpiredWebSessions(tx: Tx, c: WebSessionCutoff): number {
  checkTime(c.now, 'sweep time');
  checkTime(c.idleBefore, 'idle cutoff');
  checkTime(c.createdBefore, 'absolute cutoff');
  checkTime(c.pendingCreatedBefore, 'pending cutoff');
  return tx.db.run(
    `DELETE FROM web_session
     WHERE expires_at <= ? OR last_seen_at <= ? OR created_at <= ?
        OR (pending <> 0 AND created_at <= ?)`,
    c.now,
    c.idleBefore,
    c.createdBefore,
    c.pendingCreatedBefore,
  );
}
