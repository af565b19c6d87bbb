// HTTP plumbing shared by the web routes: the JSON error shape, the security headers
// every response carries, the session cookie's exact attributes, and the checks of
// a state-changing request (Origin, CSRF token).
//
// Invariants:
// - Every error is JSON {error, message}; internal text never reaches the client.
// - Every response carries HSTS, nosniff, no-referrer, a CSP of default-src 'none'
//   and frame-ancestors 'none', and Cache-Control no-store.
// - The cookie is `__Host-` prefixed: Secure, HttpOnly, SameSite=Strict, Path=/, no
//   Domain (RFC 6265bis §4.1.3.2).

import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = '__Host-sealpost_session';
export const CSRF_HEADER = 'x-csrf-token';

/** An answer the routes give on purpose; anything else becomes a generic 500. */
export class WebError extends Error {
  readonly status: number;
  readonly code: string;
  /** Response headers the answer needs, e.g. WWW-Authenticate on a 401 (RFC 6750 §3). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'WebError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const unauthorised = () => new WebError(401, 'unauthorised', 'no valid session; log in again');
export const forbidden = (message: string) => new WebError(403, 'forbidden', message);

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
};

export function setSessionCookie(reply: FastifyReply, value: string): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict`);
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.header(
    'set-cookie',
    `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`,
  );
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function clientOf(request: FastifyRequest) {
  return { address: request.ip, userAgent: (header(request, 'user-agent') ?? '').slice(0, 512) };
}

export function csrfHeader(request: FastifyRequest): string | undefined {
  return header(request, CSRF_HEADER);
}

/** An Origin header, when sent, must be ours (login CSRF and every state change). */
export function checkOrigin(request: FastifyRequest, origin: string): void {
  const given = header(request, 'origin');
  if (given !== undefined && given !== origin) throw forbidden('request from another origin');
  const site = header(request, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw forbidden('cross-site request');
  }
}

export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
