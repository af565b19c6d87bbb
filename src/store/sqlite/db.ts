// The SQLite connection under a SqliteStore: opening with the durability PRAGMAs,
// the prepared-statement cache, transactions and savepoints, and the mapping of
// SQLite failures to the error catalogue.
// Invariants:
// - journal_mode=WAL and synchronous=FULL: a COMMIT returns only once the WAL is
//   fsync'd, so a resolved write survives a crash or power loss (group commits of
//   appends relax this for their one COMMIT and resolve only after an fsync of the
//   WAL off the event loop instead: wal-barrier.ts);
// - cache_size 32 MiB (see CACHE_KIB);
// - foreign_keys=ON; busy_timeout lets the CLI write while the server runs (a
//   writer waiting on another process blocks this event loop for up to that long:
//   node:sqlite is synchronous);
// - write transactions are BEGIN IMMEDIATE, so the write lock is taken up front and
//   two processes serialise instead of failing at the first write;
// - the database file is created with mode 0600 (SQLite gives -wal/-shm the same).

import { closeSync, openSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import { SealpostError } from '../../core/errors.ts';

export type Row = Record<string, SQLOutputValue>;

/**
 * Page cache of the connection (SQLite's default is 2 MiB). The search index takes
 * random inserts all over its b-tree; with the default, inline blobs pushed its
 * pages out and appends of messages with 500 search terms ran at about 55 a second,
 * with 32 MiB at about 85 (measured with 50 concurrent callers).
 */
const CACHE_KIB = 32 * 1024;

// Extended result codes (https://sqlite.org/rescode.html).
const CONSTRAINT_FOREIGNKEY = 787;
const CONSTRAINT_PRIMARYKEY = 1555;
const CONSTRAINT_UNIQUE = 2067;
const UNAVAILABLE_PRIMARY = new Set([5, 6, 8, 10, 11, 13, 14]); // BUSY LOCKED READONLY IOERR CORRUPT FULL CANTOPEN

export class SqliteDb {
  readonly raw: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private readonly arrayStatements = new Map<string, StatementSync>();
  private savepoints = 0;

  constructor(path: string, busyTimeoutMs: number) {
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new SealpostError('config.invalid', 'busyTimeoutMs must be a non-negative integer');
    }
    if (path !== ':memory:') closeSync(openSync(path, 'a', 0o600));
    try {
      this.raw = new DatabaseSync(path, { enableForeignKeyConstraints: true });
    } catch (e) {
      throw toStoreError(e);
    }
    this.raw.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    const mode = this.raw.prepare('PRAGMA journal_mode = WAL').get()?.['journal_mode'];
    if (mode !== 'wal' && path !== ':memory:') {
      this.raw.close();
      throw new SealpostError('store.unavailable', 'SQLite refused WAL mode', { mode });
    }
    this.raw.exec('PRAGMA synchronous = FULL');
    this.raw.exec('PRAGMA foreign_keys = ON');
    this.raw.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
  }

  get isOpen(): boolean {
    return this.raw.isOpen;
  }

  /** The cached prepared statement for `sql` (prepared on first use). */
  stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (s === undefined) {
      this.ensureOpen();
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.call(() => this.stmt(sql).get(...params));
  }

  all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.call(() => this.stmt(sql).all(...params));
  }

  /**
   * Rows as arrays of column values in SELECT order: about half the cost of row
   * objects, for the reads that return a whole mailbox (listEntries).
   */
  allArrays(sql: string, ...params: SQLInputValue[]): SQLOutputValue[][] {
    let s = this.arrayStatements.get(sql);
    if (s === undefined) {
      this.ensureOpen();
      s = this.raw.prepare(sql);
      s.setReturnArrays(true);
      this.arrayStatements.set(sql, s);
    }
    const statement = s;
    return this.call(() => statement.all(...params) as unknown as SQLOutputValue[][]);
  }

  run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.call(() => this.stmt(sql).run(...params)).changes);
  }

  /** Run `fn` in a BEGIN IMMEDIATE transaction; COMMIT (fsync) before returning. */
  transaction<T>(fn: () => T): T {
    this.ensureOpen();
    if (this.raw.isTransaction) throw new SealpostError('internal', 'nested store transaction');
    this.call(() => this.raw.exec('BEGIN IMMEDIATE'));
    try {
      const result = fn();
      this.call(() => this.raw.exec('COMMIT'));
      return result;
    } catch (e) {
      if (this.raw.isTransaction) this.raw.exec('ROLLBACK');
      throw toStoreError(e);
    }
  }

  /** Run `fn` inside a savepoint of the open transaction; on error only its work is undone. */
  savepoint<T>(fn: () => T): T {
    const name = `sp${++this.savepoints}`;
    this.raw.exec(`SAVEPOINT ${name}`);
    try {
      const result = fn();
      this.raw.exec(`RELEASE ${name}`);
      return result;
    } catch (e) {
      this.raw.exec(`ROLLBACK TO ${name}`);
      this.raw.exec(`RELEASE ${name}`);
      throw toStoreError(e);
    }
  }

  close(): void {
    if (!this.raw.isOpen) return;
    this.statements.clear();
    this.arrayStatements.clear();
    this.raw.close();
  }

  private ensureOpen(): void {
    if (!this.raw.isOpen) throw new SealpostError('store.unavailable', 'store is closed');
  }

  private call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toStoreError(e);
    }
  }
}

/** Map a node:sqlite error to the error catalogue; other errors pass through. */
export function toStoreError(e: unknown): unknown {
  if (e instanceof SealpostError || !(e instanceof Error)) return e;
  const errcode = (e as { errcode?: unknown }).errcode;
  if (typeof errcode !== 'number') return e;
  if (errcode === CONSTRAINT_UNIQUE || errcode === CONSTRAINT_PRIMARYKEY) {
    return new SealpostError('store.conflict', 'already exists', { sqlite: errcode });
  }
  if (errcode === CONSTRAINT_FOREIGNKEY) {
    return new SealpostError('store.conflict', 'still referenced, or references a missing row', {
      sqlite: errcode,
    });
  }
  if (UNAVAILABLE_PRIMARY.has(errcode & 0xff)) {
    return new SealpostError('store.unavailable', 'database unavailable', {
      sqlite: errcode,
      reason: e.message,
    });
  }
  return e;
}
