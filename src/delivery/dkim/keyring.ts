// DkimKeyring: the signing keys a process holds — the active keys of every hosted
// domain, loaded from the store and unsealed once, then reloaded when older than
// `refreshMs` (checked when signing; no timer) or when refresh() is called (after
// `sealpost dkim activate` in the same process, or from an admin API).
//
// Invariants:
// - A key is unsealed once per (domain, selector, sealed bytes); a reload keeps the
//   KeyObjects of keys still active and drops the others, so a retired key stops
//   signing at the next reload.
// - A key that fails to open (tampered, wrong master key) is skipped and reported to
//   onKeyError; the domain's other keys still sign. A failed reload after a good one
//   keeps the keys held and is retried at the next signing.
// - Concurrent reloads share one store read.

import { normaliseDomain } from '../../core/address.ts';
import type { MasterKeyRing } from '../../crypto/index.ts';
import type { Logger } from '../../log/logger.ts';
import type { DkimAlgorithm, DkimKeyRecord, Store } from '../../store/types.ts';
import { type DkimSigningKey, openDkimKey } from './key-material.ts';
import { signMessage } from './sign.ts';

export const DEFAULT_REFRESH_MS = 60_000;

export interface DkimKeyringOptions {
  readonly store: Pick<Store, 'listDkimKeys'>;
  readonly keys: MasterKeyRing;
  /** Reload the active keys when the last load is older than this (default 60 s). */
  readonly refreshMs?: number;
  readonly now?: () => number;
  /** Where the default handlers below report (error level: a key that fails to open is an integrity failure). */
  readonly logger?: Logger;
  /** A key that could not be opened (default: logged); never given key bytes. */
  readonly onKeyError?: (key: { domain: string; selector: string }, error: unknown) => void;
  /** A reload that failed while older keys are kept (default: logged). */
  readonly onRefreshError?: (error: unknown) => void;
}

export interface DkimSignResult {
  /** The message to send: CRLF-normalised, with DKIM-Signature fields in front when signed. */
  readonly message: Buffer;
  /** The signatures made, e.g. [{ selector: 'sp202612e', algorithm: 'ed25519' }, …]. */
  readonly signatures: readonly { readonly selector: string; readonly algorithm: DkimAlgorithm }[];
  /** Why the message is unsigned (no active key for the domain), else null. */
  readonly unsignedReason: string | null;
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'internal';
}

export class DkimKeyring {
  readonly #store: Pick<Store, 'listDkimKeys'>;
  readonly #ring: MasterKeyRing;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #onKeyError: NonNullable<DkimKeyringOptions['onKeyError']>;
  readonly #onRefreshError: NonNullable<DkimKeyringOptions['onRefreshError']>;
  /** Opened keys by `domain selector`, with the sealed bytes they came from. */
  #opened = new Map<string, { sealed: string; key: DkimSigningKey }>();
  #byDomain = new Map<string, DkimSigningKey[]>();
  #loadedAt: number | null = null;
  #loading: Promise<void> | null = null;

  constructor(options: DkimKeyringOptions) {
    this.#store = options.store;
    this.#ring = options.keys;
    this.#refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
    this.#now = options.now ?? Date.now;
    const log = options.logger;
    this.#onKeyError =
      options.onKeyError ??
      ((key, e) =>
        log?.error({ ...key, code: errorCode(e) }, 'DKIM key failed to open; not signing with it'));
    this.#onRefreshError =
      options.onRefreshError ??
      ((e) => log?.warn({ code: errorCode(e) }, 'DKIM keys not reloaded; signing with the keys held'));
  }

  /** Reload the active keys from the store now. */
  refresh(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const records = (await this.#store.listDkimKeys()).filter((k) => k.state === 'active');
    const opened = new Map<string, { sealed: string; key: DkimSigningKey }>();
    const byDomain = new Map<string, DkimSigningKey[]>();
    for (const record of records) {
      const key = this.#open(record);
      if (key === null) continue;
      opened.set(`${record.domain} ${record.selector}`, key);
      byDomain.set(record.domain, [...(byDomain.get(record.domain) ?? []), key.key]);
    }
    this.#opened = opened;
    this.#byDomain = byDomain;
    this.#loadedAt = this.#now();
  }

  #open(record: DkimKeyRecord): { sealed: string; key: DkimSigningKey } | null {
    const sealed = Buffer.from(record.sealedPrivateKey).toString('base64');
    const held = this.#opened.get(`${record.domain} ${record.selector}`);
    if (held !== undefined && held.sealed === sealed) return held;
    try {
      return { sealed, key: openDkimKey(this.#ring, record) };
    } catch (e) {
      this.#onKeyError({ domain: record.domain, selector: record.selector }, e);
      return null;
    }
  }

  /** Load on first use, and again once the keys are older than refreshMs. */
  async #fresh(): Promise<void> {
    if (this.#loadedAt === null) return this.refresh();
    if (this.#now() - this.#loadedAt < this.#refreshMs) return;
    try {
      await this.refresh();
    } catch (e) {
      this.#onRefreshError(e);
    }
  }

  /** The active signing keys of a domain (after the last load). */
  keysFor(domain: string): readonly DkimSigningKey[] {
    return this.#byDomain.get(normaliseDomain(domain) ?? domain) ?? [];
  }

  /**
   * Sign a message for `domain` (the From domain, which the submitting account owns)
   * with its active keys; unsigned, saying why, when it has none.
   */
  async sign(raw: Buffer, domain: string, options: { now?: number } = {}): Promise<DkimSignResult> {
    await this.#fresh();
    const d = normaliseDomain(domain) ?? domain;
    const keys = this.keysFor(d);
    const message = signMessage(raw, d, keys, { now: options.now ?? this.#now() });
    if (keys.length === 0) {
      return { message, signatures: [], unsignedReason: `no active DKIM key for ${d}` };
    }
    return {
      message,
      signatures: keys.map((k) => ({ selector: k.selector, algorithm: k.algorithm })),
      unsignedReason: null,
    };
  }
}
