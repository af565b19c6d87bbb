// The account owner's /api/account endpoints (issue 4 items 1, 3 and 7): changing
// the password, app passwords (list, create, revoke) and the owner's security log.
//
// Invariants:
// - Complete sessions only (a pending one gets 401), and every state change needs
//   the session's CSRF token and our Origin (WebSessions.require), as /api/auth does.
// - A password change needs the current password: a wrong one counts as a failed
//   login in the shared throttle (auth/throttle.ts) and gets one generic 403; while
//   the account is backed off, even the right one is refused the same way. The new
//   one goes through the administrator's rules (admin/accounts.ts setPassword:
//   policy, no recent reuse, audit), then every OTHER web session of the account ends.
// - App passwords are made and revoked by admin/app-passwords.ts (audit + security
//   log, protocol 'web'); the password is returned once, hashes never leave.
// - The security log shows only the caller's own events, newest first, PAGE at a time.
// - Never logged or returned: passwords, hashes, cookies, CSRF tokens.

import type { FastifyInstance } from 'fastify';
import { setPassword } from '../admin/accounts.ts';
import { addAppPassword, type ChangeOrigin, revokeAppPassword } from '../admin/app-passwords.ts';
import type { Runtime } from '../app/runtime.ts';
import type { AuditLog } from '../audit/log.ts';
import { APP_PASSWORD_SCOPES } from '../auth/app-password.ts';
import { LoginThrottle } from '../auth/throttle.ts';
import type { Config } from '../config/index.ts';
import { SealpostError } from '../core/errors.ts';
import { type MasterKeyRing, verifyPassword } from '../crypto/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Account, AppPasswordRecord, SecurityEvent, Store } from '../store/types.ts';
import { forbidden, unauthorised, WebError } from './http.ts';
import type { Current, WebSessions } from './sessions.ts';

export interface AccountRouteDeps {
  readonly config: Config;
  readonly store: Store;
  readonly keys: MasterKeyRing;
  readonly logger: Logger;
  readonly sessions: WebSessions;
  /** The process's one audit log (runtime.ts). */
  readonly audit: AuditLog;
}

export const SECURITY_LOG_PAGE = 50;
const DAY_MS = 86_400_000;

const passwordSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['current', 'new'],
    properties: {
      current: { type: 'string', minLength: 1, maxLength: 1024 },
      new: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
};

const appPasswordSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'scopes'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 100 },
      scopes: {
        type: 'array',
        minItems: 1,
        maxItems: APP_PASSWORD_SCOPES.length,
        items: { type: 'string', enum: [...APP_PASSWORD_SCOPES] },
      },
      expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 },
      networks: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 64 } },
    },
  },
};

const idParams = {
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^[a-z2-7]{1,32}$' } },
  },
};

const logQuery = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { before: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } },
  },
};

/** Admin-layer refusals become the JSON answers of http.ts. */
function asWebError(err: unknown): unknown {
  if (!(err instanceof SealpostError)) return err;
  if (err.code === 'input.invalid') return new WebError(400, 'invalid', err.message);
  if (err.code === 'store.not-found') return new WebError(404, 'not-found', 'no such app password');
  if (err.code === 'store.conflict') return new WebError(409, 'conflict', err.message);
  return err;
}

const appPasswordView = (r: AppPasswordRecord) => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes,
  expiresAt: r.expiresAt,
  networks: r.allowedNetworks,
  createdAt: r.createdAt,
  revokedAt: r.revokedAt,
  lastUsedAt: r.lastUsedAt,
  lastUsedAddress: r.lastUsedAddress,
});

const eventView = (e: SecurityEvent) => ({
  seq: e.seq ?? null,
  at: e.at,
  kind: e.kind,
  protocol: e.protocol,
  address: e.address,
  client: e.client,
  success: e.success,
  factor: e.factor,
  detail: e.detail,
});

export function registerAccountRoutes(app: FastifyInstance, d: AccountRouteDeps): void {
  const { sessions, store } = d;
  // The admin operations take a Runtime; the web role has every part of one but closes nothing.
  const rt: Runtime = { ...d, close: async () => {} };
  const throttle = new LoginThrottle(store);
  const owner = async (request: Parameters<WebSessions['require']>[0]) => {
    const c = await sessions.require(request, false);
    const account = await store.getAccount(c.session.accountId);
    if (account === null) throw unauthorised();
    const via: ChangeOrigin = {
      protocol: 'web',
      address: c.client.address,
      client: c.client.userAgent.slice(0, 200) || null,
    };
    return { c, account, via, actor: `user:${account.address}` };
  };

  app.post('/api/account/password', { schema: passwordSchema }, async (request) => {
    const { c, account, actor } = await owner(request);
    const body = request.body as { current: string; new: string };
    await checkCurrentPassword(d, throttle, c, account, body.current);
    try {
      await setPassword(rt, actor, account.address, body.new);
    } catch (err) {
      throw asWebError(err);
    }
    sessions.record(c.client, {
      accountId: account.id,
      kind: 'password-changed',
      success: true,
      factor: 'password',
      detail: null,
    });
    const ended = await store.deleteWebSessions(account.id, c.session.idHash);
    return { ok: true, sessionsEnded: ended };
  });

  app.get('/api/account/app-passwords', async (request) => {
    const { account } = await owner(request);
    return { appPasswords: (await store.listAppPasswords(account.id)).map(appPasswordView) };
  });

  app.post('/api/account/app-passwords', { schema: appPasswordSchema }, async (request, reply) => {
    const { account, via, actor } = await owner(request);
    const body = request.body as {
      name: string;
      scopes: string[];
      expiresInDays?: number;
      networks?: string[];
    };
    const now = sessions.now();
    try {
      const input = {
        address: account.address,
        name: body.name,
        scopes: body.scopes,
        expiresAt: body.expiresInDays === undefined ? null : now + body.expiresInDays * DAY_MS,
        allowedNetworks: body.networks === undefined || body.networks.length === 0 ? null : body.networks,
      };
      const { record, password } = await addAppPassword(rt, actor, input, now, via);
      reply.status(201);
      return { ...appPasswordView(record), password };
    } catch (err) {
      throw asWebError(err);
    }
  });

  app.delete('/api/account/app-passwords/:id', { schema: idParams }, async (request) => {
    const { account, via, actor } = await owner(request);
    const { id } = request.params as { id: string };
    try {
      await revokeAppPassword(rt, actor, account.address, id, sessions.now(), via);
    } catch (err) {
      throw asWebError(err);
    }
    return { ok: true };
  });

  app.get('/api/account/security-log', { schema: logQuery }, async (request) => {
    const { account } = await owner(request);
    const { before } = request.query as { before?: string };
    const events = await store.listSecurityEvents(
      account.id,
      SECURITY_LOG_PAGE,
      before === undefined ? undefined : Number(before),
    );
    const last = events.at(-1);
    const more = events.length === SECURITY_LOG_PAGE && last?.seq !== undefined;
    return { events: events.map(eventView), nextBefore: more ? (last?.seq ?? null) : null };
  });
}

/**
 * The current password, checked like a login: always verified (same work either
 * way), refused while the account is backed off, and a failure counts in the throttle.
 */
async function checkCurrentPassword(
  d: AccountRouteDeps,
  throttle: LoginThrottle,
  c: Current,
  account: Account,
  password: string,
): Promise<void> {
  const blocked = (await throttle.waitMs(c.client.address, account.address)) > 0;
  const right = await verifyPassword(account.passwordHash, password);
  if (right && !blocked) return;
  await throttle.failure(c.client.address, account.address);
  d.sessions.record(c.client, {
    accountId: account.id,
    kind: 'password-change-failed',
    success: false,
    factor: 'password',
    detail: null,
  });
  throw forbidden('the current password is not right, or too many attempts; try again later');
}
