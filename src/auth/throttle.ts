// Login throttling: exponential back-off per source address (a /64 for IPv6), per
// account and per (address, account) pair (DESIGN invariant 5). A key that failed
// more than its free allowance is blocked until its last failure plus a delay that
// doubles with each further failure, up to a ceiling. Nothing is locked for good, so
// an attacker cannot lock a victim out for longer than the ceiling; a success clears
// the pair. Counts older than `forgetMs` start again.
//
// Invariants:
// - The counts live in the store (Store.countLoginFailures), so every role (IMAP,
//   POP3, submission, web) and every process or node sees the same ones.
// - A blocked attempt is answered exactly like a wrong password (the caller still
//   spends a password verification on it), so throttling is not an oracle.
// - The store holds only counts and times; the policy is here.

import { addressKey } from '../net/connection-limits.ts';
import type { LoginCounter, Store } from '../store/types.ts';

export interface ThrottlePolicy {
  /** Failures allowed before back-off starts, per kind of key. */
  readonly freeFailures: { readonly address: number; readonly account: number; readonly pair: number };
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly forgetMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  freeFailures: { address: 20, account: 10, pair: 5 },
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  forgetMs: 30 * 60_000,
};

type Kind = 'address' | 'account' | 'pair';

export class LoginThrottle {
  readonly #store: Pick<Store, 'countLoginFailures' | 'getLoginCounters' | 'clearLoginCounter'>;
  readonly #policy: ThrottlePolicy;
  readonly #now: () => number;

  constructor(
    store: Pick<Store, 'countLoginFailures' | 'getLoginCounters' | 'clearLoginCounter'>,
    policy: ThrottlePolicy = DEFAULT_THROTTLE,
    now: () => number = Date.now,
  ) {
    this.#store = store;
    this.#policy = policy;
    this.#now = now;
  }

  #keys(address: string, account: string): Map<string, Kind> {
    const a = addressKey(address);
    return new Map<string, Kind>([
      [`a:${a}`, 'address'],
      [`u:${account}`, 'account'],
      [`p:${a}|${account}`, 'pair'],
    ]);
  }

  #blockedUntil(c: LoginCounter, kind: Kind): number {
    const over = c.failures - this.#policy.freeFailures[kind];
    if (over <= 0) return 0;
    return (
      c.lastFailure +
      Math.min(this.#policy.maxDelayMs, this.#policy.baseDelayMs * 2 ** Math.min(over - 1, 30))
    );
  }

  /** Milliseconds until a login for this pair may be tried; 0 when allowed now. */
  async waitMs(address: string, account: string): Promise<number> {
    const keys = this.#keys(address, account);
    const now = this.#now();
    let wait = 0;
    for (const c of await this.#store.getLoginCounters([...keys.keys()])) {
      if (now - c.lastFailure > this.#policy.forgetMs) continue;
      wait = Math.max(wait, this.#blockedUntil(c, keys.get(c.key)!) - now);
    }
    return wait;
  }

  async failure(address: string, account: string): Promise<void> {
    const keys = this.#keys(address, account);
    await this.#store.countLoginFailures([...keys.keys()], this.#now(), this.#policy.forgetMs);
  }

  /** A correct login clears the pair; address and account counts decay on their own. */
  async success(address: string, account: string): Promise<void> {
    // Most logins have no counter to clear: a read, not a durable write, on that path.
    const key = `p:${addressKey(address)}|${account}`;
    if ((await this.#store.getLoginCounters([key])).length > 0) await this.#store.clearLoginCounter(key);
  }
}
