// Managing second factors over HTTP (issue 4 item 2): listing them, enrolling TOTP
// (RFC 6238, auth/totp.ts) and recovery codes (auth/recovery-codes.ts), and removing
// a factor. WebAuthn enrolment and login are in webauthn-routes.ts.
//
// Invariants:
// - Only a complete (not pending) session may list or change factors; every state
//   change needs the session's CSRF token and our Origin (sessions.ts).
// - Secrets leave the server once: the TOTP secret in the answer that starts its
//   enrolment, recovery codes in the answer that generates them. Listing shows no
//   secret, hash or public key. A pending TOTP secret is kept only sealed under the
//   account key (bound to the factor id it will get) in the session's challenge.
// - A TOTP factor is stored only after a code from it verified; its lastStep is that
//   code's step, so the enrolment code cannot be replayed at login.
// - Removing a factor that leaves the account without TOTP or WebAuthn (recovery
//   codes alone are a backup, not a factor) needs the current password. A removal
//   ends every other session of the account.
// - The security log gets 'factor-added' and 'factor-removed'; never a secret.

import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Secret } from 'otpauth';
import { hashRecoveryCode, newRecoveryCodes } from '../auth/recovery-codes.ts';
import { newTotpSecret, openTotpSecret, sealTotpSecret, totpUri, verifyTotp } from '../auth/totp.ts';
import type { AuthFactor, FactorKind } from '../store/types.ts';
import { WebError } from './http.ts';
import type { WebServerDeps } from './server.ts';
import { recoveryCodeKey } from './session-policy.ts';
import type { Current, WebSessions } from './sessions.ts';

export const RECOVERY_CODE_COUNT = 10;
const TOTP_CHALLENGE = 'totp:';

/** A strict JSON body schema: every listed key required, no other key allowed. */
export const strictBody = (properties: Record<string, unknown>, optional: readonly string[] = []) => ({
  body: {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
  },
});
export const nameSchema = { type: 'string', minLength: 1, maxLength: 64 };

/** A factor row with every kind-specific field null; the caller sets its own. */
export function newFactor(
  accountId: string,
  kind: FactorKind,
  name: string,
  at: number,
  fields: Partial<AuthFactor> = {},
): AuthFactor {
  return {
    id: randomUUID(),
    accountId,
    kind,
    name,
    createdAt: at,
    lastUsedAt: null,
    sealedSecret: null,
    lastStep: null,
    credentialId: null,
    publicKey: null,
    counter: null,
    transports: null,
    codeHashes: null,
    ...fields,
  };
}

/** Record a factor event in the owner's security log. */
export function recordFactor(
  sessions: WebSessions,
  c: Current,
  kind: 'factor-added' | 'factor-removed',
  f: AuthFactor,
) {
  sessions.record(c.client, {
    accountId: c.session.accountId,
    kind,
    success: true,
    factor: f.kind,
    detail: f.name.slice(0, 64),
  });
}

function publicView(f: AuthFactor) {
  return {
    id: f.id,
    kind: f.kind,
    name: f.name,
    createdAt: f.createdAt,
    lastUsedAt: f.lastUsedAt,
    ...(f.kind === 'recovery' ? { remaining: f.codeHashes?.length ?? 0 } : {}),
  };
}

/** The pending TOTP enrolment kept in the challenge: factor id, name, sealed secret. */
function parseTotpChallenge(challenge: string | null) {
  if (challenge === null || !challenge.startsWith(TOTP_CHALLENGE)) return null;
  const [id, name, sealed] = challenge.slice(TOTP_CHALLENGE.length).split(':');
  if (id === undefined || name === undefined || sealed === undefined) return null;
  return {
    id,
    name: Buffer.from(name, 'base64url').toString('utf8'),
    sealed: new Uint8Array(Buffer.from(sealed, 'base64url')),
  };
}

export function registerFactorRoutes(app: FastifyInstance, d: WebServerDeps, sessions: WebSessions): void {
  const { store, accountKeys } = d;
  const recoveryKey = recoveryCodeKey(d.keys);
  const now = () => sessions.now();
  const complete = (request: FastifyRequest) => sessions.require(request, false);

  app.get('/api/auth/factors', async (request) => {
    const c = await complete(request);
    return { factors: (await store.listFactors(c.session.accountId)).map(publicView) };
  });

  app.post('/api/auth/factors/totp', { schema: strictBody({ name: nameSchema }) }, async (request) => {
    const c = await complete(request);
    const { name } = request.body as { name: string };
    const { accountId, idHash } = c.session;
    const account = await store.getAccount(accountId);
    if (account === null) throw new WebError(404, 'not-found', 'no such account');
    const id = randomUUID();
    const secret = newTotpSecret();
    const key = await accountKeys.current(accountId);
    const sealed = sealTotpSecret(key.key, secret, accountId, id);
    const nameText = Buffer.from(name, 'utf8').toString('base64url');
    const challenge = `${TOTP_CHALLENGE}${id}:${nameText}:${Buffer.from(sealed).toString('base64url')}`;
    await store.setWebSessionChallenge(idHash, challenge);
    const answer = {
      secret: new Secret({ buffer: Uint8Array.from(secret).buffer }).base32,
      uri: totpUri({ secret, account: account.address }),
    };
    secret.fill(0);
    return answer;
  });

  app.post(
    '/api/auth/factors/totp/confirm',
    { schema: strictBody({ code: { type: 'string', minLength: 1, maxLength: 64 } }) },
    async (request) => {
      const c = await complete(request);
      const { code } = request.body as { code: string };
      const { accountId, idHash } = c.session;
      const pending = parseTotpChallenge(c.session.challenge);
      if (pending === null) throw new WebError(409, 'no-enrolment', 'start a TOTP enrolment first');
      const key = await accountKeys.current(accountId);
      const secret = openTotpSecret(key.key, pending.sealed, accountId, pending.id);
      const result = verifyTotp({ secret, code, now: now(), lastStep: null });
      secret.fill(0);
      if (!result.ok) throw new WebError(400, 'invalid-code', 'the code does not match the new secret');
      const factor = newFactor(accountId, 'totp', pending.name, now(), {
        id: pending.id,
        sealedSecret: pending.sealed,
        lastStep: result.step,
      });
      await store.addFactor(factor);
      await store.setWebSessionChallenge(idHash, null);
      recordFactor(sessions, c, 'factor-added', factor);
      return { factor: publicView(factor) };
    },
  );

  app.post('/api/auth/factors/recovery', async (request) => {
    const c = await complete(request);
    const { accountId } = c.session;
    const codes = newRecoveryCodes(RECOVERY_CODE_COUNT);
    const factor = newFactor(accountId, 'recovery', 'Recovery codes', now(), {
      codeHashes: codes.map((code) => hashRecoveryCode(recoveryKey, code)),
    });
    await store.addFactor(factor);
    for (const old of await store.listFactors(accountId)) {
      if (old.kind === 'recovery' && old.id !== factor.id) await store.removeFactor(accountId, old.id);
    }
    recordFactor(sessions, c, 'factor-added', factor);
    return { factor: publicView(factor), codes };
  });

  app.delete(
    '/api/auth/factors/:id',
    {
      schema: {
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        ...strictBody({ password: { type: 'string', minLength: 1, maxLength: 1024 } }, ['password']),
      },
    },
    async (request) => {
      const c = await complete(request);
      const { id } = request.params as { id: string };
      const password = (request.body as { password?: string } | undefined)?.password;
      const { accountId, idHash } = c.session;
      const factors = await store.listFactors(accountId);
      const target = factors.find((f) => f.id === id);
      if (target === undefined) throw new WebError(404, 'not-found', 'no such factor');
      const left = factors.filter((f) => f.id !== id && (f.kind === 'totp' || f.kind === 'webauthn'));
      if (left.length === 0 && !(await passwordMatches(d, c, password))) {
        throw new WebError(403, 'reauth-required', 'removing the last second factor needs your password');
      }
      await store.removeFactor(accountId, id);
      const ended = await store.deleteWebSessions(accountId, idHash);
      recordFactor(sessions, c, 'factor-removed', target);
      return { ok: true, sessionsEnded: ended };
    },
  );
}

/** Re-authentication: the account's current password (throttled like a login). */
async function passwordMatches(d: WebServerDeps, c: Current, password: string | undefined) {
  if (password === undefined) return false;
  const account = await d.store.getAccount(c.session.accountId);
  if (account === null) return false;
  const result = await d.login.login({
    username: account.address,
    password,
    protocol: 'web',
    address: c.client.address,
    client: c.client.userAgent,
  });
  return result.ok && result.account.id === account.id && result.factor === 'password';
}
