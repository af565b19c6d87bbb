// Web session rules (DESIGN invariant 6), as pure functions over an injected clock:
// the cookie value, its keyed hash (the only form the store keeps), the CSRF token,
// the public id shown to the owner, and the check run on every request.
//
// Invariants:
// - The cookie value is 32 random bytes (base64url); the store holds only
//   HMAC(sessionKey, value), so a database dump cannot be replayed as a cookie.
// - The session key is derived from the current master key (deriveKey, its own
//   purpose string): rotating the master key ends every web session, which is safe.
// - checkSession refuses, in this order: past the absolute timeout, idle too long, a
//   pending (second factor due) session older than PENDING_MS, and a session used
//   from another client under the binding policy. The caller destroys the session
//   on every refusal.
// - CSRF tokens and public ids are keyed hashes of idHash under the session key,
//   with their own domain prefixes; neither reveals idHash.

import { randomBytes } from 'node:crypto';
import { constantTimeEqual, deriveKey, hmacHex, type MasterKeyRing } from '../crypto/index.ts';
import { addressKey } from '../net/connection-limits.ts';
import type { WebSession } from '../store/types.ts';

export const SESSION_KEY_INFO = 'sealpost web-session v1';
/** Recovery codes are hashed under this purpose key (auth/recovery-codes.ts). */
/** How long a password-only (pending) session may wait for its second factor. */
export const PENDING_MS = 5 * 60_000;
const SESSION_VALUE_BYTES = 32;

export type Binding = 'strict' | 'relaxed';

export interface SessionPolicy {
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly binding: Binding;
}

export interface Client {
  readonly address: string;
  readonly userAgent: string;
}

export type SessionCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'expired' | 'idle' | 'pending-expired' | 'foreign' };

export function sessionKey(ring: MasterKeyRing): Buffer {
  return deriveKey(ring.current.key, SESSION_KEY_INFO);
}

export { recoveryCodeKey } from '../auth/recovery-codes.ts';

/** A fresh cookie value: 32 random bytes, base64url. */
export function newSessionValue(): string {
  return randomBytes(SESSION_VALUE_BYTES).toString('base64url');
}

/** The store's key for a cookie value, or null when the value cannot be one of ours. */
export function sessionIdHash(key: Buffer, value: string): string | null {
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) return null;
  return hmacHex(key, `session\0${value}`);
}

export function csrfToken(key: Buffer, idHash: string): string {
  return hmacHex(key, `csrf${idHash}`);
}

export function csrfMatches(key: Buffer, idHash: string, given: string | undefined): boolean {
  if (given === undefined || given.length !== 64) return false;
  return constantTimeEqual(Buffer.from(csrfToken(key, idHash)), Buffer.from(given));
}

/** The short id the owner sees and revokes by (16 hex characters). */
export function publicSessionId(key: Buffer, idHash: string): string {
  return hmacHex(key, `public${idHash}`).slice(0, 16);
}

/** Same client under the policy: strict → same address; relaxed → same /24 (IPv4) or /64 (IPv6). */
export function sameClient(
  session: Pick<WebSession, 'address' | 'userAgent'>,
  client: Client,
  binding: Binding,
) {
  if (session.userAgent !== client.userAgent) return false;
  if (binding === 'strict') return session.address === client.address;
  return prefix(session.address) === prefix(client.address);
}

function prefix(address: string): string {
  const key = addressKey(address); // IPv4 (mapped ones too) as is, IPv6 as its /64
  const v4 = /^(\d+\.\d+\.\d+)\.\d+$/.exec(key);
  return v4 ? `${v4[1]}.0/24` : key;
}

/** Why a session has timed out (absolute, idle, or a second factor never given), or null. */
export function sessionTimeout(
  session: WebSession,
  now: number,
  policy: SessionPolicy,
): 'expired' | 'idle' | 'pending-expired' | null {
  if (now >= session.expiresAt || now >= session.createdAt + policy.absoluteMs) return 'expired';
  if (now >= session.lastSeenAt + policy.idleMs) return 'idle';
  if (session.pending && now >= session.createdAt + PENDING_MS) return 'pending-expired';
  return null;
}

export function checkSession(
  session: WebSession,
  client: Client,
  now: number,
  policy: SessionPolicy,
): SessionCheck {
  const timedOut = sessionTimeout(session, now, policy);
  if (timedOut !== null) return { ok: false, reason: timedOut };
  if (!sameClient(session, client, policy.binding)) return { ok: false, reason: 'foreign' };
  return { ok: true };
}
