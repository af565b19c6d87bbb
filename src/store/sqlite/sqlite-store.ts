// The embedded Store backend on node:sqlite (DatabaseSync, WAL). One connection per
// store; every method runs synchronously on it, so within a process no two
// transactions interleave. Concern-specific SQL lives beside this file (accounts,
// directory, mailboxes, messages, audit, changes); this class wires them up.
// Invariants:
// - a write method resolves only once its COMMIT is durable, and only then are
//   change listeners told: most commit with synchronous=FULL (the WAL fsync'd inside
//   COMMIT); the frequent mailbox writes (setFlags, storeFlags, expunge, copy, move)
//   commit with NORMAL and wait for a shared WAL fsync off the event loop (writeShared),
//   as do the frequent identity writes (touchAppPassword, advanceTotpStep,
//   updateWebauthnCounter, consumeRecoveryCode, appendSecurityEvent,
//   touchWebSession, setWebSessionChallenge), the login counters and the sending
//   counters (recordSending, recordBounces);
// - appendMessages goes through GroupCommit (one transaction per event-loop turn);
//   a call with blobs over inlineBlobMaxBytes first writes and fsyncs their files
//   (blobs.ts), then joins the group commit;
// - expunge, deleteMailbox and deleteAccount delete inline blobs in their
//   transaction and file blobs right after the COMMIT is durable (moveMessages
//   frees none: the copies keep the message rows);
// - after close() every method rejects with 'store.unavailable'.

import { dirname, join } from 'node:path';
import { SealpostError } from '../../core/errors.ts';
import { FileBlobStore } from '../blobs/file-blob-store.ts';
import { migrateSqlite } from '../migrations/index.ts';
import type {
  Account,
  AccountKeyRecord,
  Alias,
  Appended,
  AppPasswordRecord,
  AuditRow,
  AuthFactor,
  Change,
  CopyResult,
  DkimKeyRecord,
  DkimKeyTransition,
  Domain,
  FlagMode,
  Id,
  LoginCounter,
  Mailbox,
  MessageEntry,
  NewAccount,
  NewMailbox,
  NewMessage,
  NewQueuedMessage,
  NewSendingSuspension,
  QueuedMessage,
  QueueOutcome,
  QueueRecipient,
  SecurityEvent,
  SendingHour,
  SendingRecord,
  SendingSuspension,
  SpecialUse,
  Store,
  StoredMessage,
  StoredStsPolicy,
  StoreFlagsResult,
  WebSession,
  WebSessionCutoff,
} from '../types.ts';
import * as accounts from './accounts.ts';
import * as appPasswords from './app-passwords.ts';
import * as audit from './audit.ts';
import { DEFAULT_INLINE_BLOB_MAX_BYTES, SqliteBlobs } from './blobs.ts';
import { ChangeFeed, changesSince, type Tx } from './changes.ts';
import * as copy from './copy.ts';
import { SqliteDb } from './db.ts';
import * as directory from './directory.ts';
import * as dkim from './dkim-keys.ts';
import { expunge, expungedSince } from './expunge.ts';
import * as factors from './factors.ts';
import { GroupCommit } from './group-commit.ts';
import * as logins from './login-counters.ts';
import * as admin from './mailbox-admin.ts';
import * as mailboxes from './mailboxes.ts';
import * as maildrop from './maildrop.ts';
import * as messages from './messages.ts';
import * as mtaSts from './mta-sts.ts';
import { checkLimit, reportBlobFileError, reportListenerError, type SqliteStoreOptions } from './options.ts';
import * as queue from './queue.ts';
import { searchTerms } from './search.ts';
import * as security from './security-log.ts';
import * as sending from './sending.ts';
import { setFlags, storeFlags } from './store-flags.ts';
import { WalBarrier } from './wal-barrier.ts';
import * as web from './web-sessions.ts';

export type { SqliteStoreOptions } from './options.ts';

export class SqliteStore implements Store {
  private readonly db: SqliteDb;
  private readonly feed: ChangeFeed;
  private readonly appends: GroupCommit;
  private readonly blobs: SqliteBlobs;
  private readonly now: () => number;
  private readonly wal: WalBarrier;

  constructor(options: SqliteStoreOptions) {
    this.db = new SqliteDb(options.path, options.busyTimeoutMs ?? 5000);
    this.now = options.now ?? Date.now;
    this.feed = new ChangeFeed(options.onListenerError ?? reportListenerError);
    const blobDir = options.blobDir ?? join(dirname(options.path), 'blobs');
    this.blobs = new SqliteBlobs(
      this.db,
      new FileBlobStore(blobDir),
      options.inlineBlobMaxBytes ?? DEFAULT_INLINE_BLOB_MAX_BYTES,
      options.onBlobFileError ?? reportBlobFileError,
    );
    this.wal = new WalBarrier(this.db, options.path);
    this.appends = new GroupCommit(this.db, this.feed, this.blobs, this.now, this.wal);
  }

  /** Folder of the blobs kept as files (diagnostics, backups, tests). */
  get blobDir(): string {
    return this.blobs.files.root;
  }

  /** Read a connection PRAGMA (diagnostics: `sealpost doctor`, tests). */
  pragma(name: 'journal_mode' | 'synchronous' | 'foreign_keys' | 'busy_timeout'): string | number | null {
    const row = this.db.get(`PRAGMA ${name}`);
    const value = row === undefined ? null : Object.values(row)[0];
    return typeof value === 'string' || typeof value === 'number' ? value : null;
  }

  /** Run `fn` in one write transaction, then publish its changes. */
  private write<T>(fn: (tx: Tx) => T): T {
    const tx: Tx = { db: this.db, changes: [], now: this.now() };
    const result = this.db.transaction(() => fn(tx));
    this.feed.publish(tx.changes);
    return result;
  }

  /**
   * The frequent mailbox writes of IMAP and POP3 (flags, expunge, copy, move): the
   * COMMIT writes the WAL without syncing it, and the promise resolves after a shared
   * WAL fsync off the event loop (wal-barrier.ts), as appends do. With synchronous=FULL
   * each STORE stopped every session for the length of an fsync.
   */
  private async writeShared<T>(fn: (tx: Tx) => T): Promise<T> {
    const tx: Tx = { db: this.db, changes: [], now: this.now() };
    const result = this.wal.relaxed(() => this.db.transaction(() => fn(tx)));
    await this.wal.barrier();
    this.feed.publish(tx.changes);
    return result;
  }

  /** writeShared for a write that unreferences blobs: files go only once the rows' removal is durable. */
  private async writeSharedDroppingBlobs(fn: (tx: Tx) => string[]): Promise<string[]> {
    let files: string[] = [];
    const refs = await this.writeShared((tx) => {
      const unreferenced = fn(tx);
      files = this.blobs.dropInline(tx, unreferenced);
      return unreferenced;
    });
    this.blobs.dropFiles(files);
    return refs;
  }

  /** A write that unreferences blobs: inline ones go in its transaction, files right after it. */
  private writeDroppingBlobs(fn: (tx: Tx) => string[]): string[] {
    let files: string[] = [];
    const refs = this.write((tx) => {
      const unreferenced = fn(tx);
      files = this.blobs.dropInline(tx, unreferenced);
      return unreferenced;
    });
    this.blobs.dropFiles(files);
    return refs;
  }

  private open(): SqliteDb {
    if (!this.db.isOpen) throw new SealpostError('store.unavailable', 'store is closed');
    return this.db;
  }

  async migrate(): Promise<void> {
    migrateSqlite(this.open().raw);
  }
  async ping(): Promise<void> {
    this.db.get('SELECT 1 AS x');
  }
  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    this.appends.flush();
    this.db.close();
  }

  async getMeta(key: string): Promise<string | null> {
    return directory.getMeta(this.db, key);
  }
  async setMeta(key: string, value: string): Promise<void> {
    this.write((tx) => directory.setMeta(tx, key, value));
  }

  async addDomain(domain: Domain): Promise<void> {
    this.write((tx) => directory.addDomain(tx, domain));
  }
  async getDomain(name: string): Promise<Domain | null> {
    return directory.getDomain(this.db, name);
  }
  async listDomains(): Promise<Domain[]> {
    return directory.listDomains(this.db);
  }
  async removeDomain(name: string): Promise<void> {
    this.write((tx) => directory.removeDomain(tx, name));
  }

  async createAccount(account: NewAccount, boxes: readonly NewMailbox[]): Promise<Account> {
    return this.write((tx) => accounts.createAccount(tx, account, boxes));
  }
  async getAccount(id: Id): Promise<Account | null> {
    return accounts.getAccount(this.db, id);
  }
  async getAccountByAddress(address: string): Promise<Account | null> {
    return accounts.getAccountByAddress(this.db, address);
  }
  async listAccounts(domainName?: string): Promise<Account[]> {
    return accounts.listAccounts(this.db, domainName);
  }
  async setPasswordHash(accountId: Id, passwordHash: string): Promise<void> {
    this.write((tx) => accounts.setPasswordHash(tx, accountId, passwordHash));
  }
  async setDisabled(accountId: Id, disabled: boolean): Promise<void> {
    this.write((tx) => accounts.setDisabled(tx, accountId, disabled));
  }
  async setQuota(accountId: Id, quotaBytes: number): Promise<void> {
    this.write((tx) => accounts.setQuota(tx, accountId, quotaBytes));
  }
  async deleteAccount(accountId: Id): Promise<string[]> {
    return this.writeDroppingBlobs((tx) => accounts.deleteAccount(tx, accountId));
  }

  async getAccountKeys(accountId: Id): Promise<AccountKeyRecord[]> {
    return accounts.getAccountKeys(this.db, accountId);
  }
  async putAccountKeys(records: readonly AccountKeyRecord[]): Promise<void> {
    this.write((tx) => accounts.putAccountKeys(tx, records));
  }
  async listAllAccountKeys(): Promise<AccountKeyRecord[]> {
    return accounts.listAllAccountKeys(this.db);
  }

  async addAlias(alias: Alias): Promise<void> {
    this.write((tx) => directory.addAlias(tx, alias));
  }
  async getAlias(source: string): Promise<Alias | null> {
    return directory.getAlias(this.db, source);
  }
  async listAliases(domainName?: string): Promise<Alias[]> {
    return directory.listAliases(this.db, domainName);
  }
  async removeAlias(source: string): Promise<void> {
    this.write((tx) => directory.removeAlias(tx, source));
  }

  async createMailbox(mailbox: NewMailbox): Promise<Mailbox> {
    return this.write((tx) => mailboxes.insertMailbox(tx, mailbox));
  }
  async getMailbox(accountId: Id, name: string): Promise<Mailbox | null> {
    return mailboxes.getMailbox(this.db, accountId, name);
  }
  async getMailboxById(mailboxId: Id): Promise<Mailbox | null> {
    return mailboxes.getMailboxById(this.db, mailboxId);
  }
  async findMailboxBySpecialUse(accountId: Id, use: SpecialUse): Promise<Mailbox | null> {
    return mailboxes.findMailboxBySpecialUse(this.db, accountId, use);
  }
  async listMailboxes(accountId: Id): Promise<Mailbox[]> {
    return mailboxes.listMailboxes(this.db, accountId);
  }
  async setSubscribed(mailboxId: Id, subscribed: boolean): Promise<void> {
    this.write((tx) => admin.setSubscribed(tx, mailboxId, subscribed));
  }
  async renameMailbox(mailboxId: Id, newName: string): Promise<void> {
    this.write((tx) => admin.renameMailbox(tx, mailboxId, newName));
  }
  async deleteMailbox(mailboxId: Id): Promise<void> {
    this.writeDroppingBlobs((tx) => admin.deleteMailbox(tx, mailboxId));
  }
  async setSpecialUse(mailboxId: Id, use: SpecialUse | null): Promise<void> {
    this.write((tx) => admin.setSpecialUse(tx, mailboxId, use));
  }

  async appendMessages(list: readonly NewMessage[]): Promise<Appended[]> {
    this.open();
    if (list.length === 0) return [];
    for (const m of list) messages.checkMessage(m);
    // Only calls with large blobs wait for files here; the others join the batch now.
    if (list.every((m) => this.blobs.isInline(m))) return this.appends.enqueue(list);
    const created = await this.blobs.writeFiles(list);
    try {
      return await this.appends.enqueue(list);
    } catch (e) {
      this.blobs.discardFiles(created);
      throw e;
    }
  }
  async readBlob(ref: string): Promise<Uint8Array> {
    this.open();
    return this.blobs.read(ref);
  }
  async *listBlobRefs(): AsyncIterable<string> {
    this.open();
    yield* this.blobs.list();
  }
  async getMessage(mailboxId: Id, uid: number): Promise<StoredMessage | null> {
    return messages.getMessage(this.db, mailboxId, uid);
  }
  async listMessages(mailboxId: Id, fromUid = 1, limit?: number): Promise<StoredMessage[]> {
    return messages.listMessages(this.db, mailboxId, fromUid, checkLimit(limit));
  }
  async findThread(accountId: Id, threadKeys: readonly Uint8Array[]): Promise<Id | null> {
    return messages.findThread(this.db, accountId, threadKeys);
  }
  async setFlags(
    mailboxId: Id,
    uids: readonly number[],
    flags: readonly string[],
    mode: FlagMode,
  ): Promise<number> {
    return this.writeShared((tx) => setFlags(tx, mailboxId, uids, flags, mode));
  }
  async expunge(mailboxId: Id, uids: readonly number[]): Promise<string[]> {
    return this.writeSharedDroppingBlobs((tx) => expunge(tx, mailboxId, uids));
  }
  async copyMessages(fromMailboxId: Id, uids: readonly number[], toMailboxId: Id): Promise<CopyResult> {
    return this.writeShared((tx) => copy.copyMessages(tx, fromMailboxId, uids, toMailboxId));
  }
  async moveMessages(fromMailboxId: Id, uids: readonly number[], toMailboxId: Id): Promise<CopyResult> {
    return this.writeShared((tx) => copy.moveMessages(tx, fromMailboxId, uids, toMailboxId));
  }
  async storeFlags(
    mailboxId: Id,
    uids: readonly number[],
    flags: readonly string[],
    mode: FlagMode,
    unchangedSince?: number,
  ): Promise<StoreFlagsResult> {
    return this.writeShared((tx) => storeFlags(tx, mailboxId, uids, flags, mode, unchangedSince));
  }
  async expungedSince(mailboxId: Id, modseq: number, minUid?: number, maxUid?: number): Promise<number[]> {
    return expungedSince(this.db, mailboxId, modseq, minUid, maxUid);
  }
  async listEntries(mailboxId: Id, changedSince?: number): Promise<MessageEntry[]> {
    return messages.listEntries(this.db, mailboxId, changedSince);
  }
  async getMessages(mailboxId: Id, uids: readonly number[]): Promise<StoredMessage[]> {
    return messages.getMessages(this.db, mailboxId, uids);
  }

  async searchTerms(accountId: Id, terms: readonly Uint8Array[]): Promise<Set<Id>> {
    return searchTerms(this.db, accountId, terms);
  }

  async getMtaStsPolicy(domain: string): Promise<StoredStsPolicy | null> {
    return mtaSts.get(this.open(), domain);
  }
  async putMtaStsPolicy(policy: StoredStsPolicy): Promise<void> {
    this.write((tx) => mtaSts.put(tx, policy));
  }
  async deleteMtaStsPolicy(domain: string): Promise<void> {
    this.write((tx) => mtaSts.remove(tx, domain));
  }

  async enqueue(message: NewQueuedMessage): Promise<void> {
    this.write((tx) => queue.enqueue(tx, message));
  }
  async claimQueue(owner: string, now: number, leaseMs: number, limit: number): Promise<QueueRecipient[]> {
    return this.write((tx) => queue.claim(tx, owner, now, leaseMs, limit));
  }
  async getQueuedMessage(id: Id): Promise<QueuedMessage | null> {
    return queue.get(this.open(), id);
  }
  async finishQueueAttempts(
    owner: string,
    outcomes: readonly QueueOutcome[],
    notices: readonly NewQueuedMessage[],
  ): Promise<void> {
    this.write((tx) => queue.finish(tx, owner, outcomes, notices));
  }
  async releaseQueueLeases(owner: string): Promise<number> {
    return this.write((tx) => queue.release(tx, owner));
  }
  async countQueued(): Promise<number> {
    return queue.count(this.open());
  }
  async listQueue(limit: number): Promise<QueuedMessage[]> {
    return queue.list(this.open(), limit);
  }
  async retryQueued(id: Id, now: number): Promise<boolean> {
    return this.write((tx) => queue.retry(tx, id, now));
  }
  async deleteQueued(id: Id): Promise<boolean> {
    return this.write((tx) => queue.remove(tx, id));
  }

  async addDkimKeys(keys: readonly DkimKeyRecord[]): Promise<void> {
    this.write((tx) => dkim.addDkimKeys(tx, keys));
  }
  async listDkimKeys(domain?: string): Promise<DkimKeyRecord[]> {
    return dkim.listDkimKeys(this.db, domain);
  }
  async updateDkimKeys(domain: string, transitions: readonly DkimKeyTransition[]): Promise<void> {
    this.write((tx) => dkim.updateDkimKeys(tx, domain, transitions));
  }

  async knownRecipients(
    accountId: Id,
    recipientHashes: readonly string[],
    since: number,
  ): Promise<Set<string>> {
    return sending.knownRecipients(this.open(), accountId, recipientHashes, since);
  }
  async recordSending(record: SendingRecord): Promise<number> {
    return this.writeShared((tx) => sending.recordSending(tx, record));
  }
  async recordBounces(accountId: Id, at: number, count: number): Promise<void> {
    await this.writeShared((tx) => sending.recordBounces(tx, accountId, at, count));
  }
  async listSendingHours(accountId: Id, from: number): Promise<SendingHour[]> {
    return sending.listSendingHours(this.open(), accountId, from);
  }
  async getSendingSuspension(accountId: Id): Promise<SendingSuspension | null> {
    return sending.getSendingSuspension(this.open(), accountId);
  }
  async suspendSending(suspension: NewSendingSuspension): Promise<boolean> {
    return this.write((tx) => sending.suspendSending(tx, suspension));
  }
  async liftSendingSuspension(accountId: Id, at: number, by: string): Promise<boolean> {
    return this.write((tx) => sending.liftSendingSuspension(tx, accountId, at, by));
  }
  async holdQueued(owner: string, messageId: Id, until: number): Promise<number> {
    return this.write((tx) => sending.holdQueued(tx, owner, messageId, until));
  }

  async addAppPassword(record: AppPasswordRecord): Promise<void> {
    this.write((tx) => appPasswords.addAppPassword(tx, record));
  }
  async getAppPassword(id: string): Promise<AppPasswordRecord | null> {
    return appPasswords.getAppPassword(this.db, id);
  }
  async listAppPasswords(accountId: Id): Promise<AppPasswordRecord[]> {
    return appPasswords.listAppPasswords(this.db, accountId);
  }
  async revokeAppPassword(accountId: Id, id: string, at: number): Promise<void> {
    this.write((tx) => appPasswords.revokeAppPassword(tx, accountId, id, at));
  }
  async touchAppPassword(id: string, at: number, address: string): Promise<void> {
    await this.writeShared((tx) => appPasswords.touchAppPassword(tx, id, at, address));
  }

  async addFactor(factor: AuthFactor): Promise<void> {
    this.write((tx) => factors.addFactor(tx, factor));
  }
  async listFactors(accountId: Id): Promise<AuthFactor[]> {
    return factors.listFactors(this.db, accountId);
  }
  async getFactorByCredentialId(credentialId: string): Promise<AuthFactor | null> {
    return factors.getFactorByCredentialId(this.db, credentialId);
  }
  async removeFactor(accountId: Id, factorId: Id): Promise<void> {
    this.write((tx) => factors.removeFactor(tx, accountId, factorId));
  }
  async advanceTotpStep(factorId: Id, step: number): Promise<boolean> {
    return this.writeShared((tx) => factors.advanceTotpStep(tx, factorId, step));
  }
  async updateWebauthnCounter(factorId: Id, counter: number, at: number): Promise<void> {
    await this.writeShared((tx) => factors.updateWebauthnCounter(tx, factorId, counter, at));
  }
  async consumeRecoveryCode(factorId: Id, hash: string): Promise<boolean> {
    return this.writeShared((tx) => factors.consumeRecoveryCode(tx, factorId, hash));
  }

  async passwordHistory(accountId: Id, limit: number): Promise<string[]> {
    return security.passwordHistory(this.db, accountId, limit);
  }
  async appendSecurityEvent(event: SecurityEvent): Promise<void> {
    await this.writeShared((tx) => security.appendSecurityEvent(tx, event));
  }
  async listSecurityEvents(accountId: Id, limit: number, beforeSeq?: number): Promise<SecurityEvent[]> {
    return security.listSecurityEvents(this.db, accountId, limit, beforeSeq);
  }

  async createWebSession(session: WebSession): Promise<void> {
    this.write((tx) => web.createWebSession(tx, session));
  }
  async getWebSession(idHash: string): Promise<WebSession | null> {
    return web.getWebSession(this.db, idHash);
  }
  async touchWebSession(idHash: string, at: number): Promise<void> {
    await this.writeShared((tx) => web.touchWebSession(tx, idHash, at));
  }
  async completeWebSession(idHash: string, factor: string, at: number): Promise<void> {
    this.write((tx) => web.completeWebSession(tx, idHash, factor, at));
  }
  async rotateWebSession(oldIdHash: string, next: WebSession): Promise<void> {
    this.write((tx) => web.rotateWebSession(tx, oldIdHash, next));
  }
  async setWebSessionChallenge(idHash: string, challenge: string | null): Promise<void> {
    await this.writeShared((tx) => web.setWebSessionChallenge(tx, idHash, challenge));
  }
  async deleteWebSession(idHash: string): Promise<void> {
    this.write((tx) => web.deleteWebSession(tx, idHash));
  }
  async listWebSessions(accountId: Id): Promise<WebSession[]> {
    return web.listWebSessions(this.db, accountId);
  }
  async deleteWebSessions(accountId: Id, keepIdHash?: string): Promise<number> {
    return this.write((tx) => web.deleteWebSessions(tx, accountId, keepIdHash));
  }
  async deleteExpiredWebSessions(cutoff: WebSessionCutoff): Promise<number> {
    return this.write((tx) => web.deleteExpiredWebSessions(tx, cutoff));
  }

  async countLoginFailures(keys: readonly string[], now: number, forgetMs: number): Promise<LoginCounter[]> {
    return this.writeShared((tx) => logins.countLoginFailures(tx, keys, now, forgetMs));
  }
  async getLoginCounters(keys: readonly string[]): Promise<LoginCounter[]> {
    return logins.getLoginCounters(this.db, keys);
  }
  async clearLoginCounter(key: string): Promise<void> {
    await this.writeShared((tx) => logins.clearLoginCounter(tx, key));
  }
  async lockMaildrop(accountId: Id, owner: string, ttlMs: number): Promise<boolean> {
    return this.write((tx) => maildrop.lockMaildrop(tx, accountId, owner, ttlMs));
  }
  async refreshMaildropLock(accountId: Id, owner: string, ttlMs: number): Promise<boolean> {
    return this.write((tx) => maildrop.refreshMaildropLock(tx, accountId, owner, ttlMs));
  }
  async unlockMaildrop(accountId: Id, owner: string): Promise<void> {
    this.write((tx) => maildrop.unlockMaildrop(tx, accountId, owner));
  }

  async changesSince(accountId: Id, afterSeq: number, limit?: number): Promise<Change[]> {
    return changesSince(this.db, accountId, afterSeq, checkLimit(limit));
  }
  onChange(listener: (change: Change) => void): () => void {
    return this.feed.subscribe(listener);
  }

  async appendAudit(build: (last: AuditRow | null) => AuditRow): Promise<AuditRow> {
    return audit.appendAudit(this.db, build);
  }
  async listAudit(fromSeq = 1, limit?: number): Promise<AuditRow[]> {
    return audit.listAudit(this.db, fromSeq, checkLimit(limit));
  }
}

/** Open (creating if needed, mode 0600) the SQLite store at `path`; call migrate() next. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  return new SqliteStore(options);
}
