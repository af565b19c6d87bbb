// Migration 8: the outbound queue (issue 5) — what the submission role accepted and
// the delivery role has not finished. One row per message and one per recipient, so
// each recipient is retried, delivered or bounced on its own (RFC 5321 §4.5.4.1).
// Portable SQL: types from Dialect.
// Invariants encoded here:
// - the message and its envelope are sealed by the caller (delivery/queue.ts) under a
//   key derived from the master key; only the routing domain, sizes, times and states
//   are in the clear;
// - a recipient belongs to one message and goes with it (ON DELETE CASCADE);
// - a sender account may be deleted while its mail waits: the row stays, unowned;
// - (state, next_attempt_at) is indexed: the delivery role's "what is due" scan.

import type { Migration } from './index.ts';

export const queue: Migration = {
  version: 8,
  name: 'outbound queue',
  up(db) {
    const d = db.dialect;
    db.exec(`CREATE TABLE queue_message (
       id TEXT PRIMARY KEY,
       account_id TEXT REFERENCES account (id) ON DELETE SET NULL,
       kind TEXT NOT NULL,
       created_at ${d.int} NOT NULL,
       size ${d.int} NOT NULL,
       key_version ${d.int} NOT NULL,
       sealed_envelope ${d.bytes} NOT NULL,
       sealed_data ${d.bytes} NOT NULL)`);
    db.exec(`CREATE TABLE queue_recipient (
       message_id TEXT NOT NULL REFERENCES queue_message (id) ON DELETE CASCADE,
       idx ${d.int} NOT NULL,
       domain TEXT NOT NULL,
       sealed_address ${d.bytes} NOT NULL,
       state TEXT NOT NULL,
       attempts ${d.int} NOT NULL,
       next_attempt_at ${d.int} NOT NULL,
       last_attempt_at ${d.int},
       sealed_status ${d.bytes},
       delay_notified ${d.bool} NOT NULL,
       lease_owner TEXT,
       lease_until ${d.int},
       PRIMARY KEY (message_id, idx))`);
    db.exec('CREATE INDEX queue_recipient_due ON queue_recipient (state, next_attempt_at)');
    db.exec('CREATE INDEX queue_message_account ON queue_message (account_id, created_at)');
  },
};
