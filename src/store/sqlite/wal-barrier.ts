// Durability for group commits without freezing the event loop.
//
// With synchronous=FULL every COMMIT fsyncs the WAL inside node:sqlite's synchronous
// call, so the whole process (every SMTP session) stops for the length of an fsync,
// hundreds of times a second under load. Group commits instead run with
// synchronous=NORMAL — the WAL frames are written but not synced; SQLite documents WAL
// with NORMAL as safe from corruption, a power loss at worst rolls back the newest
// transactions — and then wait for an fsync of the -wal file done on the libuv thread
// pool. Callers are told their rows are stored only after that fsync, so the promise
// (and the 250 that follows it) still means "on disk".
//
// Invariants:
// - relaxed() restores synchronous=FULL before it returns, so every other write of
//   the store keeps fsyncing at COMMIT;
// - barrier() resolves only after an fsync that STARTED after the call: a caller never
//   rides on an fsync that began before its commit;
// - concurrent callers share fsyncs (at most one running and one waiting).

import { open } from 'node:fs/promises';
import type { SqliteDb } from './db.ts';

export class WalBarrier {
  readonly #db: SqliteDb;
  readonly #walPath: string;
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;

  constructor(db: SqliteDb, databasePath: string) {
    this.#db = db;
    this.#walPath = `${databasePath}-wal`;
  }

  /** Run a write with synchronous=NORMAL; the caller must then await barrier(). */
  relaxed<T>(fn: () => T): T {
    this.#db.raw.exec('PRAGMA synchronous = NORMAL');
    try {
      return fn();
    } finally {
      this.#db.raw.exec('PRAGMA synchronous = FULL');
    }
  }

  /** Resolves once everything committed before this call is fsync'd. */
  barrier(): Promise<void> {
    if (this.#running === null) {
      this.#running = this.#fsync().finally(() => {
        this.#running = null;
      });
      return this.#running;
    }
    // An fsync is under way, but it may have started before our commit: wait for the
    // next one, which all callers arriving meanwhile share.
    this.#next ??= this.#running.then(
      () => this.#startNext(),
      () => this.#startNext(),
    );
    return this.#next;
  }

  #startNext(): Promise<void> {
    this.#next = null;
    return this.barrier();
  }

  async #fsync(): Promise<void> {
    let file: Awaited<ReturnType<typeof open>>;
    try {
      file = await open(this.#walPath, 'r');
    } catch (e) {
      // Closing the last connection checkpoints the WAL into the database (synced, as
      // synchronous is FULL again by then) and only then removes it: nothing to sync.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    try {
      // fdatasync, as SQLite itself syncs the WAL on Linux: the data and the size that
      // reaches it, without unrelated metadata such as timestamps.
      await file.datasync();
    } finally {
      await file.close();
    }
  }
}
