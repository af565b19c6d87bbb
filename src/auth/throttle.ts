// Login throttling: exponential back-off per source address (a /64 for IPv6), per
// account and per (address, account) pair (DESIGN invariant 5). A key that failed
// more than its free allowance is blocked until `blockedUntil`; each further failure
// doubles the wait up to a ceiling. Nothing is locked permanently, so an attacker
// cannot lock a victim out for longer than the ceiling, and a success clears the
// pair. Entries forget themselves after `forgetMs` without failures.
//
// Invariants:
// - A blocked attempt is answered exactly like a wrong password (the caller still
//   spends a password verification on it), so throttling is not an oracle.
// - Memory is bounded: at most `maxEntries` keys; the oldest are evicted first.
// This state is per process; issue 4 moves it to the store so every role and node
// shares it.

import { addressKey } from '../net/connection-limits.ts';

export interface ThrottlePolicy {
  /** Failures allowed before back-off starts, per kind of key. */
  readonly freeFailures: { readonly address: number; readonly account: number; readonly pair: number };
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly forgetMs: number;
  readonly maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  freeFailures: { address: 20, account: 10, pair: 5 },
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  forgetMs: 30 * 60_000,
  maxEntries: 100_000,
};

interface Entry {
  failures: number;
  blockedUntil: number;
  lastFailure: number;
}

type Kind = 'address' | 'account' | 'pair';

export class LoginThrottle {
  readonly #policy: ThrottlePolicy;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(policy: ThrottlePolicy = DEFAULT_THROTTLE, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
  }

  #keys(address: string, account: string): [Kind, string][] {
    const a = addressKey(address);
    return [
      ['address', `a:${a}`],
      ['account', `u:${account}`],
      ['pair', `p:${a}|${account}`],
    ];
  }

  /** Milliseconds until a login for this pair may be tried; 0 when allowed now. */
  waitMs(address: string, account: string): number {
    const now = this.#now();
    let wait = 0;
    for (const [, key] of this.#keys(address, account)) {
      const e = this.#entries.get(key);
      if (e === undefined) continue;
      if (now - e.lastFailure > this.#policy.forgetMs) {
        this.#entries.delete(key);
        continue;
      }
      wait = Math.max(wait, e.blockedUntil - now);
    }
    return wait;
  }

  failure(address: string, account: string): void {
    const now = this.#now();
    for (const [kind, key] of this.#keys(address, account)) {
      let e = this.#entries.get(key);
      if (e === undefined || now - e.lastFailure > this.#policy.forgetMs) {
        e = { failures: 0, blockedUntil: 0, lastFailure: now };
      }
      this.#entries.delete(key); // re-insert: Map order is recency order for eviction
      e.failures++;
      e.lastFailure = now;
      const over = e.failures - this.#policy.freeFailures[kind];
      if (over > 0) {
        const delay = Math.min(
          this.#policy.maxDelayMs,
          this.#policy.baseDelayMs * 2 ** Math.min(over - 1, 30),
        );
        e.blockedUntil = now + delay;
      }
      this.#entries.set(key, e);
    }
    while (this.#entries.size > this.#policy.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** A correct login clears the pair; address and account counts decay on their own. */
  success(address: string, account: string): void {
    this.#entries.delete(`p:${addressKey(address)}|${account}`);
  }
}
