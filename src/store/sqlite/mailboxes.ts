// Mailboxes of the SQLite store: creation (with its change-feed entry) and lookups;
// renaming, subscribing and deleting are in mailbox-admin.ts.
// Invariants:
// - a new mailbox starts with uidNext 1 and highestModseq 1 (its creation is the
//   first modification, recorded in the change feed as kind 'mailbox');
// - names and special-uses are unique per account (schema constraints; a clash is
//   'store.conflict');
// - counters (messageCount, unseenCount, totalBytes) are only changed where
//   entries are (messages.ts, expunge.ts, copy.ts, mailbox-admin.ts), in the same
//   transaction as the entries they count.

import { SealpostError } from '../../core/errors.ts';
import type { Id, Mailbox, NewMailbox, SpecialUse } from '../types.ts';
import { recordChange, type Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { toMailbox } from './rows.ts';

const SPECIAL_USES: ReadonlySet<string> = new Set(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);

export const MAILBOX_COLUMNS = `id, account_id, name, special_use, uid_validity, uid_next, highest_modseq,
  subscribed, message_count, unseen_count, total_bytes, created_at`;

/** 'input.invalid' for a special-use this store does not know. */
export function checkSpecialUse(use: string | null): void {
  if (use !== null && !SPECIAL_USES.has(use)) {
    throw new SealpostError('input.invalid', 'unknown special-use', { specialUse: use });
  }
}

function validate(m: NewMailbox): void {
  if (m.name.length === 0) throw new SealpostError('input.invalid', 'empty mailbox name');
  if (!Number.isInteger(m.uidValidity) || m.uidValidity < 1 || m.uidValidity > 0xffffffff) {
    throw new SealpostError('input.invalid', 'uidValidity must be a non-zero 32-bit integer');
  }
  checkSpecialUse(m.specialUse);
}

export function insertMailbox(tx: Tx, m: NewMailbox): Mailbox {
  validate(m);
  if (tx.db.get('SELECT 1 AS x FROM account WHERE id = ?', m.accountId) === undefined) {
    throw new SealpostError('store.not-found', 'no such account', { accountId: m.accountId });
  }
  if (getMailbox(tx.db, m.accountId, m.name) !== null) {
    throw new SealpostError('store.conflict', 'mailbox exists', { name: m.name });
  }
  if (m.specialUse !== null && findMailboxBySpecialUse(tx.db, m.accountId, m.specialUse) !== null) {
    throw new SealpostError('store.conflict', 'special-use already taken', { specialUse: m.specialUse });
  }
  const mailbox: Mailbox = {
    id: m.id,
    accountId: m.accountId,
    name: m.name,
    specialUse: m.specialUse,
    uidValidity: m.uidValidity,
    uidNext: 1,
    highestModseq: 1,
    subscribed: m.subscribed,
    messageCount: 0,
    unseenCount: 0,
    totalBytes: 0,
    createdAt: tx.now,
  };
  tx.db.run(
    `INSERT INTO mailbox (${MAILBOX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?)`,
    mailbox.id,
    mailbox.accountId,
    mailbox.name,
    mailbox.specialUse,
    mailbox.uidValidity,
    mailbox.uidNext,
    mailbox.highestModseq,
    mailbox.subscribed ? 1 : 0,
    mailbox.createdAt,
  );
  recordChange(tx, {
    accountId: mailbox.accountId,
    mailboxId: mailbox.id,
    kind: 'mailbox',
    modseq: mailbox.highestModseq,
    uid: null,
    messageId: null,
  });
  return mailbox;
}

export function getMailbox(db: SqliteDb, accountId: Id, name: string): Mailbox | null {
  const row = db.get(
    `SELECT ${MAILBOX_COLUMNS} FROM mailbox WHERE account_id = ? AND name = ?`,
    accountId,
    name,
  );
  return row === undefined ? null : toMailbox(row);
}

export function getMailboxById(db: SqliteDb, mailboxId: Id): Mailbox | null {
  const row = db.get(`SELECT ${MAILBOX_COLUMNS} FROM mailbox WHERE id = ?`, mailboxId);
  return row === undefined ? null : toMailbox(row);
}

export function findMailboxBySpecialUse(db: SqliteDb, accountId: Id, use: SpecialUse): Mailbox | null {
  const row = db.get(
    `SELECT ${MAILBOX_COLUMNS} FROM mailbox WHERE account_id = ? AND special_use = ?`,
    accountId,
    use,
  );
  return row === undefined ? null : toMailbox(row);
}

export function listMailboxes(db: SqliteDb, accountId: Id): Mailbox[] {
  return db
    .all(`SELECT ${MAILBOX_COLUMNS} FROM mailbox WHERE account_id = ? ORDER BY name`, accountId)
    .map(toMailbox);
}

/** The mailbox, or 'store.not-found'. */
export function requireMailbox(db: SqliteDb, mailboxId: Id): Mailbox {
  const mailbox = getMailboxById(db, mailboxId);
  if (mailbox === null) throw new SealpostError('store.not-found', 'no such mailbox', { mailboxId });
  return mailbox;
}
