// The outbound queue of the SQLite store (migration 8). Rows hold sealed bytes the
// caller made (delivery/queue.ts); this module only schedules.
// Invariants:
// - enqueue writes the message and all its recipients in one transaction;
// - a claimed recipient carries a lease (owner, until): nobody else claims it before
//   the lease lapses, and an outcome is recorded only while its owner holds it;
// - finishing is one transaction: outcomes, lease release, notices (DSNs) enqueued,
//   and removal of a message with no recipient left in 'queued';
// - 'delivered' and 'failed' are final: nothing moves a recipient out of them.

import { SealpostError } from '../../core/errors.ts';
import type {
  Id,
  NewQueuedMessage,
  QueuedMessage,
  QueueOutcome,
  QueueRecipient,
  QueueRecipientState,
} from '../types.ts';
import type { Tx } from './changes.ts';
import type { Row, SqliteDb } from './db.ts';
import { bytesOrNull, checkTime, nonEmpty } from './identity-rows.ts';
import { bytes, num, numOrNull, str, strOrNull } from './rows.ts';

const STATES: readonly QueueRecipientState[] = ['queued', 'delivered', 'failed'];

function toRecipient(r: Row): QueueRecipient {
  const state = str(r, 'state');
  if (!(STATES as readonly string[]).includes(state))
    throw new SealpostError('internal', 'unexpected column type', { column: 'state' });
  return {
    messageId: str(r, 'message_id'),
    idx: num(r, 'idx'),
    domain: str(r, 'domain'),
    sealedAddress: bytes(r, 'sealed_address'),
    state: state as QueueRecipientState,
    attempts: num(r, 'attempts'),
    nextAttemptAt: num(r, 'next_attempt_at'),
    lastAttemptAt: numOrNull(r, 'last_attempt_at'),
    sealedStatus: bytesOrNull(r, 'sealed_status'),
    delayNotified: num(r, 'delay_notified') === 1,
  };
}

function toMessage(r: Row, recipients: QueueRecipient[]): QueuedMessage {
  const kind = str(r, 'kind');
  if (kind !== 'mail' && kind !== 'dsn')
    throw new SealpostError('internal', 'unexpected column type', { column: 'kind' });
  return {
    id: str(r, 'id'),
    accountId: strOrNull(r, 'account_id'),
    kind,
    createdAt: num(r, 'created_at'),
    size: num(r, 'size'),
    keyVersion: num(r, 'key_version'),
    sealedEnvelope: bytes(r, 'sealed_envelope'),
    sealedData: bytes(r, 'sealed_data'),
    recipients,
  };
}

function check(m: NewQueuedMessage): void {
  nonEmpty(m.id, 'queue id');
  checkTime(m.createdAt, 'created time');
  checkTime(m.firstAttemptAt, 'first attempt time');
  if (m.recipients.length === 0)
    throw new SealpostError('input.invalid', 'a queued message needs a recipient');
  if (!Number.isSafeInteger(m.size) || m.size < 0)
    throw new SealpostError('input.invalid', 'bad queued size');
  for (const r of m.recipients) nonEmpty(r.domain, 'recipient domain');
}

export function enqueue(tx: Tx, m: NewQueuedMessage): void {
  check(m);
  if (m.accountId !== null && tx.db.get('SELECT 1 FROM account WHERE id = ?', m.accountId) === undefined)
    throw new SealpostError('store.not-found', 'no such account', { accountId: m.accountId });
  if (tx.db.get('SELECT 1 FROM queue_message WHERE id = ?', m.id) !== undefined)
    throw new SealpostError('store.conflict', 'queue id exists', { id: m.id });
  tx.db.run(
    `INSERT INTO queue_message (id, account_id, kind, created_at, size, key_version, sealed_envelope, sealed_data)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    m.id,
    m.accountId,
    m.kind,
    m.createdAt,
    m.size,
    m.keyVersion,
    m.sealedEnvelope,
    m.sealedData,
  );
  m.recipients.forEach((r, idx) => {
    tx.db.run(
      `INSERT INTO queue_recipient (message_id, idx, domain, sealed_address, state, attempts, next_attempt_at, delay_notified)
       VALUES (?, ?, ?, ?, 'queued', 0, ?, 0)`,
      m.id,
      idx,
      r.domain.toLowerCase(),
      r.sealedAddress,
      m.firstAttemptAt,
    );
  });
}

export function claim(tx: Tx, owner: string, now: number, leaseMs: number, limit: number): QueueRecipient[] {
  nonEmpty(owner, 'lease owner');
  const rows = tx.db.all(
    `SELECT * FROM queue_recipient
     WHERE state = 'queued' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
     ORDER BY next_attempt_at, message_id, idx LIMIT ?`,
    now,
    now,
    limit,
  );
  for (const r of rows) {
    tx.db.run(
      'UPDATE queue_recipient SET lease_owner = ?, lease_until = ? WHERE message_id = ? AND idx = ?',
      owner,
      now + leaseMs,
      str(r, 'message_id'),
      num(r, 'idx'),
    );
  }
  return rows.map(toRecipient);
}

export function finish(
  tx: Tx,
  owner: string,
  outcomes: readonly QueueOutcome[],
  notices: readonly NewQueuedMessage[],
): void {
  const touched = new Set<string>();
  for (const o of outcomes) {
    if (!STATES.includes(o.state)) throw new SealpostError('input.invalid', 'bad queue state');
    const changed = tx.db.run(
      `UPDATE queue_recipient
       SET state = ?, attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ?,
           sealed_status = ?, delay_notified = MAX(delay_notified, ?), lease_owner = NULL, lease_until = NULL
       WHERE message_id = ? AND idx = ? AND lease_owner = ? AND state = 'queued'`,
      o.state,
      o.at,
      o.state === 'queued' ? o.nextAttemptAt : o.at,
      o.sealedStatus,
      o.delayNotified ? 1 : 0,
      o.messageId,
      o.idx,
      owner,
    );
    if (changed > 0) touched.add(o.messageId);
  }
  for (const n of notices) enqueue(tx, n);
  for (const id of touched) {
    const waiting = tx.db.get("SELECT 1 FROM queue_recipient WHERE message_id = ? AND state = 'queued'", id);
    if (waiting === undefined) tx.db.run('DELETE FROM queue_message WHERE id = ?', id);
  }
}

export function release(tx: Tx, owner: string): number {
  return tx.db.run(
    'UPDATE queue_recipient SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?',
    owner,
  );
}

function recipientsOf(db: SqliteDb, id: Id): QueueRecipient[] {
  return db.all('SELECT * FROM queue_recipient WHERE message_id = ? ORDER BY idx', id).map(toRecipient);
}

export function get(db: SqliteDb, id: Id): QueuedMessage | null {
  const r = db.get('SELECT * FROM queue_message WHERE id = ?', id);
  return r === undefined ? null : toMessage(r, recipientsOf(db, id));
}

export function list(db: SqliteDb, limit: number): QueuedMessage[] {
  return db
    .all('SELECT * FROM queue_message ORDER BY created_at, id LIMIT ?', limit)
    .map((r) => toMessage(r, recipientsOf(db, str(r, 'id'))));
}

export function retry(tx: Tx, id: Id, now: number): boolean {
  if (tx.db.get('SELECT 1 FROM queue_message WHERE id = ?', id) === undefined) return false;
  tx.db.run(
    "UPDATE queue_recipient SET next_attempt_at = ? WHERE message_id = ? AND state = 'queued'",
    now,
    id,
  );
  return true;
}

export function remove(tx: Tx, id: Id): boolean {
  return tx.db.run('DELETE FROM queue_message WHERE id = ?', id) > 0;
}

export function count(db: SqliteDb): number {
  const r = db.get('SELECT COUNT(*) AS n FROM queue_message');
  return r === undefined ? 0 : num(r, 'n');
}
