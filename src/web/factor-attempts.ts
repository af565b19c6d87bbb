// One budget of second-factor attempts per pending web session (issue 4 items 2 and 5):
// TOTP codes, recovery codes and WebAuthn assertions answered for the same pending
// login all draw on it. Used by auth-routes.ts and webauthn-routes.ts.
//
// Invariants:
// - The attempt is counted in the store BEFORE the factor is checked (login counter
//   "f:<idHash>", shared by every process and node), so concurrent guesses on one
//   session cannot outrun the count: at most MAX_FACTOR_ATTEMPTS answers are ever
//   checked per pending session.
// - The attempt that exhausts the budget without passing destroys the pending session
//   (the client gets 401 and must give the password again); a security-log event
//   'web-second-factor-locked' says so.
// - Every failure also counts against the account in the shared login throttle
//   (auth/throttle.ts), so second factors cannot be guessed across many fresh
//   sessions; while the account is backed off, no answer is even checked.
// - Never logged or recorded: the code, the assertion, the cookie or idHash.

import type { FastifyReply } from 'fastify';
import { DEFAULT_THROTTLE, type LoginThrottle } from '../auth/throttle.ts';
import type { Store } from '../store/types.ts';
import { clearSessionCookie, type WebError } from './http.ts';
import type { Current, WebSessions } from './sessions.ts';

export const MAX_FACTOR_ATTEMPTS = 5;

export type FactorAnswer = 'totp' | 'recovery' | 'webauthn';

export interface FactorAttemptsDeps {
  readonly store: Pick<Store, 'countLoginFailures' | 'clearLoginCounter' | 'deleteWebSession' | 'getAccount'>;
  readonly throttle: LoginThrottle;
  readonly sessions: WebSessions;
}

/** The store key of a pending session's attempt count (idHash is already a keyed hash). */
export const attemptKey = (idHash: string) => `f:${idHash}`;

export class FactorAttempts {
  readonly #d: FactorAttemptsDeps;

  constructor(deps: FactorAttemptsDeps) {
    this.#d = deps;
  }

  /**
   * Count one attempt on the pending session `c`, run `check` unless the budget is spent
   * or the account is backed off, and record the outcome. Resolves when the factor passed
   * (the caller completes the session); otherwise throws 401 `refused`, after ending the
   * session if this was its last attempt.
   */
  async attempt(
    c: Current,
    reply: FastifyReply,
    factor: FactorAnswer,
    refused: WebError,
    check: () => Promise<boolean>,
  ): Promise<void> {
    const { store, throttle, sessions } = this.#d;
    const { accountId, idHash } = c.session;
    const key = attemptKey(idHash);
    // A pending session lives at most PENDING_MS; counting with the throttle's forgetMs
    // keeps this call from pruning the throttle's own (longer-lived) counters early.
    const counted = await store.countLoginFailures([key], sessions.now(), DEFAULT_THROTTLE.forgetMs);
    const n = counted.find((x) => x.key === key)?.failures ?? MAX_FACTOR_ATTEMPTS + 1;
    const user = (await store.getAccount(accountId))?.address ?? accountId;
    const blocked = (await throttle.waitMs(c.client.address, user)) > 0;
    const ok = n <= MAX_FACTOR_ATTEMPTS && !blocked && (await check());
    sessions.record(c.client, { accountId, kind: 'web-second-factor', success: ok, factor, detail: null });
    if (ok) {
      await store.clearLoginCounter(key);
      return;
    }
    await throttle.failure(c.client.address, user);
    if (n >= MAX_FACTOR_ATTEMPTS) {
      await store.deleteWebSession(idHash);
      clearSessionCookie(reply);
      // Once per session: a concurrent attempt past the budget only finds it gone.
      if (n === MAX_FACTOR_ATTEMPTS)
        sessions.record(c.client, {
          accountId,
          kind: 'web-second-factor-locked',
          success: false,
          factor,
          detail: `${MAX_FACTOR_ATTEMPTS} wrong second factors; the pending login was ended`,
        });
    }
    throw refused;
  }

  /** The session ended another way (logout): its count is no longer needed. */
  async forget(idHash: string): Promise<void> {
    await this.#d.store.clearLoginCounter(attemptKey(idHash));
  }
}
