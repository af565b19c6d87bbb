// The Store contract: one node:test suite that every backend runs unchanged
// (SQLite in sqlite/sqlite-store.test.ts, PostgreSQL later). It speaks only the
// Store interface and asserts what callers rely on: durability boundaries,
// UID/modseq rules, counters, the change feed and the audit chain.
//
// `open` returns a fresh, empty store (not yet migrated) and a cleanup; the suite
// calls migrate() first and close() then cleanup() after each test.
//
// Documented choices the suite pins down (every backend must make the same):
// - one appendMessages call is one step: each mailbox it touches gets one new
//   modseq, shared by its entries there;
// - deleteAccount drops the address from alias destinations and removes aliases
//   left with none; one address is an account or an alias, never both;
// - an alias's domain must be hosted ('store.not-found' otherwise);
// - a blob ref names one immutable blob: reusing it (a copy) needs the same bytes;
// - COPY/MOVE share the message row (no new blob); usage counts per entry;
// - mailbox-level changes bump that mailbox's modseq with one 'mailbox' change;
// - reads of a missing mailbox (listEntries, getMessages, expungedSince) are empty;
// - the maildrop lock expires at its last lock/refresh + the ttl given then;
// - identity rows (app passwords, factors, password history, security events) go
//   with their account; revoking keeps the first revocation time; a WebAuthn
//   credential id is unique across accounts;
// - web sessions go with their account; their last activity never moves backwards;
//   deleteWebSessions touches only the given account's rows.

import { describe } from 'node:test';
import { accountsContract } from './contract/accounts.ts';
import { blobsContract } from './contract/blobs.ts';
import { copyMoveContract } from './contract/copy-move.ts';
import { dkimKeysContract } from './contract/dkim-keys.ts';
import { feedAuditContract } from './contract/feed-audit.ts';
import type { OpenStore } from './contract/fixtures.ts';
import { identityContract } from './contract/identity.ts';
import { identityLogContract } from './contract/identity-log.ts';
import { imapReadsContract } from './contract/imap-reads.ts';
import { loginCountersContract } from './contract/login-counters.ts';
import { mailboxAdminContract } from './contract/mailbox-admin.ts';
import { messagesContract } from './contract/messages.ts';
import { mtaStsContract } from './contract/mta-sts.ts';
import { queueContract } from './contract/queue.ts';
import { searchLockContract } from './contract/search-lock.ts';
import { sendingContract } from './contract/sending.ts';
import { webSessionsContract } from './contract/web-sessions.ts';

export type { OpenStore } from './contract/fixtures.ts';

export function runStoreContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    describe('directory', () => accountsContract(open));
    describe('messages', () => messagesContract(open));
    describe('feed and audit', () => feedAuditContract(open));
    describe('blobs', () => blobsContract(open));
    describe('copy and move', () => copyMoveContract(open));
    describe('login counters', () => loginCountersContract(open));
    describe('mailbox changes', () => mailboxAdminContract(open));
    describe('IMAP reads and CONDSTORE', () => imapReadsContract(open));
    describe('search and maildrop lock', () => searchLockContract(open));
    describe('identity: app passwords and factors', () => identityContract(open));
    describe('identity: password history and security log', () => identityLogContract(open));
    describe('web sessions', () => webSessionsContract(open));
    describe('outbound queue', () => queueContract(open));
    describe('MTA-STS policies', () => mtaStsContract(open));
    describe('DKIM keys', () => dkimKeysContract(open));
    describe('sending counters and suspensions', () => sendingContract(open));
  });
}
