// IMAP COPY (RFC 9051 §6.4.7, COPYUID of RFC 4315) and MOVE (RFC 6851) in the SQLite
// store. A copy is a new mailbox entry pointing at the same message row: no blob is
// copied and nothing is re-sealed (the sealed data's associated data binds the
// account and the message id, so one row serves all of the account's mailboxes).
// Invariants (inside the one transaction that makes the change):
// - source and target belong to the same account ('input.invalid' otherwise);
// - the target gets one new modseq, new UIDs from its uid_next in the order of the
//   source UIDs, and an 'append' change per entry; flags are copied as stored;
// - counters and used_bytes grow by the copies (usage counts per entry);
// - MOVE is the copy plus removeEntries on the source (its own new modseq and an
//   'expunge' change per entry); the message rows stay, referenced by the copies.

import { SealpostError } from '../../core/errors.ts';
import { isSeen } from '../flags.ts';
import type { CopyResult, Id, Mailbox } from '../types.ts';
import { recordChange, type Tx } from './changes.ts';
import { removeEntries } from './expunge.ts';
import { requireMailbox } from './mailboxes.ts';
import { MAX_UID } from './messages.ts';
import { num, parseFlags, str } from './rows.ts';
import { selectByUids, sortedUids } from './uids.ts';

function sameAccount(tx: Tx, fromId: Id, toId: Id): [Mailbox, Mailbox] {
  const from = requireMailbox(tx.db, fromId);
  const to = requireMailbox(tx.db, toId);
  if (from.accountId !== to.accountId) {
    throw new SealpostError('input.invalid', 'copy and move stay within one account');
  }
  return [from, to];
}

function copyEntries(tx: Tx, from: Mailbox, sorted: readonly number[], to: Mailbox): CopyResult {
  const rows = selectByUids(
    tx.db,
    'SELECT e.uid, e.message_id, e.flags, m.size FROM mailbox_message e JOIN message m ON m.id = e.message_id',
    from.id,
    sorted,
  );
  if (rows.length === 0) return { uidValidity: to.uidValidity, pairs: [] };
  if (to.uidNext + rows.length - 1 > MAX_UID) {
    throw new SealpostError('store.conflict', 'mailbox UID space exhausted', { mailboxId: to.id });
  }
  const modseq = to.highestModseq + 1;
  const pairs: Array<readonly [number, number]> = [];
  let uid = to.uidNext;
  let unseen = 0;
  let bytes = 0;
  for (const row of rows) {
    const messageId = str(row, 'message_id');
    const flags = str(row, 'flags');
    tx.db.run(
      'INSERT INTO mailbox_message (mailbox_id, uid, message_id, flags, modseq) VALUES (?, ?, ?, ?, ?)',
      to.id,
      uid,
      messageId,
      flags,
      modseq,
    );
    recordChange(tx, { accountId: to.accountId, mailboxId: to.id, kind: 'append', modseq, uid, messageId });
    unseen += isSeen(parseFlags(flags)) ? 0 : 1;
    bytes += num(row, 'size');
    pairs.push([num(row, 'uid'), uid]);
    uid++;
  }
  tx.db.run(
    `UPDATE mailbox SET uid_next = ?, highest_modseq = ?, message_count = message_count + ?,
       unseen_count = unseen_count + ?, total_bytes = total_bytes + ? WHERE id = ?`,
    uid,
    modseq,
    pairs.length,
    unseen,
    bytes,
    to.id,
  );
  tx.db.run('UPDATE account SET used_bytes = used_bytes + ? WHERE id = ?', bytes, to.accountId);
  return { uidValidity: to.uidValidity, pairs };
}

export function copyMessages(tx: Tx, fromId: Id, uids: readonly number[], toId: Id): CopyResult {
  const [from, to] = sameAccount(tx, fromId, toId);
  return copyEntries(tx, from, sortedUids(uids), to);
}

export function moveMessages(tx: Tx, fromId: Id, uids: readonly number[], toId: Id): CopyResult {
  const [from, to] = sameAccount(tx, fromId, toId);
  const result = copyEntries(tx, from, sortedUids(uids), to);
  if (result.pairs.length > 0) {
    // Read the source again: it may be the target, just changed by the copy.
    removeEntries(
      tx,
      requireMailbox(tx.db, fromId),
      result.pairs.map(([source]) => source),
    );
  }
  return result;
}
