// Migration 4: the blind index as one Bloom filter per message (search-filter.ts)
// instead of one row per term: search_term is dropped, search_filter holds
// (message_id, account_id, filter). Terms of messages stored under migration 3 are
// not carried over (there were none outside development databases); such messages
// are simply not found by BODY/TEXT searches until re-indexed.
// Invariants: one filter row per message row, deleted with it (the store deletes it
// where it deletes the message, as for search_term); lookups are by account.

import type { Migration } from './index.ts';

export const searchFilter: Migration = {
  version: 4,
  name: 'search index as one Bloom filter per message',
  up(db) {
    const d = db.dialect;
    db.exec('DROP TABLE search_term');
    db.exec(`CREATE TABLE search_filter (
       message_id TEXT PRIMARY KEY,
       account_id TEXT NOT NULL,
       filter ${d.bytes} NOT NULL)`);
    db.exec('CREATE INDEX search_filter_account ON search_filter (account_id)');
  },
};
