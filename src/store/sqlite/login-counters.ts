// Failed-login counters of the SQLite store (migration 5): shared by every process
// using the database, so a guesser cannot spread attempts over roles or workers.
// Invariants: a count restarts at 1 when its last failure is older than forgetMs;
// counting is one write transaction for all keys of an attempt; rows older than
// forgetMs are pruned as they are met (at most PRUNE_BATCH per call).

import type { LoginCounter } from '../types.ts';
import type { Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { num, str } from './rows.ts';

const PRUNE_BATCH = 500;

function read(db: SqliteDb, keys: readonly string[]): LoginCounter[] {
  if (keys.length === 0) return [];
  const rows = db.all(
    `SELECT key, failures, last_failure FROM login_counter WHERE key IN (${keys.map(() => '?').join(',')})`,
    ...keys,
  );
  return rows.map((r) => ({
    key: str(r, 'key'),
    failures: num(r, 'failures'),
    lastFailure: num(r, 'last_failure'),
  }));
}

export function getLoginCounters(db: SqliteDb, keys: readonly string[]): LoginCounter[] {
  return read(db, keys);
}

export function countLoginFailures(
  tx: Tx,
  keys: readonly string[],
  now: number,
  forgetMs: number,
): LoginCounter[] {
  tx.db.run(
    `DELETE FROM login_counter WHERE key IN (
       SELECT key FROM login_counter WHERE last_failure < ? ORDER BY last_failure LIMIT ${PRUNE_BATCH})`,
    now - forgetMs,
  );
  for (const key of keys) {
    tx.db.run(
      `INSERT INTO login_counter (key, failures, last_failure) VALUES (?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN login_counter.last_failure < ? THEN 1 ELSE login_counter.failures + 1 END,
         last_failure = excluded.last_failure`,
      key,
      now,
      now - forgetMs,
    );
  }
  return read(tx.db, keys);
}

export function clearLoginCounter(tx: Tx, key: string): void {
  tx.db.run('DELETE FROM login_counter WHERE key = ?', key);
}
