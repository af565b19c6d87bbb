// Shared pieces of the identity tables (migration 6) in the SQLite store: the
// input checks made at the store edge and the JSON list columns.
// Invariants: list columns hold a JSON array of strings (or NULL where the type
// allows it); a value of another shape is schema drift and fails as 'internal'.

import { SealpostError } from '../../core/errors.ts';
import type { Id } from '../types.ts';
import type { Row, SqliteDb } from './db.ts';

export function nonEmpty(value: string, what: string): void {
  if (value.length === 0) throw new SealpostError('input.invalid', `${what} must not be empty`);
}

export function checkTime(value: number | null, what: string): void {
  if (value !== null && !Number.isSafeInteger(value)) {
    throw new SealpostError('input.invalid', `${what} must be an integer time`);
  }
}

export function requireAccount(db: SqliteDb, accountId: Id): void {
  if (db.get('SELECT 1 AS x FROM account WHERE id = ?', accountId) === undefined) {
    throw new SealpostError('store.not-found', 'no such account', { accountId });
  }
}

export function listToJson(list: readonly string[] | null): string | null {
  return list === null ? null : JSON.stringify(list);
}

export function jsonListOrNull(row: Row, column: string): string[] | null {
  const v = row[column];
  if (v === null) return null;
  if (typeof v === 'string') {
    const parsed: unknown = JSON.parse(v);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed;
  }
  throw new SealpostError('internal', 'unexpected column type', { column });
}

export function jsonList(row: Row, column: string): string[] {
  const list = jsonListOrNull(row, column);
  if (list === null) throw new SealpostError('internal', 'unexpected column type', { column });
  return list;
}

export function bytesOrNull(row: Row, column: string): Uint8Array | null {
  const v = row[column];
  if (v === null) return null;
  if (v instanceof Uint8Array) return v;
  throw new SealpostError('internal', 'unexpected column type', { column });
}
