// The blind search index of the SQLite store (DESIGN.md "Search"): the caller
// tokenises and hashes each term under the account's search key; the store keeps
// one Bloom filter of a message's hashes (../search-filter.ts) and answers "which
// messages may have all of these" (about 1% false positives per term; callers confirm).
// Invariants:
// - every term is exactly TERM_BYTES bytes, checked before any write;
// - a message's filter is written in the step that inserts its row and deleted in
//   the transaction that deletes the row (deleteTerms), an account's with the account;
// - a lookup never crosses accounts: every query is keyed by account_id.

import { buildFilter, filterMayContain } from '../search-filter.ts';
import type { Id } from '../types.ts';
import type { Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { str } from './rows.ts';

export { checkTerms, TERM_BYTES } from '../search-filter.ts';

export function insertTerms(tx: Tx, accountId: Id, messageId: Id, terms: readonly Uint8Array[]): void {
  if (terms.length === 0) return;
  tx.db.run(
    'INSERT INTO search_filter (message_id, account_id, filter) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    messageId,
    accountId,
    buildFilter(terms),
  );
}

/** With the message row (expunge.ts: dropOrphans). */
export function deleteTerms(tx: Tx, messageId: Id): void {
  tx.db.run('DELETE FROM search_filter WHERE message_id = ?', messageId);
}

/** With the account (accounts.ts: deleteAccount). */
export function deleteAccountTerms(tx: Tx, accountId: Id): void {
  tx.db.run('DELETE FROM search_filter WHERE account_id = ?', accountId);
}

/** Ids of the account's messages that may have every term (every message for no terms). */
export function searchTerms(db: SqliteDb, accountId: Id, terms: readonly Uint8Array[]): Set<Id> {
  const probe = buildFilter(terms); // validates the terms
  if (probe.length === 0) {
    return new Set(db.all('SELECT id FROM message WHERE account_id = ?', accountId).map((r) => str(r, 'id')));
  }
  const found = new Set<Id>();
  for (const r of db.all('SELECT message_id, filter FROM search_filter WHERE account_id = ?', accountId)) {
    const filter = r['filter'];
    if (filter instanceof Uint8Array && filterMayContain(filter, terms)) found.add(str(r, 'message_id'));
  }
  return found;
}
