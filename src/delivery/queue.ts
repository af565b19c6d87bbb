// The outbound queue as the submission and delivery roles see it: messages go in
// sealed, come out opened. The store (migration 8) keeps only sealed bytes plus the
// routing domain, sizes, times and states.
//
// Keys: one queue key per master key version, derived with HKDF ('sealpost queue v1').
// Queue entries are the server's own work in progress, not a user's mailbox, so they
// are sealed under the master key rather than an account key: the delivery role must
// read them whoever sent them, bounces included. The associated data binds every
// sealed part to its message id and part (envelope, content, recipient N, status N),
// so parts cannot be swapped between messages or recipients.
//
// Invariants:
// - submit() resolves only once the message is durable in the store (the 250 after
//   DATA waits for it: DESIGN "durable before 250");
// - a recipient's address is never stored in the clear; its domain is.

import { SealpostError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { deriveKey, type MasterKeyRing, openBlob, openJson, sealBlob, sealJson } from '../crypto/index.ts';
import type { Id, NewQueuedMessage, QueuedMessage, QueueRecipient, Store } from '../store/types.ts';

export const QUEUE_KEY_INFO = 'sealpost queue v1';
const AAD_ACCOUNT = 'queue';

/** The SMTP envelope of a queued message. */
export interface QueueEnvelope {
  /** The reverse-path; '' for the null sender of a notice (RFC 5321 §4.5.5). */
  readonly mailFrom: string;
  /** SMTPUTF8 needed (RFC 6531): an address or header is not ASCII. */
  readonly utf8: boolean;
  /** The content has 8-bit bytes (RFC 6152). */
  readonly eightBit: boolean;
  /** RFC 3461 ENVID and RET, when the submitter gave them. */
  readonly envid: string | null;
  readonly ret: 'FULL' | 'HDRS' | null;
}

/** The last answer for one recipient: what `queue show` and a DSN report. */
export interface QueueStatus {
  /** Reply code and enhanced code (RFC 3463), ours or the remote server's. */
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
  /** The host that answered (the remote MX), or null for a local decision. */
  readonly remoteHost: string | null;
  /** 'smtp' for a remote server's words (DSN Diagnostic-Code), 'local' for ours. */
  readonly source: 'smtp' | 'local';
}

export interface OpenedRecipient {
  readonly idx: number;
  readonly address: string;
  readonly domain: string;
  readonly row: QueueRecipient;
  readonly status: QueueStatus | null;
}

export interface OpenedMessage {
  readonly id: Id;
  readonly accountId: Id | null;
  readonly kind: 'mail' | 'dsn';
  readonly createdAt: number;
  readonly envelope: QueueEnvelope;
  readonly data: Buffer;
  readonly recipients: readonly OpenedRecipient[];
}

export interface SubmitInput {
  readonly accountId: Id | null;
  readonly kind: 'mail' | 'dsn';
  readonly envelope: QueueEnvelope;
  readonly recipients: readonly string[];
  readonly data: Buffer;
}

export class OutboundQueue {
  readonly #store: Store;
  readonly #keys: MasterKeyRing;
  readonly #now: () => number;
  readonly #derived = new Map<number, Buffer>();

  constructor(store: Store, keys: MasterKeyRing, now: () => number = Date.now) {
    this.#store = store;
    this.#keys = keys;
    this.#now = now;
  }

  #key(version: number): Buffer {
    let k = this.#derived.get(version);
    if (k === undefined) {
      k = deriveKey(this.#keys.get(version).key, QUEUE_KEY_INFO);
      this.#derived.set(version, k);
    }
    return k;
  }

  /** Seal a message for the queue (not stored yet: submit() or a notice list). */
  seal(input: SubmitInput): NewQueuedMessage {
    if (input.recipients.length === 0)
      throw new SealpostError('input.invalid', 'a queued message needs a recipient');
    const id = newId('que');
    const version = this.#keys.current.version;
    const key = this.#key(version);
    const aad = (purpose: string) => ({ purpose, accountId: AAD_ACCOUNT, objectId: id });
    const now = this.#now();
    return {
      id,
      accountId: input.accountId,
      kind: input.kind,
      createdAt: now,
      size: input.data.length,
      keyVersion: version,
      sealedEnvelope: sealJson(key, input.envelope, aad('queue-envelope')),
      sealedData: sealBlob(key, input.data, aad('queue-data')),
      recipients: input.recipients.map((address, idx) => ({
        domain: domainOf(address),
        sealedAddress: sealJson(key, address, aad(`queue-rcpt-${idx}`)),
      })),
      firstAttemptAt: now,
    };
  }

  /** Seal and store durably; returns the queue id. */
  async submit(input: SubmitInput): Promise<Id> {
    const sealed = this.seal(input);
    await this.#store.enqueue(sealed);
    return sealed.id;
  }

  open(m: QueuedMessage): OpenedMessage {
    const key = this.#key(m.keyVersion);
    const aad = (purpose: string) => ({ purpose, accountId: AAD_ACCOUNT, objectId: m.id });
    return {
      id: m.id,
      accountId: m.accountId,
      kind: m.kind,
      createdAt: m.createdAt,
      envelope: openJson<QueueEnvelope>(key, m.sealedEnvelope, aad('queue-envelope')),
      data: openBlob(key, m.sealedData, aad('queue-data')),
      recipients: m.recipients.map((row) => ({
        idx: row.idx,
        address: openJson<string>(key, row.sealedAddress, aad(`queue-rcpt-${row.idx}`)),
        domain: row.domain,
        row,
        status:
          row.sealedStatus === null
            ? null
            : openJson<QueueStatus>(key, row.sealedStatus, aad(`queue-status-${row.idx}`)),
      })),
    };
  }

  /** Seal a recipient's latest status for finishQueueAttempts. */
  sealStatus(m: { id: Id; keyVersion: number }, idx: number, status: QueueStatus): Uint8Array {
    return sealJson(this.#key(m.keyVersion), status, {
      purpose: `queue-status-${idx}`,
      accountId: AAD_ACCOUNT,
      objectId: m.id,
    });
  }
}

/** The routing domain of an address, lower case ('' never: addresses were checked). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1)
    throw new SealpostError('input.invalid', 'a queued recipient must be local@domain');
  return address.slice(at + 1).toLowerCase();
}
