// Flag changes of the SQLite store: setFlags (plain STORE) and storeFlags (STORE
// with CONDSTORE's UNCHANGEDSINCE, RFC 7162 §3.1.3).
// Invariants (inside the one transaction that makes the change):
// - one call is one step: the entries whose flags change get the mailbox's next
//   modseq and a 'flags' change each; nothing changes, nothing is bumped;
// - an entry whose modseq is above unchangedSince is left alone and reported as a
//   conflict, never changed;
// - unseen_count follows \Seen; flags are stored normalised (../flags.ts).

import { SealpostError } from '../../core/errors.ts';
import { applyFlags, isSeen, normalizeFlags, sameFlags } from '../flags.ts';
import type { FlagMode, Id, StoreFlagsResult } from '../types.ts';
import { recordChange, type Tx } from './changes.ts';
import { requireMailbox } from './mailboxes.ts';
import { num, parseFlags, str } from './rows.ts';
import { selectByUids, sortedUids } from './uids.ts';

export function storeFlags(
  tx: Tx,
  mailboxId: Id,
  uids: readonly number[],
  flags: readonly string[],
  mode: FlagMode,
  unchangedSince?: number,
): StoreFlagsResult {
  if (unchangedSince !== undefined && !(Number.isSafeInteger(unchangedSince) && unchangedSince >= 0)) {
    throw new SealpostError('input.invalid', 'unchangedSince must be a non-negative integer');
  }
  const mailbox = requireMailbox(tx.db, mailboxId);
  normalizeFlags(flags); // refuse bad input even when no entry would change
  const modseq = mailbox.highestModseq + 1;
  const changed: number[] = [];
  const conflicts: number[] = [];
  let unseenDelta = 0;
  const rows = selectByUids(
    tx.db,
    'SELECT e.uid, e.message_id, e.flags, e.modseq FROM mailbox_message e',
    mailboxId,
    sortedUids(uids),
  );
  for (const row of rows) {
    const uid = num(row, 'uid');
    if (unchangedSince !== undefined && num(row, 'modseq') > unchangedSince) {
      conflicts.push(uid);
      continue;
    }
    const current = parseFlags(str(row, 'flags'));
    const next = applyFlags(current, flags, mode);
    if (sameFlags(current, next)) continue;
    tx.db.run(
      'UPDATE mailbox_message SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?',
      JSON.stringify(next),
      modseq,
      mailboxId,
      uid,
    );
    unseenDelta += (isSeen(next) ? 0 : 1) - (isSeen(current) ? 0 : 1);
    recordChange(tx, {
      accountId: mailbox.accountId,
      mailboxId,
      kind: 'flags',
      modseq,
      uid,
      messageId: str(row, 'message_id'),
    });
    changed.push(uid);
  }
  if (changed.length === 0) return { changed, conflicts, modseq: 0 };
  tx.db.run(
    'UPDATE mailbox SET highest_modseq = ?, unseen_count = unseen_count + ? WHERE id = ?',
    modseq,
    unseenDelta,
    mailboxId,
  );
  return { changed, conflicts, modseq };
}

/** Plain STORE: how many entries changed. */
export function setFlags(
  tx: Tx,
  mailboxId: Id,
  uids: readonly number[],
  flags: readonly string[],
  mode: FlagMode,
): number {
  return storeFlags(tx, mailboxId, uids, flags, mode).changed.length;
}
