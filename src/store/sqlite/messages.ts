// Messages of the SQLite store: append (one caller's step; group-commit.ts batches
// steps), reads, flags, expunge and thread lookup.
// Invariants (each kept inside the one transaction that makes the change):
// - a mailbox's UIDs are taken from uid_next, which only grows: an expunged UID is
//   never handed out again;
// - each step that modifies a mailbox raises its highest_modseq by exactly one;
//   the entries the step touches get that modseq and a change-feed row each;
// - message_count, unseen_count (entries without \Seen) and total_bytes of the
//   mailbox, and used_bytes of the account, move with the entries they count;
// - flags are stored normalised (flags.ts) as a JSON array;
// - a message row lives while a mailbox entry references it; a blob ref is
//   reported for deletion only once no message row references it (the store then
//   deletes the blob: blobs.ts);
// - a message's blob is recorded (blobs.ts) in the step that inserts its row.

import { SealpostError } from '../../core/errors.ts';
import { checkRef } from '../blobs/file-blob-store.ts';
import { applyFlags, isSeen, normalizeFlags, sameFlags } from '../flags.ts';
import type { Appended, FlagMode, Id, NewMessage, StoredMessage } from '../types.ts';
import type { SqliteBlobs } from './blobs.ts';
import { recordChange, type Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { requireMailbox } from './mailboxes.ts';
import { num, parseFlags, str, toStoredMessage } from './rows.ts';

const MAX_UID = 0xffffffff;

const MESSAGE_SELECT = `SELECT m.id, m.account_id, e.mailbox_id, e.uid, e.modseq, e.flags, m.blob_ref, m.size,
  m.internal_date, m.thread_id, m.key_version, m.wrapped_key, m.sealed_meta
  FROM mailbox_message e JOIN message m ON m.id = e.message_id`;

interface MailboxStep {
  uidNext: number;
  readonly modseq: number;
  added: number;
  unseen: number;
  bytes: number;
}

/** 'input.invalid' for a message no step could store (checked before any write). */
export function checkMessage(m: NewMessage): void {
  const ints = [m.size, m.internalDate, m.keyVersion];
  if (!ints.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new SealpostError(
      'input.invalid',
      'size, internalDate and keyVersion must be non-negative integers',
      {
        messageId: m.id,
      },
    );
  }
  if (!(m.sealedBlob instanceof Uint8Array)) {
    throw new SealpostError('input.invalid', 'sealedBlob must be bytes', { messageId: m.id });
  }
  checkRef(m.blobRef);
}

function openStep(tx: Tx, steps: Map<Id, MailboxStep>, m: NewMessage): MailboxStep {
  let step = steps.get(m.mailboxId);
  if (step === undefined) {
    const mailbox = requireMailbox(tx.db, m.mailboxId);
    if (mailbox.accountId !== m.accountId) {
      throw new SealpostError('store.not-found', 'no such mailbox in that account', {
        mailboxId: m.mailboxId,
      });
    }
    step = { uidNext: mailbox.uidNext, modseq: mailbox.highestModseq + 1, added: 0, unseen: 0, bytes: 0 };
    steps.set(m.mailboxId, step);
  }
  return step;
}

/** Append one caller's messages; the caller provides the transaction (or savepoint). */
export function appendStep(tx: Tx, blobs: SqliteBlobs, messages: readonly NewMessage[]): Appended[] {
  const steps = new Map<Id, MailboxStep>();
  const usage = new Map<Id, number>();
  const appended: Appended[] = [];
  for (const m of messages) {
    checkMessage(m);
    const flags = normalizeFlags(m.flags);
    const step = openStep(tx, steps, m);
    const uid = step.uidNext++;
    if (uid > MAX_UID) throw new SealpostError('store.conflict', 'mailbox UID space exhausted');
    blobs.record(tx, m);
    tx.db.run(
      `INSERT INTO message (id, account_id, blob_ref, size, internal_date, thread_id, key_version, wrapped_key,
         sealed_meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      m.id,
      m.accountId,
      m.blobRef,
      m.size,
      m.internalDate,
      m.threadId,
      m.keyVersion,
      m.wrappedKey,
      m.sealedMeta,
    );
    tx.db.run(
      'INSERT INTO mailbox_message (mailbox_id, uid, message_id, flags, modseq) VALUES (?, ?, ?, ?, ?)',
      m.mailboxId,
      uid,
      m.id,
      JSON.stringify(flags),
      step.modseq,
    );
    for (const key of m.threadKeys) {
      tx.db.run(
        `INSERT INTO thread_key (account_id, thread_key, message_id, thread_id) VALUES (?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        m.accountId,
        key,
        m.id,
        m.threadId,
      );
    }
    recordChange(tx, {
      accountId: m.accountId,
      mailboxId: m.mailboxId,
      kind: 'append',
      modseq: step.modseq,
      uid,
      messageId: m.id,
    });
    step.added++;
    step.unseen += isSeen(flags) ? 0 : 1;
    step.bytes += m.size;
    usage.set(m.accountId, (usage.get(m.accountId) ?? 0) + m.size);
    appended.push({ messageId: m.id, mailboxId: m.mailboxId, uid, modseq: step.modseq });
  }
  for (const [mailboxId, s] of steps) {
    tx.db.run(
      `UPDATE mailbox SET uid_next = ?, highest_modseq = ?, message_count = message_count + ?,
         unseen_count = unseen_count + ?, total_bytes = total_bytes + ? WHERE id = ?`,
      s.uidNext,
      s.modseq,
      s.added,
      s.unseen,
      s.bytes,
      mailboxId,
    );
  }
  for (const [accountId, bytes] of usage) {
    tx.db.run('UPDATE account SET used_bytes = used_bytes + ? WHERE id = ?', bytes, accountId);
  }
  return appended;
}

export function getMessage(db: SqliteDb, mailboxId: Id, uid: number): StoredMessage | null {
  const row = db.get(`${MESSAGE_SELECT} WHERE e.mailbox_id = ? AND e.uid = ?`, mailboxId, uid);
  return row === undefined ? null : toStoredMessage(row);
}

export function listMessages(db: SqliteDb, mailboxId: Id, fromUid: number, limit: number): StoredMessage[] {
  return db
    .all(
      `${MESSAGE_SELECT} WHERE e.mailbox_id = ? AND e.uid >= ? ORDER BY e.uid LIMIT ?`,
      mailboxId,
      fromUid,
      limit,
    )
    .map(toStoredMessage);
}

function sortedUnique(uids: readonly number[]): number[] {
  return [...new Set(uids)].filter((u) => Number.isSafeInteger(u) && u > 0).sort((a, b) => a - b);
}

export function setFlags(
  tx: Tx,
  mailboxId: Id,
  uids: readonly number[],
  flags: readonly string[],
  mode: FlagMode,
): number {
  const mailbox = requireMailbox(tx.db, mailboxId);
  normalizeFlags(flags); // refuse bad input even when no entry would change
  const modseq = mailbox.highestModseq + 1;
  let changed = 0;
  let unseenDelta = 0;
  for (const uid of sortedUnique(uids)) {
    const row = tx.db.get(
      'SELECT message_id, flags FROM mailbox_message WHERE mailbox_id = ? AND uid = ?',
      mailboxId,
      uid,
    );
    if (row === undefined) continue;
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
    changed++;
  }
  if (changed > 0) {
    tx.db.run(
      'UPDATE mailbox SET highest_modseq = ?, unseen_count = unseen_count + ? WHERE id = ?',
      modseq,
      unseenDelta,
      mailboxId,
    );
  }
  return changed;
}

export function expunge(tx: Tx, mailboxId: Id, uids: readonly number[]): string[] {
  const mailbox = requireMailbox(tx.db, mailboxId);
  const modseq = mailbox.highestModseq + 1;
  const messageIds: Id[] = [];
  let unseen = 0;
  let bytes = 0;
  for (const uid of sortedUnique(uids)) {
    const row = tx.db.get(
      `SELECT e.message_id, e.flags, m.size FROM mailbox_message e JOIN message m ON m.id = e.message_id
       WHERE e.mailbox_id = ? AND e.uid = ?`,
      mailboxId,
      uid,
    );
    if (row === undefined) continue;
    const messageId = str(row, 'message_id');
    tx.db.run('DELETE FROM mailbox_message WHERE mailbox_id = ? AND uid = ?', mailboxId, uid);
    unseen += isSeen(parseFlags(str(row, 'flags'))) ? 0 : 1;
    bytes += num(row, 'size');
    messageIds.push(messageId);
    recordChange(tx, { accountId: mailbox.accountId, mailboxId, kind: 'expunge', modseq, uid, messageId });
  }
  if (messageIds.length === 0) return [];
  tx.db.run(
    `UPDATE mailbox SET highest_modseq = ?, message_count = message_count - ?, unseen_count = unseen_count - ?,
       total_bytes = total_bytes - ? WHERE id = ?`,
    modseq,
    messageIds.length,
    unseen,
    bytes,
    mailboxId,
  );
  tx.db.run('UPDATE account SET used_bytes = used_bytes - ? WHERE id = ?', bytes, mailbox.accountId);
  const refs = new Set<string>();
  for (const messageId of new Set(messageIds)) {
    if (
      tx.db.get('SELECT 1 AS x FROM mailbox_message WHERE message_id = ? LIMIT 1', messageId) !== undefined
    ) {
      continue;
    }
    const ref = str(tx.db.get('SELECT blob_ref FROM message WHERE id = ?', messageId) ?? {}, 'blob_ref');
    tx.db.run('DELETE FROM message WHERE id = ?', messageId); // cascades to thread_key
    if (tx.db.get('SELECT 1 AS x FROM message WHERE blob_ref = ? LIMIT 1', ref) === undefined) refs.add(ref);
  }
  return [...refs];
}

/** The thread of the earliest message that recorded any of the keys. */
export function findThread(db: SqliteDb, accountId: Id, threadKeys: readonly Uint8Array[]): Id | null {
  let best: { date: number; id: string; thread: Id } | null = null;
  for (const key of threadKeys) {
    const row = db.get(
      `SELECT t.thread_id, m.internal_date, m.id FROM thread_key t JOIN message m ON m.id = t.message_id
       WHERE t.account_id = ? AND t.thread_key = ? ORDER BY m.internal_date, m.id LIMIT 1`,
      accountId,
      key,
    );
    if (row === undefined) continue;
    const found = { date: num(row, 'internal_date'), id: str(row, 'id'), thread: str(row, 'thread_id') };
    if (best === null || found.date < best.date || (found.date === best.date && found.id < best.id))
      best = found;
  }
  return best?.thread ?? null;
}
