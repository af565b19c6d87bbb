// A small HTTPS client for the web role's tests: it keeps the session cookie and the
// CSRF token the way a browser page would, and sends a user agent and an Origin.
// The test certificate is self-signed: callers set NODE_TLS_REJECT_UNAUTHORIZED=0.

import type { RunningServer } from '../../src/app/start.ts';
import { HOSTNAME, PASSWORD } from './server.ts';

export const TEST_UA = 'SealpostTest/1.0';
export type Json = Record<string, unknown>;

export class Browser {
  cookie: string | null = null;
  csrf: string | null = null;
  readonly base: string;
  readonly origin: string;
  readonly ua: string;

  constructor(base: string, origin: string, ua = TEST_UA) {
    this.base = base;
    this.origin = origin;
    this.ua = ua;
  }

  /** `extra` headers override the defaults (e.g. `{ 'x-csrf-token': '' }` to send none that counts). */
  async req(method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
    const headers: Record<string, string> = { 'user-agent': this.ua, origin: this.origin, ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.cookie !== null) headers['cookie'] = this.cookie;
    if (this.csrf !== null && !('x-csrf-token' in extra)) headers['x-csrf-token'] = this.csrf;
    const res = await fetch(this.base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const setCookie = res.headers.getSetCookie();
    for (const c of setCookie) {
      const pair = c.split(';')[0]!;
      this.cookie = pair.endsWith('=') ? null : pair;
    }
    const json = (await res.json()) as Json;
    if (typeof json['csrfToken'] === 'string') this.csrf = json['csrfToken'];
    return { status: res.status, json, headers: res.headers, setCookie };
  }

  login(username: string, password = PASSWORD) {
    return this.req('POST', '/api/auth/login', { username, password });
  }
}

/** Where a running server's web role answers: the URL to connect to, and the Origin browsers send. */
export function webAddresses(server: RunningServer): { base: string; origin: string } {
  const web = server.listening.find((l) => l.role === 'web');
  if (web === undefined) throw new Error('the web role does not listen');
  return { base: `https://127.0.0.1:${web.port}`, origin: `https://${HOSTNAME}:${web.port}` };
}
