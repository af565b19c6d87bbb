// Removing mailbox entries in the SQLite store: expunge, the source half of MOVE,
// and the clean-up of message rows left without entries; plus the QRESYNC read of
// past expunges (RFC 7162 §3.2.5.1).
// Invariants (inside the one transaction that removes the entries):
// - one call is one step: the mailbox gets one new modseq, recorded with an
//   'expunge' change per removed entry (and none if nothing was removed);
// - message_count, unseen_count and total_bytes of the mailbox, and used_bytes of
//   the account, drop by what the removed entries counted;
// - a message row is deleted once no entry references it, with its thread keys
//   (cascade) and search terms (search.ts), and its blob ref is reported once no message row uses
//   it; the caller deletes those blobs (inline in the transaction, files after).

import { SealpostError } from '../../core/errors.ts';
import { isSeen } from '../flags.ts';
import type { Id, Mailbox } from '../types.ts';
import { recordChange, type Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { requireMailbox } from './mailboxes.ts';
import { num, parseFlags, str } from './rows.ts';
import { deleteTerms } from './search.ts';
import { selectByUids, sortedUids } from './uids.ts';

/** Remove the entries of `mailbox` at the sorted UIDs; returns their message ids. */
export function removeEntries(tx: Tx, mailbox: Mailbox, sorted: readonly number[]): Id[] {
  const modseq = mailbox.highestModseq + 1;
  const rows = selectByUids(
    tx.db,
    'SELECT e.uid, e.message_id, e.flags, m.size FROM mailbox_message e JOIN message m ON m.id = e.message_id',
    mailbox.id,
    sorted,
  );
  if (rows.length === 0) return [];
  const messageIds: Id[] = [];
  let unseen = 0;
  let bytes = 0;
  for (const row of rows) {
    const uid = num(row, 'uid');
    const messageId = str(row, 'message_id');
    tx.db.run('DELETE FROM mailbox_message WHERE mailbox_id = ? AND uid = ?', mailbox.id, uid);
    unseen += isSeen(parseFlags(str(row, 'flags'))) ? 0 : 1;
    bytes += num(row, 'size');
    messageIds.push(messageId);
    recordChange(tx, {
      accountId: mailbox.accountId,
      mailboxId: mailbox.id,
      kind: 'expunge',
      modseq,
      uid,
      messageId,
    });
  }
  tx.db.run(
    `UPDATE mailbox SET highest_modseq = ?, message_count = message_count - ?, unseen_count = unseen_count - ?,
       total_bytes = total_bytes - ? WHERE id = ?`,
    modseq,
    messageIds.length,
    unseen,
    bytes,
    mailbox.id,
  );
  tx.db.run('UPDATE account SET used_bytes = used_bytes - ? WHERE id = ?', bytes, mailbox.accountId);
  return messageIds;
}

/** Delete the message rows among `messageIds` that no entry references; returns freed blob refs. */
export function dropOrphans(tx: Tx, messageIds: Iterable<Id>): string[] {
  const refs = new Set<string>();
  for (const messageId of new Set(messageIds)) {
    if (
      tx.db.get('SELECT 1 AS x FROM mailbox_message WHERE message_id = ? LIMIT 1', messageId) !== undefined
    ) {
      continue;
    }
    const row = tx.db.get('SELECT blob_ref FROM message WHERE id = ?', messageId);
    if (row === undefined) continue;
    const ref = str(row, 'blob_ref');
    tx.db.run('DELETE FROM message WHERE id = ?', messageId); // cascades to thread_key
    deleteTerms(tx, messageId);
    if (tx.db.get('SELECT 1 AS x FROM message WHERE blob_ref = ? LIMIT 1', ref) === undefined) refs.add(ref);
  }
  return [...refs];
}

export function expunge(tx: Tx, mailboxId: Id, uids: readonly number[]): string[] {
  const mailbox = requireMailbox(tx.db, mailboxId);
  return dropOrphans(tx, removeEntries(tx, mailbox, sortedUids(uids)));
}

function checkUid(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new SealpostError('input.invalid', `${what} must be a non-negative integer`);
  }
}

export function expungedSince(
  db: SqliteDb,
  mailboxId: Id,
  modseq: number,
  minUid = 1,
  maxUid = Number.MAX_SAFE_INTEGER,
): number[] {
  checkUid(modseq, 'modseq');
  checkUid(minUid, 'minUid');
  checkUid(maxUid, 'maxUid');
  return db
    .all(
      `SELECT DISTINCT uid FROM change WHERE mailbox_id = ? AND modseq > ? AND kind = 'expunge'
         AND uid BETWEEN ? AND ? ORDER BY uid`,
      mailboxId,
      modseq,
      minUid,
      maxUid,
    )
    .map((r) => num(r, 'uid'));
}
