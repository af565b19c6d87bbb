// The exclusive-access lock on a maildrop (RFC 1939 §8: "the POP3 server acquires an
// exclusive-access lock on the maildrop"), held in the store so that sessions in
// every process sharing it exclude each other.
//
// Invariants:
// - Held by one session (owner = its random connection id) for LOCK_TTL_MS and
//   renewed every LOCK_REFRESH_MS while the session lives, so a crashed process's
//   lock goes stale within a minute and the user is not locked out for long.
// - A renewal that finds the lock gone (taken over as stale after a stall) calls
//   onLost: the session must end without committing any deletion.
// - release() is idempotent and never throws.

import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/types.ts';
import { LOCK_REFRESH_MS, LOCK_TTL_MS } from './limits.ts';

type LockStore = Pick<Store, 'lockMaildrop' | 'refreshMaildropLock' | 'unlockMaildrop'>;

export interface LockTimings {
  readonly ttlMs: number;
  readonly refreshMs: number;
}

const DEFAULT_TIMINGS: LockTimings = { ttlMs: LOCK_TTL_MS, refreshMs: LOCK_REFRESH_MS };

export class MaildropLock {
  readonly #store: LockStore;
  readonly #accountId: string;
  readonly #owner: string;
  readonly #log: Logger;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | null = null;
  #held = false;

  private constructor(store: LockStore, accountId: string, owner: string, log: Logger, ttlMs: number) {
    this.#store = store;
    this.#accountId = accountId;
    this.#owner = owner;
    this.#log = log;
    this.#ttlMs = ttlMs;
  }

  /** The lock, or null if another session holds it. */
  static async acquire(
    store: LockStore,
    accountId: string,
    owner: string,
    log: Logger,
    onLost: () => void,
    timings: LockTimings = DEFAULT_TIMINGS,
  ): Promise<MaildropLock | null> {
    if (!(await store.lockMaildrop(accountId, owner, timings.ttlMs))) return null;
    const lock = new MaildropLock(store, accountId, owner, log, timings.ttlMs);
    lock.#held = true;
    lock.#timer = setInterval(() => {
      void lock.#refresh().then((still) => {
        if (!still && lock.#held) {
          lock.#stop();
          lock.#held = false;
          onLost();
        }
      });
    }, timings.refreshMs);
    lock.#timer.unref();
    return lock;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Renew now; false if the lock is no longer ours (then nothing may be committed). */
  async confirm(): Promise<boolean> {
    return this.#held && (await this.#refresh());
  }

  async #refresh(): Promise<boolean> {
    try {
      return await this.#store.refreshMaildropLock(this.#accountId, this.#owner, this.#ttlMs);
    } catch (e) {
      // A store hiccup is not a lost lock; the next renewal tries again.
      this.#log.warn({ err: e }, 'pop3: maildrop lock renewal failed');
      return true;
    }
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async release(): Promise<void> {
    this.#stop();
    if (!this.#held) return;
    this.#held = false;
    try {
      await this.#store.unlockMaildrop(this.#accountId, this.#owner);
    } catch (e) {
      this.#log.warn({ err: e }, 'pop3: maildrop unlock failed; it expires on its own');
    }
  }
}
