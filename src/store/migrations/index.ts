// Versioned schema migrations: an ordered list of { version, name, up(db) } and the
// runner that applies the pending ones. `up` only calls db.exec with DDL rendered for
// db.dialect, so the same list serves SQLite now and PostgreSQL later (whose runner
// can buffer the statements and send them asynchronously).
// Invariants:
// - versions strictly increase; an applied migration is never edited, only followed;
// - each migration runs in its own transaction together with its schema_migrations
//   row, so a crash leaves it either wholly applied or not at all;
// - running the runner again is a no-op; two processes may race: the check for
//   "already applied" happens inside the write transaction;
// - a database that records a version this code does not know is refused (it was
//   written by a newer Sealpost).

import type { DatabaseSync } from 'node:sqlite';
import { SealpostError } from '../../core/errors.ts';
import { initial } from './001-initial.ts';
import { blobTable } from './002-blob.ts';
import { imapPop3 } from './003-imap.ts';
import { searchFilter } from './004-search-filter.ts';
import { loginCounter } from './005-login-counter.ts';
import { identity } from './006-identity.ts';
import { webSession } from './007-web-session.ts';
import { queue } from './008-queue.ts';
import { dkimKey } from './009-dkim-key.ts';
import { sending } from './010-sending.ts';
import { mtaSts } from './011-mta-sts.ts';
import { type Dialect, sqliteDialect } from './dialect.ts';

export type { Dialect } from './dialect.ts';

export interface MigrationDb {
  readonly dialect: Dialect;
  exec(sql: string): void;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: MigrationDb): void;
}

export const migrations: readonly Migration[] = [
  initial,
  blobTable,
  imapPop3,
  searchFilter,
  loginCounter,
  identity,
  webSession,
  queue,
  dkimKey,
  sending,
  mtaSts,
];

export function checkMigrationList(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    const prev = list[i - 1];
    if (!Number.isInteger(m.version) || m.version < 1 || (prev !== undefined && m.version <= prev.version)) {
      throw new SealpostError('internal', 'migration versions must strictly increase', {
        version: m.version,
      });
    }
  });
}

/** Apply pending migrations to a SQLite database; returns the versions applied. */
export function migrateSqlite(db: DatabaseSync, list: readonly Migration[] = migrations): number[] {
  checkMigrationList(list);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL)`);
  const known = new Set(list.map((m) => m.version));
  const newest = db.prepare('SELECT max(version) AS v FROM schema_migrations').get()?.['v'];
  if (typeof newest === 'number' && !known.has(newest)) {
    throw new SealpostError('store.unavailable', 'database schema is newer than this Sealpost', {
      version: newest,
    });
  }
  const applied: number[] = [];
  const target: MigrationDb = { dialect: sqliteDialect, exec: (sql) => db.exec(sql) };
  const isApplied = db.prepare('SELECT 1 AS x FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of list) {
    if (isApplied.get(m.version) !== undefined) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (isApplied.get(m.version) === undefined) {
        m.up(target);
        record.run(m.version, m.name, Date.now());
        applied.push(m.version);
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }
  return applied;
}
