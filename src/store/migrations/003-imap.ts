// Migration 3: what the IMAP and POP3 servers need from the schema.
// - change (mailbox_id, modseq): QRESYNC's VANISHED (EARLIER) reads the expunges of
//   one mailbox above a modseq (Store.expungedSince);
// - search_term: the blind index (DESIGN.md "Search"), one row per distinct keyed
//   hash of a message, clustered by (account, term) for lookups. No foreign key:
//   checking one per inserted term cost a quarter of the append time with 500
//   terms a message; the store deletes a message's terms where it deletes the
//   message row (through the message_id index) and an account's with the account;
// - maildrop_lock: one POP3 maildrop lock per account (RFC 1939 §8), shared by all
//   processes using the store; it goes with its account.

import type { Migration } from './index.ts';

export const imapPop3: Migration = {
  version: 3,
  name: 'imap and pop3: change index, search terms, maildrop lock',
  up(db) {
    const d = db.dialect;
    db.exec('CREATE INDEX change_mailbox_modseq ON change (mailbox_id, modseq)');
    db.exec(`CREATE TABLE search_term (
       account_id TEXT NOT NULL,
       term ${d.bytes} NOT NULL,
       message_id TEXT NOT NULL,
       PRIMARY KEY (account_id, term, message_id))${d.clustered}`);
    db.exec('CREATE INDEX search_term_message ON search_term (message_id)');
    db.exec(`CREATE TABLE maildrop_lock (
       account_id TEXT PRIMARY KEY REFERENCES account (id) ON DELETE CASCADE,
       owner TEXT NOT NULL,
       expires_at ${d.int} NOT NULL)`);
  },
};
