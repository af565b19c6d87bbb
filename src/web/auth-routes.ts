// The /api/auth endpoints (issue 4 items 4 and 6): password login with a second
// factor (TOTP or a recovery code), logout, who-am-I (by cookie: /session; by access
// token: /whoami), the owner's session list and revocation, and short-lived access
// tokens for webmail and JMAP.
//
// Invariants:
// - Every body has a strict JSON schema (no extra keys, bounded strings); login
//   answers a wrong password, an unknown user and a throttled attempt alike (401
//   'invalid-credentials'; auth/password-login.ts does the same work for each).
// - A pending session (password right, second factor due) may only answer the
//   second factor, ask who it is, or log out. TOTP, recovery and WebAuthn answers
//   share one budget of five attempts per pending session (factor-attempts.ts); the
//   fifth wrong one ends it, and each wrong one counts as a failed login in the shared
//   throttle (auth/throttle.ts), so guessing codes across fresh logins backs the
//   account off; while backed off, no code is even checked. A right code moves the
//   session to a new cookie value (sessions.complete): the pre-login cookie stops working.
// - Access tokens are issued only for 'webmail' and 'jmap' (never 'admin'), only to a
//   complete session, and carry the session's public id as "sid".
// - Never logged: passwords, codes, cookies, CSRF tokens, access tokens.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PasswordLogin } from '../auth/password-login.ts';
import type { TokenSigner } from '../auth/tokens.ts';
import type { Store } from '../store/types.ts';
import type { BearerAuth } from './bearer.ts';
import { bearerOf } from './bearer.ts';
import type { FactorAttempts } from './factor-attempts.ts';
import { checkOrigin, clearSessionCookie, clientOf, setSessionCookie, WebError } from './http.ts';
import { availableFactors, checkRecoveryCode, checkTotp, type FactorDeps } from './second-factor.ts';
import { csrfToken, publicSessionId } from './session-policy.ts';
import type { Current, WebSessions } from './sessions.ts';

export interface AuthRouteDeps {
  readonly store: Store;
  readonly login: PasswordLogin;
  readonly sessions: WebSessions;
  readonly factors: FactorDeps;
  readonly signer: TokenSigner;
  /** The per-session attempt budget shared with WebAuthn (and the login throttle behind it). */
  readonly attempts: FactorAttempts;
  /** The access-token check (RFC 6750) of every API that takes Bearer tokens. */
  readonly bearer: BearerAuth;
  readonly origin: () => string;
}

const TOKEN_TTL_SECONDS = 300;

const body = (properties: Record<string, unknown>) => ({
  body: { type: 'object', additionalProperties: false, required: Object.keys(properties), properties },
});
const codeSchema = body({ code: { type: 'string', minLength: 1, maxLength: 64 } });

export function registerAuthRoutes(app: FastifyInstance, d: AuthRouteDeps): void {
  const { sessions, store } = d;
  const view = (c: Current) => ({
    id: publicSessionId(sessions.key, c.session.idHash),
    pending: c.session.pending,
    secondFactor: c.session.secondFactor,
    expiresAt: c.session.expiresAt,
    csrfToken: csrfToken(sessions.key, c.session.idHash),
  });

  app.post(
    '/api/auth/login',
    {
      schema: body({
        username: { type: 'string', minLength: 1, maxLength: 320 },
        password: { type: 'string', minLength: 1, maxLength: 1024 },
      }),
    },
    async (request, reply) => {
      checkOrigin(request, d.origin());
      const { username, password } = request.body as { username: string; password: string };
      const client = clientOf(request);
      const result = await d.login.login({
        username,
        password,
        protocol: 'web',
        ...client,
        client: client.userAgent,
      });
      if (!result.ok) throw new WebError(401, 'invalid-credentials', 'wrong username or password');
      const factors = availableFactors(await store.listFactors(result.account.id));
      const pending = factors.length > 0;
      const { value, idHash } = await sessions.create(result.account.id, client, pending);
      setSessionCookie(reply, value);
      return {
        account: result.account.address,
        pending,
        ...(pending ? { secondFactor: factors } : {}),
        id: publicSessionId(sessions.key, idHash),
        csrfToken: csrfToken(sessions.key, idHash),
      };
    },
  );

  const secondFactor = (kind: 'totp' | 'recovery') => secondFactorHandler(d, kind);
  app.post('/api/auth/totp', { schema: codeSchema }, secondFactor('totp'));
  app.post('/api/auth/recovery', { schema: codeSchema }, secondFactor('recovery'));

  app.post('/api/auth/logout', async (request, reply) => {
    const c = await sessions.require(request, true);
    await store.deleteWebSession(c.session.idHash);
    if (c.session.pending) await d.attempts.forget(c.session.idHash);
    sessions.record(c.client, {
      accountId: c.session.accountId,
      kind: 'web-logout',
      success: true,
      factor: null,
      detail: null,
    });
    clearSessionCookie(reply);
    return { ok: true };
  });

  app.get('/api/auth/session', async (request) => {
    const c = await sessions.require(request, true);
    const account = await store.getAccount(c.session.accountId);
    return { account: account?.address ?? null, ...view(c) };
  });

  // Who a webmail access token speaks for: the first consumer of Bearer tokens, and the
  // way a client checks one (401 with WWW-Authenticate when refused, bearer.ts).
  app.get('/api/auth/whoami', { preHandler: d.bearer.preHandler('webmail') }, async (request) => {
    const b = bearerOf(request);
    return {
      account: b.address,
      audience: b.claims.aud,
      session: b.claims.sid,
      scope: b.claims.scope,
      expiresAt: b.claims.exp * 1000,
    };
  });

  app.get('/api/auth/sessions', async (request) => {
    const c = await sessions.require(request, false);
    const all = await store.listWebSessions(c.session.accountId);
    // Timed-out sessions are not the owner's any more: leave them out, and clear them away.
    const live = all.filter((s) => s.idHash === c.session.idHash || sessions.alive(s));
    for (const s of all) if (!live.includes(s)) void store.deleteWebSession(s.idHash).catch(() => {});
    return {
      sessions: live.map((s) => ({
        id: publicSessionId(sessions.key, s.idHash),
        current: s.idHash === c.session.idHash,
        pending: s.pending,
        createdAt: s.createdAt,
        lastSeenAt: s.idHash === c.session.idHash ? c.session.lastSeenAt : s.lastSeenAt,
        expiresAt: s.expiresAt,
        address: s.address,
        userAgent: s.userAgent,
      })),
    };
  });

  app.delete(
    '/api/auth/sessions/:id',
    {
      schema: {
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } },
        },
      },
    },
    async (request, reply) => {
      const c = await sessions.require(request, false);
      const { id } = request.params as { id: string };
      const all = await store.listWebSessions(c.session.accountId);
      const target = all.find((s) => publicSessionId(sessions.key, s.idHash) === id);
      if (target === undefined) throw new WebError(404, 'not-found', 'no such session');
      await store.deleteWebSession(target.idHash);
      sessions.record(c.client, {
        accountId: c.session.accountId,
        kind: 'web-session-revoked',
        success: true,
        factor: null,
        detail: id,
      });
      if (target.idHash === c.session.idHash) clearSessionCookie(reply);
      return { ok: true };
    },
  );

  app.post(
    '/api/auth/token',
    { schema: body({ audience: { type: 'string', enum: ['webmail', 'jmap'] } }) },
    async (request) => {
      const c = await sessions.require(request, false);
      const { audience } = request.body as { audience: 'webmail' | 'jmap' };
      const sid = publicSessionId(sessions.key, c.session.idHash);
      const token = await d.signer.issue({ sub: c.session.accountId, sid, aud: audience }, TOKEN_TTL_SECONDS);
      return { token, tokenType: 'Bearer', audience, expiresIn: TOKEN_TTL_SECONDS };
    },
  );
}

/** POST /api/auth/totp and /api/auth/recovery: complete a pending session. */
function secondFactorHandler(d: AuthRouteDeps, kind: 'totp' | 'recovery') {
  const { sessions } = d;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const c = await sessions.require(request, true);
    if (!c.session.pending) throw new WebError(409, 'not-pending', 'this session needs no second factor');
    const { code } = request.body as { code: string };
    const { accountId } = c.session;
    const refused = new WebError(401, 'invalid-code', 'wrong or already used code');
    await d.attempts.attempt(c, reply, kind, refused, () =>
      kind === 'totp' ? checkTotp(d.factors, accountId, code) : checkRecoveryCode(d.factors, accountId, code),
    );
    return sessions.complete(reply, c.session, kind);
  };
}
