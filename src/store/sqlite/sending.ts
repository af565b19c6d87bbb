// The abuse guard's tables in the SQLite store (migration 10): hourly sending
// counters, remembered recipients (keyed hashes only) and sending suspensions; and
// the hold of a suspended sender's queued mail.
// Invariants:
// - recording a message is one transaction: the hour's counters, the new-recipient
//   count and the remembered hashes agree;
// - a suspension is a compare-and-set: suspendSending succeeds only when none stands,
//   so exactly one caller tells the owner and the admin;
// - lifting makes the account's waiting queue entries due in the same transaction;
// - a hold never counts as a delivery attempt and touches only rows `owner` leases.

import { SealpostError } from '../../core/errors.ts';
import type { Id, NewSendingSuspension, SendingHour, SendingRecord, SendingSuspension } from '../types.ts';
import type { Tx } from './changes.ts';
import type { Row, SqliteDb } from './db.ts';
import { checkTime, nonEmpty, requireAccount } from './identity-rows.ts';
import { num, numOrNull, str, strOrNull } from './rows.ts';

export const HOUR_MS = 3_600_000;
const PRUNE_BATCH = 500;
const MAX_HASHES = 10_000;

function hourOf(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

function checkHashes(hashes: readonly string[]): string[] {
  if (hashes.length > MAX_HASHES) throw new SealpostError('input.invalid', 'too many recipient hashes');
  for (const h of hashes) nonEmpty(h, 'recipient hash');
  return [...new Set(hashes)];
}

function known(db: SqliteDb, accountId: Id, hashes: readonly string[], since: number): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < hashes.length; i += 500) {
    const part = hashes.slice(i, i + 500);
    const rows = db.all(
      `SELECT rcpt_hash FROM sending_recipient
       WHERE account_id = ? AND last_sent_at >= ? AND rcpt_hash IN (${part.map(() => '?').join(',')})`,
      accountId,
      since,
      ...part,
    );
    for (const r of rows) out.add(str(r, 'rcpt_hash'));
  }
  return out;
}

export function knownRecipients(
  db: SqliteDb,
  accountId: Id,
  hashes: readonly string[],
  since: number,
): Set<string> {
  checkTime(since, 'since');
  return known(db, accountId, checkHashes(hashes), since);
}

function addToHour(
  tx: Tx,
  accountId: Id,
  at: number,
  d: { messages: number; recipients: number; newRecipients: number; bounces: number },
): void {
  tx.db.run(
    `INSERT INTO sending_hour (account_id, hour, messages, recipients, new_recipients, bounces)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (account_id, hour) DO UPDATE SET
       messages = sending_hour.messages + excluded.messages,
       recipients = sending_hour.recipients + excluded.recipients,
       new_recipients = sending_hour.new_recipients + excluded.new_recipients,
       bounces = sending_hour.bounces + excluded.bounces`,
    accountId,
    hourOf(at),
    d.messages,
    d.recipients,
    d.newRecipients,
    d.bounces,
  );
}

export function recordSending(tx: Tx, r: SendingRecord): number {
  checkTime(r.at, 'sending time');
  checkTime(r.newSince, 'newSince');
  checkTime(r.forgetBefore, 'forgetBefore');
  const hashes = checkHashes(r.recipientHashes);
  requireAccount(tx.db, r.accountId);
  const seen = known(tx.db, r.accountId, hashes, r.newSince);
  const fresh = hashes.filter((h) => !seen.has(h)).length;
  addToHour(tx, r.accountId, r.at, {
    messages: 1,
    recipients: hashes.length,
    newRecipients: fresh,
    bounces: 0,
  });
  for (const h of hashes) {
    tx.db.run(
      `INSERT INTO sending_recipient (account_id, rcpt_hash, last_sent_at) VALUES (?, ?, ?)
       ON CONFLICT (account_id, rcpt_hash) DO UPDATE SET
         last_sent_at = MAX(sending_recipient.last_sent_at, excluded.last_sent_at)`,
      r.accountId,
      h,
      r.at,
    );
  }
  tx.db.run('DELETE FROM sending_hour WHERE account_id = ? AND hour < ?', r.accountId, r.forgetBefore);
  tx.db.run(
    `DELETE FROM sending_recipient WHERE account_id = ? AND rcpt_hash IN (
       SELECT rcpt_hash FROM sending_recipient WHERE account_id = ? AND last_sent_at < ?
       ORDER BY last_sent_at LIMIT ${PRUNE_BATCH})`,
    r.accountId,
    r.accountId,
    r.forgetBefore,
  );
  return fresh;
}

export function recordBounces(tx: Tx, accountId: Id, at: number, count: number): void {
  checkTime(at, 'bounce time');
  if (!Number.isSafeInteger(count) || count < 0)
    throw new SealpostError('input.invalid', 'bounce count must be a whole number');
  requireAccount(tx.db, accountId);
  if (count === 0) return;
  addToHour(tx, accountId, at, { messages: 0, recipients: 0, newRecipients: 0, bounces: count });
}

export function listSendingHours(db: SqliteDb, accountId: Id, from: number): SendingHour[] {
  checkTime(from, 'from');
  return db
    .all(
      `SELECT hour, messages, recipients, new_recipients, bounces FROM sending_hour
       WHERE account_id = ? AND hour >= ? ORDER BY hour`,
      accountId,
      hourOf(from) === from ? from : hourOf(from) + HOUR_MS,
    )
    .map((r) => ({
      hour: num(r, 'hour'),
      messages: num(r, 'messages'),
      recipients: num(r, 'recipients'),
      newRecipients: num(r, 'new_recipients'),
      bounces: num(r, 'bounces'),
    }));
}

function toSuspension(r: Row): SendingSuspension {
  return {
    accountId: str(r, 'account_id'),
    suspendedAt: num(r, 'suspended_at'),
    reason: str(r, 'reason'),
    detail: strOrNull(r, 'detail'),
    suspendedBy: str(r, 'suspended_by'),
    liftedAt: numOrNull(r, 'lifted_at'),
    liftedBy: strOrNull(r, 'lifted_by'),
  };
}

export function getSendingSuspension(db: SqliteDb, accountId: Id): SendingSuspension | null {
  const r = db.get('SELECT * FROM sending_suspension WHERE account_id = ?', accountId);
  return r === undefined ? null : toSuspension(r);
}

export function suspendSending(tx: Tx, s: NewSendingSuspension): boolean {
  checkTime(s.at, 'suspension time');
  nonEmpty(s.reason, 'suspension reason');
  nonEmpty(s.by, 'suspended by');
  requireAccount(tx.db, s.accountId);
  const current = getSendingSuspension(tx.db, s.accountId);
  if (current !== null && current.liftedAt === null) return false;
  tx.db.run(
    `INSERT INTO sending_suspension (account_id, suspended_at, reason, detail, suspended_by, lifted_at, lifted_by)
     VALUES (?, ?, ?, ?, ?, NULL, NULL)
     ON CONFLICT (account_id) DO UPDATE SET
       suspended_at = excluded.suspended_at, reason = excluded.reason, detail = excluded.detail,
       suspended_by = excluded.suspended_by, lifted_at = NULL, lifted_by = NULL`,
    s.accountId,
    s.at,
    s.reason,
    s.detail,
    s.by,
  );
  return true;
}

export function liftSendingSuspension(tx: Tx, accountId: Id, at: number, by: string): boolean {
  checkTime(at, 'lift time');
  nonEmpty(by, 'lifted by');
  const changed = tx.db.run(
    'UPDATE sending_suspension SET lifted_at = ?, lifted_by = ? WHERE account_id = ? AND lifted_at IS NULL',
    at,
    by,
    accountId,
  );
  if (changed === 0) return false;
  tx.db.run(
    `UPDATE queue_recipient SET next_attempt_at = ?
     WHERE state = 'queued' AND next_attempt_at > ?
       AND message_id IN (SELECT id FROM queue_message WHERE account_id = ?)`,
    at,
    at,
    accountId,
  );
  return true;
}

export function holdQueued(tx: Tx, owner: string, messageId: Id, until: number): number {
  nonEmpty(owner, 'lease owner');
  checkTime(until, 'hold time');
  return tx.db.run(
    `UPDATE queue_recipient SET next_attempt_at = ?, lease_owner = NULL, lease_until = NULL
     WHERE message_id = ? AND lease_owner = ? AND state = 'queued'`,
    until,
    messageId,
    owner,
  );
}
