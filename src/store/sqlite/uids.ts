// Reading a set of a mailbox's entries by UID. IMAP hands the store UID sets of
// any shape (1:*, a few scattered UIDs, 10,000 UIDs from a SEARCH), so a set is cut
// into runs of nearby UIDs and each run is read with one range scan of the
// (mailbox_id, uid) primary key; rows between the asked-for UIDs are dropped here.
// Invariants: UIDs are positive safe integers (others are ignored, like unknown
// UIDs); results are in ascending UID order, each UID at most once.

import type { Id } from '../types.ts';
import type { Row, SqliteDb } from './db.ts';
import { num } from './rows.ts';

/**
 * Runs are merged across gaps up to this many UIDs: a wasted full row costs about
 * what a query does (measured: 10,000 UIDs, every tenth of 100,000, took 2 s merged
 * into one scan with a gap of 32, 0.37 s as one range query each).
 */
const MAX_GAP = 2;

/** The valid UIDs of `uids`, ascending and distinct. */
export function sortedUids(uids: readonly number[]): number[] {
  return [...new Set(uids)].filter((u) => Number.isSafeInteger(u) && u > 0).sort((a, b) => a - b);
}

/** [first, last] runs covering sorted, distinct UIDs, merging gaps up to MAX_GAP. */
export function uidRuns(sorted: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const uid of sorted) {
    const last = runs.at(-1);
    if (last !== undefined && uid - last[1] <= MAX_GAP + 1) last[1] = uid;
    else runs.push([uid, uid]);
  }
  return runs;
}

/**
 * Rows for the sorted UIDs of one mailbox. `select` is a SELECT over
 * `mailbox_message e` (joined as needed) that yields `uid`, without WHERE; the
 * range condition and the ordering are added here.
 */
export function selectByUids(db: SqliteDb, select: string, mailboxId: Id, sorted: readonly number[]): Row[] {
  if (sorted.length === 0) return [];
  const sql = `${select} WHERE e.mailbox_id = ? AND e.uid BETWEEN ? AND ? ORDER BY e.uid`;
  const wanted = new Set(sorted);
  const out: Row[] = [];
  for (const [first, last] of uidRuns(sorted)) {
    for (const row of db.all(sql, mailboxId, first, last)) {
      if (wanted.has(num(row, 'uid'))) out.push(row);
    }
  }
  return out;
}
