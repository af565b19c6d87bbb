// App passwords of the SQLite store (migration 6): one row per password, the
// secret kept only as the keyed hash made by auth/app-password.ts.
// Invariants:
// - ids are unique ('store.conflict'); a password belongs to an existing account
//   ('store.not-found') and goes with it;
// - scopes are a non-empty list drawn from PROTOCOL_SCOPES ('input.invalid');
// - revoking is idempotent and keeps the first revocation time; only the owning
//   account may revoke; touching a missing id does nothing.

import { SealpostError } from '../../core/errors.ts';
import type { AppPasswordRecord, Id, ProtocolScope } from '../types.ts';
import type { Tx } from './changes.ts';
import type { Row, SqliteDb } from './db.ts';
import {
  checkTime,
  jsonList,
  jsonListOrNull,
  listToJson,
  nonEmpty,
  requireAccount,
} from './identity-rows.ts';
import { num, numOrNull, str, strOrNull } from './rows.ts';

export const PROTOCOL_SCOPES: readonly ProtocolScope[] = ['imap', 'pop3', 'smtp', 'caldav', 'carddav'];

const COLUMNS =
  'id, account_id, name, secret_hash, scopes, expires_at, allowed_networks, created_at, ' +
  'revoked_at, last_used_at, last_used_address';

function isScope(s: string): s is ProtocolScope {
  return (PROTOCOL_SCOPES as readonly string[]).includes(s);
}

function toRecord(r: Row): AppPasswordRecord {
  const scopes = jsonList(r, 'scopes');
  if (!scopes.every(isScope))
    throw new SealpostError('internal', 'unexpected column type', { column: 'scopes' });
  return {
    id: str(r, 'id'),
    accountId: str(r, 'account_id'),
    name: str(r, 'name'),
    secretHash: str(r, 'secret_hash'),
    scopes,
    expiresAt: numOrNull(r, 'expires_at'),
    allowedNetworks: jsonListOrNull(r, 'allowed_networks'),
    createdAt: num(r, 'created_at'),
    revokedAt: numOrNull(r, 'revoked_at'),
    lastUsedAt: numOrNull(r, 'last_used_at'),
    lastUsedAddress: strOrNull(r, 'last_used_address'),
  };
}

function check(p: AppPasswordRecord): void {
  nonEmpty(p.id, 'app password id');
  nonEmpty(p.name, 'app password name');
  nonEmpty(p.secretHash, 'app password hash');
  if (p.scopes.length === 0 || !p.scopes.every((s) => isScope(s))) {
    throw new SealpostError('input.invalid', 'app password scopes must be a non-empty list of protocols');
  }
  if (p.allowedNetworks?.some((n) => n.length === 0)) {
    throw new SealpostError('input.invalid', 'allowed networks must not be empty strings');
  }
  checkTime(p.createdAt, 'createdAt');
  checkTime(p.expiresAt, 'expiresAt');
  checkTime(p.revokedAt, 'revokedAt');
  checkTime(p.lastUsedAt, 'lastUsedAt');
}

export function addAppPassword(tx: Tx, p: AppPasswordRecord): void {
  check(p);
  requireAccount(tx.db, p.accountId);
  if (tx.db.get('SELECT 1 AS x FROM app_password WHERE id = ?', p.id) !== undefined) {
    throw new SealpostError('store.conflict', 'app password id exists', { id: p.id });
  }
  tx.db.run(
    `INSERT INTO app_password (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    p.id,
    p.accountId,
    p.name,
    p.secretHash,
    JSON.stringify(p.scopes),
    p.expiresAt,
    listToJson(p.allowedNetworks),
    p.createdAt,
    p.revokedAt,
    p.lastUsedAt,
    p.lastUsedAddress,
  );
}

export function getAppPassword(db: SqliteDb, id: string): AppPasswordRecord | null {
  const row = db.get(`SELECT ${COLUMNS} FROM app_password WHERE id = ?`, id);
  return row === undefined ? null : toRecord(row);
}

/** Newest first (creation time, then id for a stable order). */
export function listAppPasswords(db: SqliteDb, accountId: Id): AppPasswordRecord[] {
  return db
    .all(
      `SELECT ${COLUMNS} FROM app_password WHERE account_id = ? ORDER BY created_at DESC, rowid DESC`,
      accountId,
    )
    .map(toRecord);
}

export function revokeAppPassword(tx: Tx, accountId: Id, id: string, at: number): void {
  checkTime(at, 'revocation time');
  if (
    tx.db.get('SELECT 1 AS x FROM app_password WHERE id = ? AND account_id = ?', id, accountId) === undefined
  ) {
    throw new SealpostError('store.not-found', 'no such app password', { id });
  }
  tx.db.run('UPDATE app_password SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', at, id);
}

export function touchAppPassword(tx: Tx, id: string, at: number, address: string): void {
  checkTime(at, 'use time');
  tx.db.run('UPDATE app_password SET last_used_at = ?, last_used_address = ? WHERE id = ?', at, address, id);
}
