// Access tokens at the HTTP edge (RFC 6750; issue 4 item 4): the check every API that
// takes `Authorization: Bearer <jwt>` runs — today GET /api/auth/whoami (audience
// 'webmail'), later the JMAP ('jmap') and admin ('admin') APIs through
// bearer.preHandler(audience) and bearerOf(request).
//
// Invariants:
// - The token is read from the Authorization header only (never the query string or
//   a cookie, RFC 6750 §2.3, §5.3) and verified by auth/tokens.ts: alg pinned to
//   EdDSA (so "none" and HS256-with-the-public-key are refused), typ, issuer, exactly
//   the audience of the route, expiry.
// - A valid signature is not enough: the token's web session ("sid", the owner-visible
//   public id) must still exist, be complete (not pending), not have timed out, and
//   belong to the token's subject, whose account exists and is not disabled. Logging
//   out or revoking a session therefore ends its tokens at once.
// - Refusals are 401 with `WWW-Authenticate: Bearer realm="sealpost"` plus
//   error="invalid_token" when a token was given (RFC 6750 §3, §3.1); a malformed
//   Authorization header is 400 invalid_request. The answer never says which check
//   failed beyond a fixed description, and tokens are never logged.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessTokenClaims, Audience, TokenVerifier } from '../auth/tokens.ts';
import type { Store, WebSession } from '../store/types.ts';
import { WebError } from './http.ts';
import { publicSessionId } from './session-policy.ts';
import type { WebSessions } from './sessions.ts';

export const REALM = 'sealpost';

/** What a route behind requireBearer knows about its caller. */
export interface BearerContext {
  readonly claims: AccessTokenClaims;
  readonly session: WebSession;
  readonly accountId: string;
  readonly address: string;
}

export interface BearerDeps {
  readonly verifier: TokenVerifier;
  readonly store: Pick<Store, 'getAccount' | 'listWebSessions'>;
  readonly sessions: WebSessions;
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function challenge(error?: 'invalid_token' | 'invalid_request', description?: string): string {
  const parts = [`realm="${REALM}"`];
  if (error !== undefined) parts.push(`error="${error}"`);
  if (description !== undefined) parts.push(`error_description="${description}"`);
  return `Bearer ${parts.join(', ')}`;
}

const noCredentials = () =>
  new WebError(401, 'unauthorised', 'an access token is required', {
    'www-authenticate': challenge(),
  });
const invalidToken = (description: string) =>
  new WebError(401, 'invalid-token', 'the access token was refused', {
    'www-authenticate': challenge('invalid_token', description),
  });
const invalidRequest = () =>
  new WebError(400, 'invalid-request', 'malformed Authorization header', {
    'www-authenticate': challenge('invalid_request', 'malformed Authorization header'),
  });

const contexts = new WeakMap<FastifyRequest, BearerContext>();

/** The caller of a route behind bearer.preHandler(audience). */
export function bearerOf(request: FastifyRequest): BearerContext {
  const c = contexts.get(request);
  if (c === undefined) throw new Error('web: bearerOf() on a route without requireBearer');
  return c;
}

export class BearerAuth {
  readonly #d: BearerDeps;

  constructor(deps: BearerDeps) {
    this.#d = deps;
  }

  /** The caller, checked for `audience`; throws the RFC 6750 401/400 otherwise. */
  async require(request: FastifyRequest, audience: Audience): Promise<BearerContext> {
    const header = request.headers.authorization;
    if (header === undefined || header === '') throw noCredentials();
    if (!/^bearer(\s|$)/i.test(header)) throw noCredentials(); // another scheme: no token of ours
    const m = BEARER.exec(header);
    if (m === null) throw invalidRequest();
    let claims: AccessTokenClaims;
    try {
      claims = await this.#d.verifier.verify(m[1]!, audience);
    } catch {
      throw invalidToken('the access token is invalid or expired');
    }
    const account = await this.#d.store.getAccount(claims.sub);
    if (account === null || account.disabled) throw invalidToken('the access token is invalid or expired');
    const { sessions } = this.#d;
    const session = (await this.#d.store.listWebSessions(claims.sub)).find(
      (s) => publicSessionId(sessions.key, s.idHash) === claims.sid,
    );
    if (session === undefined || session.pending || !sessions.alive(session)) {
      throw invalidToken('the session of the access token has ended');
    }
    return { claims, session, accountId: account.id, address: account.address };
  }

  /** A Fastify preHandler for routes that take a token for `audience`; read it with bearerOf. */
  preHandler(audience: Audience) {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      contexts.set(request, await this.require(request, audience));
    };
  }
}

/** Shorthand for the route option: `{ preHandler: requireBearer(bearer, 'jmap') }`. */
export function requireBearer(bearer: BearerAuth, audience: Audience) {
  return bearer.preHandler(audience);
}
