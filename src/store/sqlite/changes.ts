// The change feed: rows of `change` written inside the transaction that made the
// change, and in-process listeners told after that transaction commits.
// Invariants:
// - a change row commits or rolls back with the change it describes (same tx);
// - listeners hear only committed changes, in seq order, synchronously after
//   COMMIT; a throwing listener is reported and never breaks the store or the
//   other listeners;
// - seq increases per store and is never reused (AUTOINCREMENT).

import type { Change } from '../types.ts';
import type { SqliteDb } from './db.ts';
import { toChange } from './rows.ts';

/** What a write step needs: the connection, the changes it makes, and its clock. */
export interface Tx {
  readonly db: SqliteDb;
  readonly changes: Change[];
  readonly now: number;
}

export function recordChange(tx: Tx, change: Omit<Change, 'seq' | 'at'>): Change {
  const row = tx.db.get(
    `INSERT INTO change (account_id, mailbox_id, kind, modseq, uid, message_id, at)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    change.accountId,
    change.mailboxId,
    change.kind,
    change.modseq,
    change.uid,
    change.messageId,
    tx.now,
  );
  const recorded: Change = { seq: Number(row?.['seq']), ...change, at: tx.now };
  tx.changes.push(recorded);
  return recorded;
}

export function changesSince(db: SqliteDb, accountId: string, afterSeq: number, limit: number): Change[] {
  return db
    .all(
      `SELECT seq, account_id, mailbox_id, kind, modseq, uid, message_id, at FROM change
       WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      accountId,
      afterSeq,
      limit,
    )
    .map(toChange);
}

export class ChangeFeed {
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.onListenerError = onListenerError;
  }

  subscribe(listener: (change: Change) => void): () => void {
    // Wrap so that subscribing the same function twice gives two subscriptions.
    const entry = (change: Change): void => listener(change);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Tell every listener about committed changes, in order. */
  publish(changes: readonly Change[]): void {
    if (changes.length === 0 || this.listeners.size === 0) return;
    const listeners = [...this.listeners];
    for (const change of changes) {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (e) {
          try {
            this.onListenerError(e);
          } catch {
            // A failing error reporter must not break the store either.
          }
        }
      }
    }
  }
}
