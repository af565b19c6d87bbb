// The embedded Store backend on node:sqlite (DatabaseSync, WAL). One connection per
// store; every method runs synchronously on it, so within a process no two
// transactions interleave. Concern-specific SQL lives beside this file (accounts,
// directory, mailboxes, messages, audit, changes); this class wires them up.
// Invariants:
// - a write method resolves only after its COMMIT returned (synchronous=FULL: the
//   WAL is fsync'd), and only then are change listeners told;
// - appendMessages goes through GroupCommit (one transaction per event-loop turn);
// - after close() every method rejects with 'store.unavailable'.

import { SealpostError } from '../../core/errors.ts';
import { migrateSqlite } from '../migrations/index.ts';
import type {
  Account,
  AccountKeyRecord,
  Alias,
  Appended,
  AuditRow,
  Change,
  Domain,
  FlagMode,
  Id,
  Mailbox,
  NewAccount,
  NewMailbox,
  NewMessage,
  SpecialUse,
  Store,
  StoredMessage,
} from '../types.ts';
import * as accounts from './accounts.ts';
import * as audit from './audit.ts';
import { ChangeFeed, changesSince, type Tx } from './changes.ts';
import { SqliteDb } from './db.ts';
import * as directory from './directory.ts';
import { GroupCommit } from './group-commit.ts';
import * as mailboxes from './mailboxes.ts';
import * as messages from './messages.ts';

export interface SqliteStoreOptions {
  readonly path: string;
  /** How long a writer waits for another process's lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Clock for row timestamps (default Date.now). */
  readonly now?: () => number;
  /** Told when a change listener throws (default: a process warning). */
  readonly onListenerError?: (error: unknown) => void;
}

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return NO_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new SealpostError('input.invalid', 'bad limit');
  return limit;
}

function reportListenerError(error: unknown): void {
  const name = error instanceof Error ? error.name : typeof error;
  process.emitWarning(`store change listener threw (${name})`, 'SealpostStoreWarning');
}

export class SqliteStore implements Store {
  private readonly db: SqliteDb;
  private readonly feed: ChangeFeed;
  private readonly appends: GroupCommit;
  private readonly now: () => number;

  constructor(options: SqliteStoreOptions) {
    this.db = new SqliteDb(options.path, options.busyTimeoutMs ?? 5000);
    this.now = options.now ?? Date.now;
    this.feed = new ChangeFeed(options.onListenerError ?? reportListenerError);
    this.appends = new GroupCommit(this.db, this.feed, this.now);
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
    return this.write((tx) => accounts.deleteAccount(tx, accountId));
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

  async appendMessages(list: readonly NewMessage[]): Promise<Appended[]> {
    this.open();
    if (list.length === 0) return [];
    return this.appends.enqueue(list);
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
    return this.write((tx) => messages.setFlags(tx, mailboxId, uids, flags, mode));
  }
  async expunge(mailboxId: Id, uids: readonly number[]): Promise<string[]> {
    return this.write((tx) => messages.expunge(tx, mailboxId, uids));
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
