// Second factors of the SQLite store (migration 6): TOTP secrets (sealed by
// auth/totp.ts), WebAuthn credentials and recovery-code hashes, one row each.
// Invariants:
// - a factor belongs to an existing account ('store.not-found') and goes with it;
//   factor ids and WebAuthn credential ids are unique ('store.conflict');
// - advanceTotpStep is a compare-and-set in one UPDATE: of two calls with the same
//   step exactly one wins, so a TOTP code is accepted at most once;
// - consumeRecoveryCode reads and rewrites the hash list inside one write
//   transaction (BEGIN IMMEDIATE), so a code is consumed at most once;
// - the replay guard and recovery use stamp lastUsedAt with the store's clock.

import { SealpostError } from '../../core/errors.ts';
import type { AuthFactor, FactorKind, Id } from '../types.ts';
import type { Tx } from './changes.ts';
import type { Row, SqliteDb } from './db.ts';
import {
  bytesOrNull,
  checkTime,
  jsonListOrNull,
  listToJson,
  nonEmpty,
  requireAccount,
} from './identity-rows.ts';
import { num, numOrNull, str, strOrNull } from './rows.ts';

const KINDS: readonly FactorKind[] = ['totp', 'webauthn', 'recovery'];
const COLUMNS =
  'id, account_id, kind, name, created_at, last_used_at, sealed_secret, last_step, credential_id, ' +
  'public_key, counter, transports, code_hashes';

function isKind(k: string): k is FactorKind {
  return (KINDS as readonly string[]).includes(k);
}

function toFactor(r: Row): AuthFactor {
  const kind = str(r, 'kind');
  if (!isKind(kind)) throw new SealpostError('internal', 'unexpected column type', { column: 'kind' });
  return {
    id: str(r, 'id'),
    accountId: str(r, 'account_id'),
    kind,
    name: str(r, 'name'),
    createdAt: num(r, 'created_at'),
    lastUsedAt: numOrNull(r, 'last_used_at'),
    sealedSecret: bytesOrNull(r, 'sealed_secret'),
    lastStep: numOrNull(r, 'last_step'),
    credentialId: strOrNull(r, 'credential_id'),
    publicKey: bytesOrNull(r, 'public_key'),
    counter: numOrNull(r, 'counter'),
    transports: jsonListOrNull(r, 'transports'),
    codeHashes: jsonListOrNull(r, 'code_hashes'),
  };
}

function nonNegative(value: number | null, what: string): void {
  if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
    throw new SealpostError('input.invalid', `${what} must be a non-negative integer`);
  }
}

function check(f: AuthFactor): void {
  nonEmpty(f.id, 'factor id');
  nonEmpty(f.name, 'factor name');
  if (!isKind(f.kind)) throw new SealpostError('input.invalid', 'unknown factor kind');
  checkTime(f.createdAt, 'createdAt');
  checkTime(f.lastUsedAt, 'lastUsedAt');
  nonNegative(f.lastStep, 'TOTP step');
  nonNegative(f.counter, 'signature counter');
  const missing =
    (f.kind === 'totp' && f.sealedSecret === null) ||
    (f.kind === 'webauthn' && (f.credentialId === null || f.publicKey === null || f.counter === null)) ||
    (f.kind === 'recovery' && f.codeHashes === null);
  if (missing) throw new SealpostError('input.invalid', `a ${f.kind} factor lacks its data`);
  if (f.credentialId !== null) nonEmpty(f.credentialId, 'credential id');
}

export function addFactor(tx: Tx, f: AuthFactor): void {
  check(f);
  requireAccount(tx.db, f.accountId);
  tx.db.run(
    `INSERT INTO auth_factor (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    f.id,
    f.accountId,
    f.kind,
    f.name,
    f.createdAt,
    f.lastUsedAt,
    f.sealedSecret,
    f.lastStep,
    f.credentialId,
    f.publicKey,
    f.counter,
    listToJson(f.transports),
    listToJson(f.codeHashes),
  );
}

/** Oldest first. */
export function listFactors(db: SqliteDb, accountId: Id): AuthFactor[] {
  return db
    .all(`SELECT ${COLUMNS} FROM auth_factor WHERE account_id = ? ORDER BY created_at, rowid`, accountId)
    .map(toFactor);
}

export function getFactorByCredentialId(db: SqliteDb, credentialId: string): AuthFactor | null {
  const row = db.get(`SELECT ${COLUMNS} FROM auth_factor WHERE credential_id = ?`, credentialId);
  return row === undefined ? null : toFactor(row);
}

export function removeFactor(tx: Tx, accountId: Id, factorId: Id): void {
  if (tx.db.run('DELETE FROM auth_factor WHERE id = ? AND account_id = ?', factorId, accountId) === 0) {
    throw new SealpostError('store.not-found', 'no such factor', { factorId });
  }
}

export function advanceTotpStep(tx: Tx, factorId: Id, step: number): boolean {
  nonNegative(step, 'TOTP step');
  const sql = `UPDATE auth_factor SET last_step = ?, last_used_at = ?
               WHERE id = ? AND kind = 'totp' AND (last_step IS NULL OR last_step < ?)`;
  return tx.db.run(sql, step, tx.now, factorId, step) === 1;
}

export function updateWebauthnCounter(tx: Tx, factorId: Id, counter: number, at: number): void {
  nonNegative(counter, 'signature counter');
  checkTime(at, 'use time');
  const sql = `UPDATE auth_factor SET counter = ?, last_used_at = ? WHERE id = ? AND kind = 'webauthn'`;
  if (tx.db.run(sql, counter, at, factorId) === 0) {
    throw new SealpostError('store.not-found', 'no such WebAuthn factor', { factorId });
  }
}

export function consumeRecoveryCode(tx: Tx, factorId: Id, hash: string): boolean {
  const row = tx.db.get(`SELECT code_hashes FROM auth_factor WHERE id = ? AND kind = 'recovery'`, factorId);
  if (row === undefined) return false;
  const hashes = jsonListOrNull(row, 'code_hashes') ?? [];
  const i = hashes.indexOf(hash);
  if (hash.length === 0 || i < 0) return false;
  hashes.splice(i, 1);
  const sql = 'UPDATE auth_factor SET code_hashes = ?, last_used_at = ? WHERE id = ?';
  tx.db.run(sql, JSON.stringify(hashes), tx.now, factorId);
  return true;
}
