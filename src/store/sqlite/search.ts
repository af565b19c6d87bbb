// The blind search index of the SQLite store (DESIGN.md "Search"): the caller
// tokenises and hashes each term under the account's search key; the store keeps
// the 16-byte hashes per message and answers "which messages have all of these".
// Invariants:
// - a term is exactly TERM_BYTES bytes, checked before any write;
// - a message's terms are written in the step that inserts its row (one prepared
//   INSERT per term, inside that transaction) and deleted in the transaction that
//   deletes the row (deleteTerms; no foreign key, see migration 3), an account's
//   with the account;
// - a lookup never crosses accounts: every query is keyed by account_id.

import { SealpostError } from '../../core/errors.ts';
import type { Id } from '../types.ts';
import type { Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { str } from './rows.ts';

export const TERM_BYTES = 16;

/** 'input.invalid' unless every term is TERM_BYTES bytes. */
export function checkTerms(terms: readonly Uint8Array[]): void {
  for (const term of terms) {
    if (!(term instanceof Uint8Array) || term.length !== TERM_BYTES) {
      throw new SealpostError('input.invalid', `a search term must be ${TERM_BYTES} bytes`);
    }
  }
}

export function insertTerms(tx: Tx, accountId: Id, messageId: Id, terms: readonly Uint8Array[]): void {
  const insert = tx.db.stmt(
    'INSERT INTO search_term (account_id, term, message_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  // Errors surface through the enclosing transaction, which maps them (db.ts).
  for (const term of terms) insert.run(accountId, term, messageId);
}

/** With the message row (expunge.ts: dropOrphans). */
export function deleteTerms(tx: Tx, messageId: Id): void {
  tx.db.run('DELETE FROM search_term WHERE message_id = ?', messageId);
}

/** With the account (accounts.ts: deleteAccount). */
export function deleteAccountTerms(tx: Tx, accountId: Id): void {
  tx.db.run('DELETE FROM search_term WHERE account_id = ?', accountId);
}

/** Ids of the account's messages having every term (every message for no terms). */
export function searchTerms(db: SqliteDb, accountId: Id, terms: readonly Uint8Array[]): Set<Id> {
  checkTerms(terms);
  const distinct = [...new Map(terms.map((t) => [Buffer.from(t).toString('hex'), t])).values()];
  if (distinct.length === 0) {
    return new Set(db.all('SELECT id FROM message WHERE account_id = ?', accountId).map((r) => str(r, 'id')));
  }
  const sql = 'SELECT message_id FROM search_term WHERE account_id = ? AND term = ?';
  let found: Set<Id> | null = null;
  for (const term of distinct) {
    const ids: Id[] = db.all(sql, accountId, term).map((r) => str(r, 'message_id'));
    found = found === null ? new Set(ids) : new Set(ids.filter((id) => found?.has(id)));
    if (found.size === 0) break;
  }
  return found ?? new Set();
}
