// Unwrapped account keys, cached in memory for the life of a process so that a
// delivery does not re-open the key record every time. When a record names a master
// key version this process has not loaded (another process ran `sealpost keys
// rotate`), the key ring is reloaded once and the unwrap retried.
//
// Invariant: keys live only in this process's memory; nothing here is logged.

import { isSealpostError, SealpostError } from '../core/errors.ts';
import { type AccountKey, type MasterKeyRing, unwrapAccountKey } from '../crypto/index.ts';
import type { AccountKeyRecord, Store } from '../store/types.ts';

export class AccountKeys {
  readonly #store: Store;
  #ring: MasterKeyRing;
  readonly #reloadRing: () => Promise<MasterKeyRing>;
  readonly #cache = new Map<string, AccountKey>();
  readonly #max: number;

  constructor(store: Store, ring: MasterKeyRing, reloadRing: () => Promise<MasterKeyRing>, max = 10_000) {
    this.#store = store;
    this.#ring = ring;
    this.#reloadRing = reloadRing;
    this.#max = max;
  }

  /** The newest key of an account (used to seal new mail). */
  async current(accountId: string): Promise<AccountKey> {
    const cached = this.#cache.get(accountId);
    if (cached !== undefined) return cached;
    const records = await this.#store.getAccountKeys(accountId);
    const newest = records[0];
    if (newest === undefined)
      throw new SealpostError('key.missing', `account ${accountId} has no key record`);
    const key = await this.#unwrap(newest);
    if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(accountId, key);
    return key;
  }

  forget(accountId: string): void {
    this.#cache.delete(accountId);
  }

  async #unwrap(record: AccountKeyRecord): Promise<AccountKey> {
    try {
      return unwrapAccountKey(this.#ring, record);
    } catch (e) {
      if (!isSealpostError(e, 'key.missing')) throw e;
      this.#ring = await this.#reloadRing();
      return unwrapAccountKey(this.#ring, record);
    }
  }
}
