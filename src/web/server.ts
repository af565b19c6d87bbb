// The `web` role: an HTTPS-only Fastify server (DESIGN: Fastify) for the /api/auth
// endpoints. The caller opens its listener through the readiness-gated open() of
// app/start.ts; in handoff mode it is given accepted sockets instead.
//
// Invariants:
// - HTTPS only, under the one TLS policy (tls/), following certificate reloads.
// - Small bodies (BODY_LIMIT), JSON only (the text/plain parser is removed, so a
//   cross-site "simple" form post cannot reach a route), schemas reject unknown
//   keys instead of stripping them, prototype poisoning is an error.
// - Every response, errors included, carries the security headers of http.ts;
//   an unexpected error becomes 500 with an incident id and no internal text.
// - Timed-out sessions are swept from the store every minute (session-sweeper.ts);
//   the sweep stops before the server closes.

import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type net from 'node:net';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyError } from 'fastify';
import type { AuditLog } from '../audit/log.ts';
import type { PasswordLogin } from '../auth/password-login.ts';
import { LoginThrottle } from '../auth/throttle.ts';
import { tokenSigner, tokenVerifier } from '../auth/tokens.ts';
import type { Config } from '../config/index.ts';
import type { MasterKeyRing } from '../crypto/index.ts';
import type { Logger } from '../log/logger.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import { ConnectionLimiter } from '../net/connection-limits.ts';
import type { Store } from '../store/types.ts';
import { attachToTlsServer, type CertificateSource, tlsServerOptions } from '../tls/index.ts';
import { registerAccountRoutes } from './account-routes.ts';
import { registerAuthRoutes } from './auth-routes.ts';
import { BearerAuth } from './bearer.ts';
import { FactorAttempts } from './factor-attempts.ts';
import { registerFactorRoutes } from './factor-routes.ts';
import { SECURITY_HEADERS, WebError } from './http.ts';
import { recoveryCodeKey, sessionKey } from './session-policy.ts';
import { startSessionSweeper } from './session-sweeper.ts';
import { WebSessions } from './sessions.ts';
import { registerWebAuthnRoutes } from './webauthn-routes.ts';
import { registerWellKnown } from './well-known.ts';

export const BODY_LIMIT = 8 * 1024;

export interface WebServerDeps {
  readonly config: Config;
  readonly store: Store;
  readonly keys: MasterKeyRing;
  readonly accountKeys: AccountKeys;
  readonly certificates: CertificateSource;
  readonly login: PasswordLogin;
  readonly logger: Logger;
  /** The process's one audit log (runtime.ts): admin-like changes the owner makes are audited. */
  readonly audit: AuditLog;
  readonly now?: () => number;
  /** How often expired sessions are swept from the store (default SWEEP_INTERVAL_MS). */
  readonly sweepIntervalMs?: number;
}

export interface WebServer {
  readonly server: https.Server;
  /** Sweep expired sessions now (the timer does it every sweepIntervalMs). */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/** https://hostname[:port] as a browser sends it in Origin (no port for 443). */
export function webOrigin(hostname: string, port: number): string {
  return port === 443 ? `https://${hostname}` : `https://${hostname}:${port}`;
}

export async function createWebServer(d: WebServerDeps): Promise<WebServer> {
  const now = d.now ?? Date.now;
  const server = https.createServer(tlsServerOptions(d.certificates));
  const detach = attachToTlsServer(server, d.certificates);
  // Per-address and total connection limits, before the TLS handshake (DESIGN invariant 11).
  const limiter = new ConnectionLimiter({
    maxPerAddress: d.config.web.max_connections_per_address,
    maxTotal: d.config.web.max_connections,
  });
  server.on('connection', (socket: net.Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    if (!limiter.tryAcquire(address)) {
      socket.destroy();
      return;
    }
    socket.once('close', () => limiter.release(address));
  });
  const app = Fastify({
    serverFactory: (handler) => server.on('request', handler),
    bodyLimit: BODY_LIMIT,
    logger: false,
    trustProxy: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  });
  app.removeContentTypeParser('text/plain');
  await app.register(cookie);
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  const log = d.logger;
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof WebError) {
      return reply
        .status(error.status)
        .headers(error.headers)
        .send({ error: error.code, message: error.message });
    }
    if (error.validation !== undefined) {
      return reply
        .status(400)
        .send({ error: 'bad-request', message: `invalid request ${error.validationContext ?? ''}`.trim() });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = status === 415 ? 'unsupported-media-type' : status === 413 ? 'too-large' : 'bad-request';
      return reply.status(status).send({ error: code, message: 'the request was refused' });
    }
    const incident = randomUUID();
    log.error(
      { incident, err: { message: error.message }, method: request.method, url: request.routeOptions.url },
      'web: unexpected error',
    );
    return reply.status(500).send({ error: 'internal', message: `unexpected error (incident ${incident})` });
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).send({ error: 'not-found', message: 'no such endpoint' }),
  );

  const cfg = d.config.web;
  const origin = () => {
    if (cfg.origin !== '') return cfg.origin;
    const a = server.address();
    return webOrigin(d.config.hostname, typeof a === 'object' && a !== null ? a.port : cfg.port);
  };
  const policy = {
    idleMs: cfg.session_idle_minutes * 60_000,
    absoluteMs: cfg.session_absolute_hours * 3_600_000,
    binding: cfg.binding,
  };
  const sessions = new WebSessions({
    store: d.store,
    key: sessionKey(d.keys),
    policy,
    now,
    logger: log,
    origin,
  });
  const attempts = new FactorAttempts({ store: d.store, throttle: new LoginThrottle(d.store), sessions });
  // Every API that takes access tokens checks them here (bearer.preHandler(audience)).
  const bearer = new BearerAuth({
    verifier: tokenVerifier(d.keys, { issuer: d.config.hostname, now }),
    store: d.store,
    sessions,
  });
  registerAuthRoutes(app, {
    store: d.store,
    login: d.login,
    sessions,
    factors: { store: d.store, accountKeys: d.accountKeys, recoveryKey: recoveryCodeKey(d.keys), now },
    signer: tokenSigner(d.keys, { issuer: d.config.hostname, now }),
    attempts,
    bearer,
    origin,
  });
  registerAccountRoutes(app, {
    config: d.config,
    store: d.store,
    keys: d.keys,
    logger: log,
    sessions,
    audit: d.audit,
  });
  registerFactorRoutes(app, d, sessions);
  registerWebAuthnRoutes(app, d, sessions, origin, attempts);
  registerWellKnown(app, { config: d.config, store: d.store });
  await app.ready();
  const sweeper = startSessionSweeper({
    store: d.store,
    policy,
    now,
    logger: log,
    ...(d.sweepIntervalMs !== undefined ? { intervalMs: d.sweepIntervalMs } : {}),
  });
  let closing: Promise<void> | null = null;
  return {
    server,
    sweep: () => sweeper.sweep(),
    // Idempotent: a second close waits for the first (Fastify's own never settles twice).
    close() {
      closing ??= (async () => {
        await sweeper.stop();
        detach();
        await app.close();
      })();
      return closing;
    },
  };
}
