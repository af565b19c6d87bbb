// Changing and deleting mailboxes in the SQLite store (IMAP SUBSCRIBE, RENAME,
// DELETE, CREATE (USE ...)).
// Invariants (inside the one transaction that makes the change):
// - every mailbox whose name, subscription or special-use changes gets a new
//   modseq and one 'mailbox' change; setting a value it already has records nothing;
// - RENAME moves the mailbox and everything below it (`old/...`) keeping ids, UIDs
//   and uidValidity; it is refused as a whole if any target name is taken, and
//   renames through temporary names so the UNIQUE (account_id, name) constraint,
//   checked row by row, never sees two mailboxes with one name midway;
// - DELETE removes the entries and the mailbox, takes their sizes off used_bytes,
//   records one 'mailbox' change (with the mailbox's next modseq), and returns the
//   blob refs of the message rows left without entries; children are not touched;
// - special-uses stay unique per account.

import { SealpostError } from '../../core/errors.ts';
import type { Id, Mailbox, SpecialUse } from '../types.ts';
import { recordChange, type Tx } from './changes.ts';
import { dropOrphans } from './expunge.ts';
import { checkSpecialUse, findMailboxBySpecialUse, listMailboxes, requireMailbox } from './mailboxes.ts';
import { num, str } from './rows.ts';

/** Give the mailbox its next modseq and record a 'mailbox' change at it. */
function mailboxChanged(tx: Tx, mailbox: Mailbox): void {
  const modseq = mailbox.highestModseq + 1;
  tx.db.run('UPDATE mailbox SET highest_modseq = ? WHERE id = ?', modseq, mailbox.id);
  recordChange(tx, {
    accountId: mailbox.accountId,
    mailboxId: mailbox.id,
    kind: 'mailbox',
    modseq,
    uid: null,
    messageId: null,
  });
}

export function setSubscribed(tx: Tx, mailboxId: Id, subscribed: boolean): void {
  const mailbox = requireMailbox(tx.db, mailboxId);
  if (mailbox.subscribed === subscribed) return;
  tx.db.run('UPDATE mailbox SET subscribed = ? WHERE id = ?', subscribed ? 1 : 0, mailboxId);
  mailboxChanged(tx, mailbox);
}

export function setSpecialUse(tx: Tx, mailboxId: Id, use: SpecialUse | null): void {
  checkSpecialUse(use);
  const mailbox = requireMailbox(tx.db, mailboxId);
  if (mailbox.specialUse === use) return;
  if (use !== null && findMailboxBySpecialUse(tx.db, mailbox.accountId, use) !== null) {
    throw new SealpostError('store.conflict', 'special-use already taken', { specialUse: use });
  }
  tx.db.run('UPDATE mailbox SET special_use = ? WHERE id = ?', use, mailboxId);
  mailboxChanged(tx, mailbox);
}

function checkName(name: string): void {
  if (name.length === 0 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new SealpostError('input.invalid', 'mailbox name is empty or has a control character');
  }
}

export function renameMailbox(tx: Tx, mailboxId: Id, newName: string): void {
  checkName(newName);
  const mailbox = requireMailbox(tx.db, mailboxId);
  const old = mailbox.name;
  if (newName.startsWith(`${old}/`)) {
    throw new SealpostError('input.invalid', 'a mailbox cannot move below itself', { name: newName });
  }
  const all = listMailboxes(tx.db, mailbox.accountId);
  const moving = all.filter((m) => m.id === mailboxId || m.name.startsWith(`${old}/`));
  const staying = new Set(all.filter((m) => !moving.includes(m)).map((m) => m.name));
  const renames = moving.map((m) => ({ mailbox: m, name: newName + m.name.slice(old.length) }));
  const taken = newName === old ? old : renames.find((r) => staying.has(r.name))?.name;
  if (taken !== undefined) throw new SealpostError('store.conflict', 'mailbox exists', { name: taken });
  // Names never hold control characters (checkName), so these cannot clash.
  for (const r of renames) {
    tx.db.run('UPDATE mailbox SET name = ? WHERE id = ?', `\u0000${r.mailbox.id}`, r.mailbox.id);
  }
  for (const r of renames) {
    tx.db.run('UPDATE mailbox SET name = ? WHERE id = ?', r.name, r.mailbox.id);
    mailboxChanged(tx, r.mailbox);
  }
}

/** Returns the blob refs no message uses any more (the caller deletes the blobs). */
export function deleteMailbox(tx: Tx, mailboxId: Id): string[] {
  const mailbox = requireMailbox(tx.db, mailboxId);
  const rows = tx.db.all(
    `SELECT e.message_id, m.size FROM mailbox_message e JOIN message m ON m.id = e.message_id
     WHERE e.mailbox_id = ?`,
    mailboxId,
  );
  const bytes = rows.reduce((sum, r) => sum + num(r, 'size'), 0);
  tx.db.run('DELETE FROM mailbox_message WHERE mailbox_id = ?', mailboxId);
  tx.db.run('DELETE FROM mailbox WHERE id = ?', mailboxId);
  tx.db.run('UPDATE account SET used_bytes = used_bytes - ? WHERE id = ?', bytes, mailbox.accountId);
  recordChange(tx, {
    accountId: mailbox.accountId,
    mailboxId,
    kind: 'mailbox',
    modseq: mailbox.highestModseq + 1,
    uid: null,
    messageId: null,
  });
  return dropOrphans(
    tx,
    rows.map((r) => str(r, 'message_id')),
  );
}
