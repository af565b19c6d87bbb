// The web role over real HTTPS (issue 4 items 4 and 6, DESIGN invariant 6): password
// login with and without a second factor, the session cookie's attributes, client
// binding, CSRF, logout, the session list and revocation, and access tokens.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { hashRecoveryCode, newRecoveryCodes } from '../../src/auth/recovery-codes.ts';
import { tokenVerifier } from '../../src/auth/tokens.ts';
import { newTotpSecret, sealTotpSecret, totpCode, totpStep } from '../../src/auth/totp.ts';
import { AccountKeys } from '../../src/mail/account-keys.ts';
import type { AuthFactor } from '../../src/store/types.ts';
import { recoveryCodeKey } from '../../src/web/session-policy.ts';
import {
  HOSTNAME,
  type InProcess,
  type Installation,
  install,
  PASSWORD,
  startInProcess,
} from '../support/server.ts';
import { Browser, TEST_UA, webAddresses } from '../support/web.ts';

process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

const UA = TEST_UA;

describe('web role: login, second factor, sessions, tokens', () => {
  let inst: Installation;
  let srv: InProcess;
  let base: string;
  let origin: string;
  const browser = (ua = UA) => new Browser(base, origin, ua);
  const totpSecret = newTotpSecret();
  const recovery = newRecoveryCodes(3);

  async function addFactor(address: string, f: (accountId: string, id: string) => Partial<AuthFactor>) {
    const rt = srv.server.runtime;
    const account = await rt.store.getAccountByAddress(address);
    const id = randomUUID();
    const factor: AuthFactor = {
      id,
      accountId: account!.id,
      kind: 'totp',
      name: 'test',
      createdAt: Date.now(),
      lastUsedAt: null,
      sealedSecret: null,
      lastStep: null,
      credentialId: null,
      publicKey: null,
      counter: null,
      transports: null,
      codeHashes: null,
      ...f(account!.id, id),
    };
    await rt.store.addFactor(factor);
  }

  before(async () => {
    inst = await install({
      users: [
        'alice@sealpost.test',
        'bob@sealpost.test',
        'carol@sealpost.test',
        'dave@sealpost.test',
        'erin@sealpost.test',
      ],
      // The idle timeout itself is checked with an injected clock in src/web/session-policy.test.ts.
      env: { SEALPOST_WEB_SESSION_IDLE_MINUTES: '1' },
    });
    assert.equal(inst.config().web.session_idle_minutes, 1);
    srv = await startInProcess(inst);
    ({ base, origin } = webAddresses(srv.server));
    const rt = srv.server.runtime;
    const keys = new AccountKeys(rt.store, rt.keys, async () => rt.keys);
    // The TOTP factor for bob: the secret sealed under his account key.
    const bob = (await rt.store.getAccountByAddress('bob@sealpost.test'))!;
    const bobKey = await keys.current(bob.id);
    await addFactor('bob@sealpost.test', (accountId, id) => ({
      sealedSecret: sealTotpSecret(bobKey.key, totpSecret, accountId, id),
    }));
    const erin = (await rt.store.getAccountByAddress('erin@sealpost.test'))!;
    const erinKey = await keys.current(erin.id);
    await addFactor('erin@sealpost.test', (accountId, id) => ({
      sealedSecret: sealTotpSecret(erinKey.key, newTotpSecret(), accountId, id),
    }));
    const rkey = recoveryCodeKey(rt.keys);
    await addFactor('carol@sealpost.test', () => ({
      kind: 'recovery',
      codeHashes: recovery.map((c) => hashRecoveryCode(rkey, c)),
    }));
  });
  after(async () => {
    await srv?.server.stop();
    await inst?.cleanup();
  });

  it('logs in without a second factor and sets the cookie exactly as required', async () => {
    const b = browser();
    const r = await b.login('alice@sealpost.test');
    assert.equal(r.status, 200);
    assert.equal(r.json['pending'], false);
    assert.equal(r.setCookie.length, 1);
    const [pair, ...attrs] = r.setCookie[0]!.split('; ');
    assert.match(pair!, /^__Host-sealpost_session=[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(attrs.sort(), ['HttpOnly', 'Path=/', 'SameSite=Strict', 'Secure']);
    const me = await b.req('GET', '/api/auth/session');
    assert.equal(me.status, 200);
    assert.equal(me.json['account'], 'alice@sealpost.test');
    assert.equal(me.json['pending'], false);
    for (const [h, v] of [
      ['strict-transport-security', /max-age=\d+/],
      ['x-content-type-options', /^nosniff$/],
      ['referrer-policy', /^no-referrer$/],
      ['content-security-policy', /^default-src 'none'; frame-ancestors 'none'$/],
      ['cache-control', /^no-store$/],
    ] as const) {
      assert.match(me.headers.get(h) ?? '', v, h);
    }
  });

  it('answers a wrong password and an unknown user with the same 401 body', async () => {
    const wrong = await browser().login('alice@sealpost.test', 'not the password');
    const unknown = await browser().login('nobody@sealpost.test', 'not the password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(wrong.json, unknown.json);
    assert.deepEqual(wrong.setCookie, []);
  });

  it('refuses bad bodies (400), other content types (415) and a foreign Origin at login (403)', async () => {
    const b = browser();
    assert.equal((await b.req('POST', '/api/auth/login', { username: 'a@b.c' })).status, 400);
    const extra = { username: 'alice@sealpost.test', password: PASSWORD, admin: true };
    assert.equal((await b.req('POST', '/api/auth/login', extra)).status, 400);
    const form = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin },
      body: JSON.stringify({ username: 'alice@sealpost.test', password: PASSWORD }),
    });
    assert.equal(form.status, 415);
    const evil = await browser().req(
      'POST',
      '/api/auth/login',
      { username: 'alice@sealpost.test', password: PASSWORD },
      { origin: 'https://evil.example' },
    );
    assert.equal(evil.status, 403);
    assert.deepEqual(evil.setCookie, []);
  });

  it('logs in with TOTP: pending first, then complete; a replayed code is refused', async () => {
    const b = browser();
    const r = await b.login('bob@sealpost.test');
    assert.equal(r.status, 200);
    assert.equal(r.json['pending'], true);
    assert.deepEqual(r.json['secondFactor'], ['totp']);
    // Pending: no session list, no tokens.
    assert.equal((await b.req('GET', '/api/auth/sessions')).status, 401);
    assert.equal((await b.req('POST', '/api/auth/token', { audience: 'webmail' })).status, 401);
    const code = totpCode(totpSecret, totpStep(Date.now()));
    const [fixedCookie, fixedCsrf] = [b.cookie, b.csrf];
    const ok = await b.req('POST', '/api/auth/totp', { code });
    assert.equal(ok.status, 200);
    assert.equal(ok.json['pending'], false);
    assert.equal((await b.req('GET', '/api/auth/sessions')).status, 200);
    // A new session id after the second factor (session fixation): the pre-login
    // cookie and its CSRF token no longer work.
    assert.equal(ok.setCookie.length, 1);
    assert.notEqual(b.cookie, fixedCookie);
    assert.notEqual(b.csrf, fixedCsrf);
    assert.notEqual(ok.json['id'], r.json['id']);
    const stale = browser();
    [stale.cookie, stale.csrf] = [fixedCookie, fixedCsrf];
    assert.equal((await stale.req('GET', '/api/auth/session')).status, 401);
    assert.equal((await stale.req('POST', '/api/auth/token', { audience: 'webmail' })).status, 401);
    const listed = (await b.req('GET', '/api/auth/sessions')).json['sessions'] as Record<string, unknown>[];
    assert.deepEqual(
      listed.filter((s) => s['current']).map((s) => s['id']),
      [ok.json['id']],
    );

    const again = browser();
    assert.equal((await again.login('bob@sealpost.test')).json['pending'], true);
    const replay = await again.req('POST', '/api/auth/totp', { code });
    assert.equal(replay.status, 401);
    assert.equal(replay.json['error'], 'invalid-code');
    assert.equal((await again.req('GET', '/api/auth/session')).json['pending'], true);
  });

  it('ends a pending session after five wrong codes and backs the account off after more', async () => {
    const b = browser();
    await b.login('erin@sealpost.test');
    for (let i = 0; i < 5; i++) {
      assert.equal((await b.req('POST', '/api/auth/totp', { code: '000000' })).status, 401);
    }
    assert.equal(b.cookie, null, 'the cookie was cleared');
    const c = browser();
    assert.equal((await c.login('erin@sealpost.test')).json['pending'], true);
    for (let i = 0; i < 5; i++) await c.req('POST', '/api/auth/totp', { code: '000000' });
    // Ten wrong codes are the account's free failures (auth/throttle.ts): the next
    // login with the right password is answered like a wrong one.
    const d = browser();
    assert.equal((await d.login('erin@sealpost.test')).status, 200);
    await d.req('POST', '/api/auth/totp', { code: '000000' });
    const e = await browser().login('erin@sealpost.test');
    assert.equal(e.status, 401);
    assert.equal(e.json['error'], 'invalid-credentials');
  });

  it('accepts a recovery code once only', async () => {
    const b = browser();
    assert.deepEqual((await b.login('carol@sealpost.test')).json['secondFactor'], ['recovery']);
    const fixed = b.cookie;
    assert.equal((await b.req('POST', '/api/auth/recovery', { code: recovery[0] })).status, 200);
    assert.notEqual(b.cookie, fixed, 'a new session id after the recovery code');
    const stale = browser();
    stale.cookie = fixed;
    assert.equal((await stale.req('GET', '/api/auth/session')).status, 401);
    assert.equal((await b.req('GET', '/api/auth/session')).json['pending'], false);
    const c = browser();
    await c.login('carol@sealpost.test');
    assert.equal((await c.req('POST', '/api/auth/recovery', { code: recovery[0] })).status, 401);
    assert.equal(
      (await c.req('POST', '/api/auth/recovery', { code: recovery[1]!.toLowerCase() })).status,
      200,
    );
  });

  it('destroys a session replayed from another user agent (strict binding)', async () => {
    const b = browser();
    await b.login('alice@sealpost.test');
    const thief = browser('OtherBrowser/9');
    thief.cookie = b.cookie;
    thief.csrf = b.csrf;
    const stolen = await thief.req('GET', '/api/auth/session');
    assert.equal(stolen.status, 401);
    assert.equal(stolen.json['error'], 'unauthorised');
    assert.equal(
      (await b.req('GET', '/api/auth/session')).status,
      401,
      'the session is gone for its owner too',
    );
  });

  it('refuses a state change without the right CSRF token or from another origin, changing nothing', async () => {
    const b = browser();
    await b.login('dave@sealpost.test');
    const none = await b.req('POST', '/api/auth/logout', {}, { 'x-csrf-token': '' });
    assert.equal(none.status, 403);
    const wrong = await b.req('POST', '/api/auth/logout', {}, { 'x-csrf-token': 'f'.repeat(64) });
    assert.equal(wrong.status, 403);
    const foreign = await b.req('POST', '/api/auth/logout', {}, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    const list = await b.req('GET', '/api/auth/sessions');
    assert.equal(list.status, 200, 'still logged in');
    const other = browser();
    await other.login('dave@sealpost.test');
    const id = ((await other.req('GET', '/api/auth/session')).json['id'] as string) ?? '';
    const del = await b.req('DELETE', `/api/auth/sessions/${id}`, undefined, { 'x-csrf-token': 'x' });
    assert.equal(del.status, 403);
    assert.equal((await other.req('GET', '/api/auth/session')).status, 200, 'the other session lives');
  });

  it('lists own sessions, marks the current one, revokes another, and logs out', async () => {
    const a = browser();
    const b = browser();
    await a.login('dave@sealpost.test');
    await b.login('dave@sealpost.test');
    const list = await a.req('GET', '/api/auth/sessions');
    const sessions = list.json['sessions'] as { id: string; current: boolean; userAgent: string }[];
    const mine = sessions.filter((s) => s.current);
    assert.equal(mine.length, 1);
    const bId = (await b.req('GET', '/api/auth/session')).json['id'] as string;
    assert.ok(sessions.some((s) => s.id === bId && !s.current));
    assert.equal((await a.req('DELETE', `/api/auth/sessions/${bId}`)).status, 200);
    assert.equal((await b.req('GET', '/api/auth/session')).status, 401);
    assert.equal((await a.req('DELETE', `/api/auth/sessions/${bId}`)).status, 404);
    const out = await a.req('POST', '/api/auth/logout', {});
    assert.equal(out.status, 200);
    assert.match(out.setCookie[0] ?? '', /^__Host-sealpost_session=; .*Max-Age=0/);
    const cookie = a.cookie;
    assert.equal(cookie, null);
    assert.equal((await a.req('GET', '/api/auth/session')).status, 401);
  });

  it('issues 5-minute access tokens for webmail and jmap, never admin', async () => {
    const b = browser();
    await b.login('alice@sealpost.test');
    const r = await b.req('POST', '/api/auth/token', { audience: 'jmap' });
    assert.equal(r.status, 200);
    assert.equal(r.json['expiresIn'], 300);
    const verifier = tokenVerifier(srv.server.runtime.keys, { issuer: HOSTNAME });
    const claims = await verifier.verify(r.json['token'] as string, 'jmap');
    const alice = await srv.server.runtime.store.getAccountByAddress('alice@sealpost.test');
    assert.equal(claims.sub, alice!.id);
    assert.equal(claims.exp - claims.iat, 300);
    await assert.rejects(verifier.verify(r.json['token'] as string, 'webmail'));
    assert.equal((await b.req('POST', '/api/auth/token', { audience: 'admin' })).status, 400);
  });

  it('writes the security log', async () => {
    const store = srv.server.runtime.store;
    const bob = (await store.getAccountByAddress('bob@sealpost.test'))!;
    const kinds = (await store.listSecurityEvents(bob.id, 50)).map((e) => `${e.kind}:${e.success}`);
    assert.ok(kinds.includes('web-second-factor:true'), kinds.join());
    assert.ok(kinds.includes('web-second-factor:false'), kinds.join());
    const dave = (await store.getAccountByAddress('dave@sealpost.test'))!;
    const dk = (await store.listSecurityEvents(dave.id, 50)).map((e) => e.kind);
    assert.ok(
      dk.includes('web-logout') && dk.includes('web-session-revoked') && dk.includes('login'),
      dk.join(),
    );
  });
});
