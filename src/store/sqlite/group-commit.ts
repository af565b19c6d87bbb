// Group commit for appendMessages: calls that arrive in the same event-loop turn
// are queued and written in ONE transaction on the next setImmediate, then made
// durable by one WAL fsync off the event loop (wal-barrier.ts), so many concurrent
// SMTP deliveries share the cost of durability and none of them waits on another's
// fsync with the event loop stopped.
// Invariants:
// - a caller's promise settles only after the COMMIT that holds its rows AND the WAL
//   fsync after it (or after its own failure); its result is exactly its own
//   Appended[];
// - each caller's step runs in its own savepoint: a caller whose step fails (a
//   conflict, a missing mailbox, bad input) is rolled back alone and rejected,
//   the others commit;
// - if the shared transaction itself fails (BEGIN, COMMIT, an I/O error), every
//   caller is retried in a transaction of its own, so no caller fails for another;
// - change listeners hear a batch's changes once they are durable, in seq order;
// - inline blobs are written by the steps themselves (blobs.ts); file blobs are
//   already durable when a caller is enqueued (SqliteStore.appendMessages).

import { isSealpostError } from '../../core/errors.ts';
import type { Appended, Change, NewMessage } from '../types.ts';
import type { SqliteBlobs } from './blobs.ts';
import type { ChangeFeed, Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { appendStep } from './messages.ts';
import type { WalBarrier } from './wal-barrier.ts';

interface Pending {
  readonly messages: readonly NewMessage[];
  readonly resolve: (appended: Appended[]) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { ok: true; appended: Appended[]; changes: Change[] } | { ok: false; error: unknown };

export class GroupCommit {
  private readonly db: SqliteDb;
  private readonly feed: ChangeFeed;
  private readonly blobs: SqliteBlobs;
  private readonly now: () => number;
  private readonly wal: WalBarrier;
  private pending: Pending[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  constructor(db: SqliteDb, feed: ChangeFeed, blobs: SqliteBlobs, now: () => number, wal: WalBarrier) {
    this.wal = wal;
    this.db = db;
    this.feed = feed;
    this.blobs = blobs;
    this.now = now;
  }

  enqueue(messages: readonly NewMessage[]): Promise<Appended[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ messages, resolve, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Write everything queued now (also called by close()). Never throws. */
  flush(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 1) this.runAlone(batch[0]!);
    else if (batch.length > 1) this.runBatch(batch);
  }

  private tx(): Tx {
    return { db: this.db, changes: [], now: this.now() };
  }

  private runAlone(p: Pending): void {
    let tx: Tx;
    let appended: Appended[];
    try {
      tx = this.tx();
      appended = this.wal.relaxed(() => this.db.transaction(() => appendStep(tx, this.blobs, p.messages)));
    } catch (e) {
      p.reject(e);
      return;
    }
    this.wal.barrier().then(
      () => {
        this.feed.publish(tx.changes);
        p.resolve(appended);
      },
      (e: unknown) => p.reject(e),
    );
  }

  private runBatch(batch: readonly Pending[]): void {
    let outcomes: Outcome[];
    try {
      outcomes = this.wal.relaxed(() => this.db.transaction(() => batch.map((p) => this.step(p))));
    } catch {
      for (const p of batch) this.runAlone(p);
      return;
    }
    const settle = () => {
      for (const [i, o] of outcomes.entries()) {
        const p = batch[i]!;
        if (o.ok) p.resolve(o.appended);
        else p.reject(o.error);
      }
    };
    if (!outcomes.some((o) => o.ok)) {
      settle();
      return;
    }
    this.wal.barrier().then(
      () => {
        this.feed.publish(outcomes.flatMap((o) => (o.ok ? o.changes : [])));
        settle();
      },
      (e: unknown) => {
        for (const [i, o] of outcomes.entries()) {
          const p = batch[i]!;
          if (o.ok) p.reject(e);
          else p.reject(o.error);
        }
      },
    );
  }

  private step(p: Pending): Outcome {
    const tx = this.tx();
    try {
      const appended = this.db.savepoint(() => appendStep(tx, this.blobs, p.messages));
      return { ok: true, appended, changes: tx.changes };
    } catch (e) {
      // The database itself failing is not this caller's fault: abort the batch.
      if (isSealpostError(e, 'store.unavailable') || isSealpostError(e, 'internal')) throw e;
      return { ok: false, error: e };
    }
  }
}
