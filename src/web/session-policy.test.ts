import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebSession } from '../store/types.ts';
import {
  checkSession,
  csrfMatches,
  csrfToken,
  newSessionValue,
  PENDING_MS,
  publicSessionId,
  type SessionPolicy,
  sameClient,
  sessionIdHash,
} from './session-policy.ts';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const policy: SessionPolicy = { idleMs: 1 * MIN, absoluteMs: 12 * 60 * MIN, binding: 'strict' };
const client = { address: '192.0.2.10', userAgent: 'UA/1' };

function session(over: Partial<WebSession> = {}): WebSession {
  return {
    idHash: 'a'.repeat(64),
    accountId: 'acc',
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + policy.absoluteMs,
    address: client.address,
    userAgent: client.userAgent,
    pending: false,
    secondFactor: null,
    challenge: null,
    ...over,
  };
}

describe('checkSession (injected clock)', () => {
  it('accepts a fresh session from its own client', () => {
    assert.deepEqual(checkSession(session(), client, T0 + 1000, policy), { ok: true });
  });
  it('ends a session idle for the idle timeout, not a moment before', () => {
    assert.equal(checkSession(session(), client, T0 + MIN - 1, policy).ok, true);
    assert.deepEqual(checkSession(session(), client, T0 + MIN, policy), { ok: false, reason: 'idle' });
  });
  it('keeps a session that was used recently alive until the absolute timeout', () => {
    const late = T0 + policy.absoluteMs - 1000;
    assert.equal(checkSession(session({ lastSeenAt: late - 1000 }), client, late, policy).ok, true);
    const over = T0 + policy.absoluteMs;
    assert.deepEqual(checkSession(session({ lastSeenAt: over - 1000 }), client, over, policy), {
      ok: false,
      reason: 'expired',
    });
  });
  it('gives a pending session only a few minutes for its second factor', () => {
    const p = session({ pending: true, lastSeenAt: T0 + PENDING_MS - 1000 });
    const slow = { ...policy, idleMs: 60 * MIN };
    assert.equal(checkSession(p, client, T0 + PENDING_MS - 1, slow).ok, true);
    assert.deepEqual(checkSession(p, client, T0 + PENDING_MS, slow), {
      ok: false,
      reason: 'pending-expired',
    });
  });
  it('refuses another client: strict needs the same address and user agent', () => {
    assert.deepEqual(checkSession(session(), { ...client, userAgent: 'UA/2' }, T0, policy), {
      ok: false,
      reason: 'foreign',
    });
    assert.equal(checkSession(session(), { ...client, address: '192.0.2.11' }, T0, policy).ok, false);
  });
});

describe('sameClient (relaxed)', () => {
  it('allows the same /24 and /64 with the same user agent only', () => {
    const s = { address: '192.0.2.10', userAgent: 'UA' };
    assert.equal(sameClient(s, { address: '192.0.2.200', userAgent: 'UA' }, 'relaxed'), true);
    assert.equal(sameClient(s, { address: '192.0.3.10', userAgent: 'UA' }, 'relaxed'), false);
    assert.equal(sameClient(s, { address: '192.0.2.200', userAgent: 'UB' }, 'relaxed'), false);
    const v6 = { address: '2001:db8:1:2::1', userAgent: 'UA' };
    assert.equal(sameClient(v6, { address: '2001:db8:1:2:ffff::9', userAgent: 'UA' }, 'relaxed'), true);
    assert.equal(sameClient(v6, { address: '2001:db8:1:3::1', userAgent: 'UA' }, 'relaxed'), false);
    assert.equal(sameClient(v6, { address: '2001:db8:1:2:ffff::9', userAgent: 'UA' }, 'strict'), false);
  });
});

describe('session values, CSRF tokens, public ids', () => {
  const key = Buffer.alloc(32, 7);
  it('hashes only well-formed cookie values', () => {
    const v = newSessionValue();
    assert.equal(Buffer.from(v, 'base64url').length, 32);
    assert.match(sessionIdHash(key, v) ?? '', /^[0-9a-f]{64}$/);
    assert.equal(sessionIdHash(key, `${v}x`), null);
    assert.equal(sessionIdHash(key, 'a;b'), null);
  });
  it('accepts exactly the CSRF token of this session', () => {
    const h = 'b'.repeat(64);
    assert.equal(csrfMatches(key, h, csrfToken(key, h)), true);
    assert.equal(csrfMatches(key, 'c'.repeat(64), csrfToken(key, h)), false);
    assert.equal(csrfMatches(key, h, undefined), false);
    assert.equal(csrfMatches(key, h, 'short'), false);
    assert.match(publicSessionId(key, h), /^[0-9a-f]{16}$/);
  });
});
