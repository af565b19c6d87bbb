// Migration 10: the abuse guard's memory (issue 5 item 7) — per-account sending
// counters in hourly buckets, the recipients an account has written to (as keyed
// hashes), and the account's sending suspension. Portable SQL: types from Dialect.
// Invariants encoded here:
// - counters and remembered recipients go with their account (ON DELETE CASCADE);
// - a recipient address is never stored: only a keyed hash the caller made
//   (delivery/abuse-guard.ts, under a key derived from the master key);
// - one suspension row per account: its latest suspension, standing while lifted_at
//   is NULL (the history of suspensions and lifts is in the audit log).

import type { Migration } from './index.ts';

export const sending: Migration = {
  version: 10,
  name: 'sending counters and suspensions',
  up(db) {
    const d = db.dialect;
    db.exec(`CREATE TABLE sending_hour (
       account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
       hour ${d.int} NOT NULL,
       messages ${d.int} NOT NULL,
       recipients ${d.int} NOT NULL,
       new_recipients ${d.int} NOT NULL,
       bounces ${d.int} NOT NULL,
       PRIMARY KEY (account_id, hour))${d.clustered}`);
    db.exec(`CREATE TABLE sending_recipient (
       account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
       rcpt_hash TEXT NOT NULL,
       last_sent_at ${d.int} NOT NULL,
       PRIMARY KEY (account_id, rcpt_hash))${d.clustered}`);
    db.exec('CREATE INDEX sending_recipient_age ON sending_recipient (account_id, last_sent_at)');
    db.exec(`CREATE TABLE sending_suspension (
       account_id TEXT PRIMARY KEY REFERENCES account (id) ON DELETE CASCADE,
       suspended_at ${d.int} NOT NULL,
       reason TEXT NOT NULL,
       detail TEXT,
       suspended_by TEXT NOT NULL,
       lifted_at ${d.int},
       lifted_by TEXT)`);
  },
};
