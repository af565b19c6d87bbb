// Messages of the SQLite store: append (one caller's step; group-commit.ts batches
// steps), reads and thread lookup. Flags are in store-flags.ts, expunge in
// expunge.ts, copy and move in copy.ts.
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
// - a message's blob is recorded (blobs.ts) in the step that inserts its row, and
//   its search terms (search.ts) too;
// - listEntries reads no sealed column, so a 100,000-entry mailbox stays small.

import { SealpostError } from '../../core/errors.ts';
import { checkRef } from '../blobs/file-blob-store.ts';
import { isSeen, normalizeFlags } from '../flags.ts';
import type { Appended, Id, MessageEntry, NewMessage, StoredMessage } from '../types.ts';
import type { SqliteBlobs } from './blobs.ts';
import { recordChange, type Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { requireMailbox } from './mailboxes.ts';
import { num, parseFlags, str, toStoredMessage } from './rows.ts';
import { checkTerms, insertTerms } from './search.ts';
import { selectByUids, sortedUids } from './uids.ts';

export const MAX_UID = 0xffffffff;

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
  if (m.searchTerms !== undefined) checkTerms(m.searchTerms);
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
    if (m.searchTerms !== undefined) insertTerms(tx, m.accountId, m.id, m.searchTerms);
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

export function getMessages(db: SqliteDb, mailboxId: Id, uids: readonly number[]): StoredMessage[] {
  return selectByUids(db, MESSAGE_SELECT, mailboxId, sortedUids(uids)).map(toStoredMessage);
}

/**
 * Every entry of a mailbox (or those with a modseq above `changedSince`, through the
 * (mailbox_id, modseq) index) without sealed columns; equal flag lists share one
 * frozen array.
 */
export function listEntries(db: SqliteDb, mailboxId: Id, changedSince?: number): MessageEntry[] {
  const decoded = new Map<string, readonly string[]>();
  const columns = `SELECT e.uid, e.modseq, e.flags, m.size, m.internal_date, e.message_id, m.thread_id
     FROM mailbox_message e JOIN message m ON m.id = e.message_id WHERE e.mailbox_id = ?`;
  const rows =
    changedSince === undefined
      ? db.allArrays(`${columns} ORDER BY e.uid`, mailboxId)
      : db.allArrays(`${columns} AND e.modseq > ? ORDER BY e.uid`, mailboxId, changedSince);
  return rows.map(([uid, modseq, text, size, internalDate, messageId, threadId]) => {
    if (
      typeof uid !== 'number' ||
      typeof modseq !== 'number' ||
      typeof text !== 'string' ||
      typeof size !== 'number' ||
      typeof internalDate !== 'number' ||
      typeof messageId !== 'string' ||
      typeof threadId !== 'string'
    ) {
      throw new SealpostError('internal', 'unexpected column type', { table: 'mailbox_message' });
    }
    let flags = decoded.get(text);
    if (flags === undefined) {
      flags = Object.freeze(parseFlags(text));
      decoded.set(text, flags);
    }
    return { uid, modseq, flags, size, internalDate, messageId, threadId };
  });
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
