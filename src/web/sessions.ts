// Web sessions over the store (DESIGN invariant 6): creating one at login, finding
// and checking the caller's on every request, and ending them.
//
// Invariants:
// - The store sees only idHash = HMAC(sessionKey, cookie value); the cookie value
//   exists only in the Set-Cookie header and the browser.
// - Every request with a session runs checkSession; a refused session (expired,
//   idle, pending too long, or used from another client) is deleted from the store
//   before the 401 is sent, so a stolen cookie also ends its owner's session.
// - A state-changing request needs the session's CSRF token (and, by http.ts, a
//   matching Origin when one is sent); otherwise 403 and nothing changes.
// - Completing the second factor never upgrades a session in place: complete() moves
//   it to a new cookie value and idHash (store.rotateWebSession), so the old cookie
//   and its CSRF token stop working.
// - Nothing here logs the cookie value, the idHash or the CSRF token.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log/logger.ts';
import type { SecurityEvent, Store, WebSession } from '../store/types.ts';
import {
  checkOrigin,
  clientOf,
  csrfHeader,
  forbidden,
  SESSION_COOKIE,
  STATE_CHANGING,
  setSessionCookie,
  unauthorised,
} from './http.ts';
import {
  type Client,
  checkSession,
  csrfMatches,
  csrfToken,
  newSessionValue,
  publicSessionId,
  type SessionPolicy,
  sessionIdHash,
  sessionTimeout,
} from './session-policy.ts';

export interface Current {
  readonly session: WebSession;
  readonly client: Client;
}

export interface WebSessionsDeps {
  readonly store: Store;
  readonly key: Buffer;
  readonly policy: SessionPolicy;
  readonly now: () => number;
  readonly logger: Logger;
  /** The server's https origin (state-changing requests from elsewhere are refused). */
  readonly origin: () => string;
}

/** What a completed login answers: the new session's public id and CSRF token. */
export interface CompletedSession {
  readonly id: string;
  readonly pending: false;
  readonly secondFactor: string;
  readonly expiresAt: number;
  readonly csrfToken: string;
}

export type WebEvent = Omit<SecurityEvent, 'at' | 'protocol' | 'address' | 'client'>;

export class WebSessions {
  readonly #d: WebSessionsDeps;

  constructor(deps: WebSessionsDeps) {
    this.#d = deps;
  }

  get key(): Buffer {
    return this.#d.key;
  }

  /** False once the session has timed out (it is refused on use; listings leave it out). */
  alive(session: WebSession): boolean {
    return sessionTimeout(session, this.#d.now(), this.#d.policy) === null;
  }

  now(): number {
    return this.#d.now();
  }

  /** Record a security event for this client; never awaited by the answer's timing. */
  record(client: Client, event: WebEvent): void {
    const e: SecurityEvent = {
      ...event,
      at: this.#d.now(),
      protocol: 'web',
      address: client.address,
      client: client.userAgent.slice(0, 200) || null,
    };
    this.#d.store.appendSecurityEvent(e).catch((err: unknown) => {
      this.#d.logger.error({ err }, 'security log: could not record an event');
    });
  }

  /** A new session for the account; returns the cookie value. */
  async create(
    accountId: string,
    client: Client,
    pending: boolean,
  ): Promise<{ value: string; idHash: string }> {
    const value = newSessionValue();
    const idHash = sessionIdHash(this.#d.key, value);
    if (idHash === null) throw new Error('web: a fresh session value did not hash');
    const at = this.#d.now();
    await this.#d.store.createWebSession({
      idHash,
      accountId,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at + this.#d.policy.absoluteMs,
      address: client.address,
      userAgent: client.userAgent,
      pending,
      secondFactor: null,
      challenge: null,
    });
    return { value, idHash };
  }

  /**
   * The second factor passed: the pending session is replaced by a new one with a new
   * cookie value (OWASP session management: a new id on every privilege change, so a
   * value fixed before login is worthless after it), the old one is deleted in the same
   * store transaction, and the new cookie is set. Returns the new session's view with
   * its CSRF token (derived from the new idHash).
   */
  async complete(reply: FastifyReply, current: WebSession, factor: string): Promise<CompletedSession> {
    const value = newSessionValue();
    const idHash = sessionIdHash(this.#d.key, value);
    if (idHash === null) throw new Error('web: a fresh session value did not hash');
    const now = this.#d.now();
    await this.#d.store.rotateWebSession(current.idHash, {
      ...current,
      idHash,
      lastSeenAt: Math.max(now, current.lastSeenAt),
      pending: false,
      secondFactor: factor,
      challenge: null,
    });
    setSessionCookie(reply, value);
    return {
      id: publicSessionId(this.#d.key, idHash),
      pending: false,
      secondFactor: factor,
      expiresAt: current.expiresAt,
      csrfToken: csrfToken(this.#d.key, idHash),
    };
  }

  /**
   * The caller's session, checked; throws 401 without a valid one and 403 for a
   * state-changing request without the right CSRF token. `pendingOk`: a session
   * still waiting for its second factor is accepted.
   */
  async require(request: FastifyRequest, pendingOk: boolean): Promise<Current> {
    const value = request.cookies[SESSION_COOKIE];
    const idHash = value === undefined ? null : sessionIdHash(this.#d.key, value);
    if (idHash === null) throw unauthorised();
    const session = await this.#d.store.getWebSession(idHash);
    if (session === null) throw unauthorised();
    const client = clientOf(request);
    const now = this.#d.now();
    const check = checkSession(session, client, now, this.#d.policy);
    if (!check.ok) {
      await this.#d.store.deleteWebSession(idHash);
      this.#d.logger.info({ reason: check.reason, account: session.accountId }, 'web session ended');
      if (check.reason === 'foreign') {
        this.record(client, {
          accountId: session.accountId,
          kind: 'web-session-foreign',
          success: false,
          factor: null,
          detail: 'session used from another client; ended',
        });
      }
      throw unauthorised();
    }
    if (session.pending && !pendingOk) throw unauthorised();
    if (STATE_CHANGING.has(request.method)) {
      checkOrigin(request, this.#d.origin());
      if (!csrfMatches(this.#d.key, idHash, csrfHeader(request)))
        throw forbidden('missing or wrong CSRF token');
    }
    await this.#d.store.touchWebSession(idHash, now);
    return { session: { ...session, lastSeenAt: now }, client };
  }
}
