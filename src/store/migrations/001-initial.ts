// Migration 1: the whole initial schema, in one place. Portable SQL: the only
// dialect-specific parts come from Dialect (types, serial key, append-only guard);
// constraints are plain UNIQUE / FOREIGN KEY so PostgreSQL takes them unchanged.
// Invariants encoded here:
// - mailbox names are unique per account, and so is each special-use (NULLs are
//   distinct in both SQLite and PostgreSQL, so mailboxes without one never clash);
// - (mailbox_id, uid) is the key of a mailbox entry: a UID names one entry;
// - deleting an account cascades to its keys, mailboxes, messages, entries and
//   thread keys; a domain cannot be deleted while an account references it;
// - audit_log refuses UPDATE and DELETE.

import type { Dialect } from './dialect.ts';
import type { Migration } from './index.ts';

export function initialSchema(d: Dialect): string[] {
  return [
    `CREATE TABLE meta (
       key TEXT PRIMARY KEY,
       value TEXT NOT NULL)`,
    `CREATE TABLE domain (
       id TEXT PRIMARY KEY,
       name TEXT NOT NULL UNIQUE,
       created_at ${d.int} NOT NULL)`,
    `CREATE TABLE account (
       id TEXT PRIMARY KEY,
       address TEXT NOT NULL UNIQUE,
       domain_id TEXT NOT NULL REFERENCES domain (id),
       password_hash TEXT NOT NULL,
       disabled ${d.bool} NOT NULL,
       quota_bytes ${d.int} NOT NULL,
       used_bytes ${d.int} NOT NULL,
       created_at ${d.int} NOT NULL)`,
    'CREATE INDEX account_domain ON account (domain_id)',
    `CREATE TABLE account_key (
       account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
       version ${d.int} NOT NULL,
       master_version ${d.int} NOT NULL,
       wrapped_key ${d.bytes} NOT NULL,
       public_key ${d.bytes} NOT NULL,
       sealed_private_key ${d.bytes} NOT NULL,
       created_at ${d.int} NOT NULL,
       PRIMARY KEY (account_id, version))`,
    `CREATE TABLE alias (
       source TEXT PRIMARY KEY,
       domain_id TEXT NOT NULL REFERENCES domain (id),
       destinations TEXT NOT NULL,
       created_at ${d.int} NOT NULL)`,
    'CREATE INDEX alias_domain ON alias (domain_id)',
    `CREATE TABLE mailbox (
       id TEXT PRIMARY KEY,
       account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
       name TEXT NOT NULL,
       special_use TEXT,
       uid_validity ${d.int} NOT NULL,
       uid_next ${d.int} NOT NULL,
       highest_modseq ${d.int} NOT NULL,
       subscribed ${d.bool} NOT NULL,
       message_count ${d.int} NOT NULL,
       unseen_count ${d.int} NOT NULL,
       total_bytes ${d.int} NOT NULL,
       created_at ${d.int} NOT NULL,
       UNIQUE (account_id, name),
       UNIQUE (account_id, special_use))`,
    `CREATE TABLE message (
       id TEXT PRIMARY KEY,
       account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
       blob_ref TEXT NOT NULL,
       size ${d.int} NOT NULL,
       internal_date ${d.int} NOT NULL,
       thread_id TEXT NOT NULL,
       key_version ${d.int} NOT NULL,
       wrapped_key ${d.bytes} NOT NULL,
       sealed_meta ${d.bytes} NOT NULL)`,
    'CREATE INDEX message_account_thread ON message (account_id, thread_id)',
    'CREATE INDEX message_blob ON message (blob_ref)',
    `CREATE TABLE mailbox_message (
       mailbox_id TEXT NOT NULL REFERENCES mailbox (id) ON DELETE CASCADE,
       uid ${d.int} NOT NULL,
       message_id TEXT NOT NULL REFERENCES message (id) ON DELETE CASCADE,
       flags TEXT NOT NULL,
       modseq ${d.int} NOT NULL,
       PRIMARY KEY (mailbox_id, uid))`,
    'CREATE INDEX mailbox_message_message ON mailbox_message (message_id)',
    'CREATE INDEX mailbox_message_modseq ON mailbox_message (mailbox_id, modseq)',
    `CREATE TABLE thread_key (
       account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
       thread_key ${d.bytes} NOT NULL,
       message_id TEXT NOT NULL REFERENCES message (id) ON DELETE CASCADE,
       thread_id TEXT NOT NULL,
       PRIMARY KEY (account_id, thread_key, message_id))`,
    'CREATE INDEX thread_key_message ON thread_key (message_id)',
    `CREATE TABLE change (
       seq ${d.serialKey},
       account_id TEXT NOT NULL,
       mailbox_id TEXT NOT NULL,
       kind TEXT NOT NULL,
       modseq ${d.int} NOT NULL,
       uid ${d.int},
       message_id TEXT,
       at ${d.int} NOT NULL)`,
    'CREATE INDEX change_account_seq ON change (account_id, seq)',
    `CREATE TABLE audit_log (
       seq ${d.int} PRIMARY KEY,
       at ${d.int} NOT NULL,
       actor TEXT NOT NULL,
       action TEXT NOT NULL,
       target TEXT NOT NULL,
       detail TEXT NOT NULL,
       prev_hash TEXT NOT NULL,
       hash TEXT NOT NULL)`,
    ...d.appendOnly('audit_log'),
  ];
}

export const initial: Migration = {
  version: 1,
  name: 'initial schema',
  up(db) {
    for (const sql of initialSchema(db.dialect)) db.exec(sql);
  },
};
