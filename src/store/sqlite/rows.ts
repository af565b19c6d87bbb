// Reading SQLite rows into the Store's types. Each reader checks the column's
// runtime type, so a schema drift fails loudly here instead of leaking a wrong
// value upwards. Integers are read as JS numbers (all our values are below 2^53).

import { SealpostError } from '../../core/errors.ts';
import type {
  Account,
  AccountKeyRecord,
  Alias,
  AuditRow,
  Change,
  ChangeKind,
  Domain,
  Mailbox,
  SpecialUse,
  StoredMessage,
} from '../types.ts';
import type { Row } from './db.ts';

function bad(column: string): never {
  throw new SealpostError('internal', 'unexpected column type', { column });
}

export function str(row: Row, column: string): string {
  const v = row[column];
  return typeof v === 'string' ? v : bad(column);
}

export function strOrNull(row: Row, column: string): string | null {
  const v = row[column];
  return v === null ? null : typeof v === 'string' ? v : bad(column);
}

export function num(row: Row, column: string): number {
  const v = row[column];
  return typeof v === 'number' ? v : bad(column);
}

export function numOrNull(row: Row, column: string): number | null {
  const v = row[column];
  return v === null ? null : typeof v === 'number' ? v : bad(column);
}

export function bytes(row: Row, column: string): Uint8Array {
  const v = row[column];
  return v instanceof Uint8Array ? v : bad(column);
}

export function toDomain(r: Row): Domain {
  return { id: str(r, 'id'), name: str(r, 'name'), createdAt: num(r, 'created_at') };
}

export function toAccount(r: Row): Account {
  return {
    id: str(r, 'id'),
    address: str(r, 'address'),
    domainId: str(r, 'domain_id'),
    passwordHash: str(r, 'password_hash'),
    disabled: num(r, 'disabled') !== 0,
    quotaBytes: num(r, 'quota_bytes'),
    usedBytes: num(r, 'used_bytes'),
    createdAt: num(r, 'created_at'),
  };
}

export function toAccountKey(r: Row): AccountKeyRecord {
  return {
    accountId: str(r, 'account_id'),
    version: num(r, 'version'),
    masterVersion: num(r, 'master_version'),
    wrappedKey: bytes(r, 'wrapped_key'),
    publicKey: bytes(r, 'public_key'),
    sealedPrivateKey: bytes(r, 'sealed_private_key'),
    createdAt: num(r, 'created_at'),
  };
}

export function toAlias(r: Row): Alias {
  const destinations: unknown = JSON.parse(str(r, 'destinations'));
  if (!Array.isArray(destinations) || !destinations.every((d) => typeof d === 'string')) bad('destinations');
  return { source: str(r, 'source'), destinations, createdAt: num(r, 'created_at') };
}

export function toMailbox(r: Row): Mailbox {
  return {
    id: str(r, 'id'),
    accountId: str(r, 'account_id'),
    name: str(r, 'name'),
    specialUse: strOrNull(r, 'special_use') as SpecialUse | null,
    uidValidity: num(r, 'uid_validity'),
    uidNext: num(r, 'uid_next'),
    highestModseq: num(r, 'highest_modseq'),
    subscribed: num(r, 'subscribed') !== 0,
    messageCount: num(r, 'message_count'),
    unseenCount: num(r, 'unseen_count'),
    totalBytes: num(r, 'total_bytes'),
    createdAt: num(r, 'created_at'),
  };
}

export function parseFlags(text: string): string[] {
  const flags: unknown = JSON.parse(text);
  if (!Array.isArray(flags) || !flags.every((f) => typeof f === 'string')) bad('flags');
  return flags;
}

/** Row of mailbox_message joined with message (see MESSAGE_COLUMNS in messages.ts). */
export function toStoredMessage(r: Row): StoredMessage {
  return {
    id: str(r, 'id'),
    accountId: str(r, 'account_id'),
    mailboxId: str(r, 'mailbox_id'),
    uid: num(r, 'uid'),
    modseq: num(r, 'modseq'),
    flags: parseFlags(str(r, 'flags')),
    blobRef: str(r, 'blob_ref'),
    size: num(r, 'size'),
    internalDate: num(r, 'internal_date'),
    threadId: str(r, 'thread_id'),
    keyVersion: num(r, 'key_version'),
    wrappedKey: bytes(r, 'wrapped_key'),
    sealedMeta: bytes(r, 'sealed_meta'),
  };
}

export function toChange(r: Row): Change {
  return {
    seq: num(r, 'seq'),
    accountId: str(r, 'account_id'),
    mailboxId: str(r, 'mailbox_id'),
    kind: str(r, 'kind') as ChangeKind,
    modseq: num(r, 'modseq'),
    uid: numOrNull(r, 'uid'),
    messageId: strOrNull(r, 'message_id'),
    at: num(r, 'at'),
  };
}

export function toAuditRow(r: Row): AuditRow {
  return {
    seq: num(r, 'seq'),
    at: num(r, 'at'),
    actor: str(r, 'actor'),
    action: str(r, 'action'),
    target: str(r, 'target'),
    detail: str(r, 'detail'),
    prevHash: str(r, 'prev_hash'),
    hash: str(r, 'hash'),
  };
}
