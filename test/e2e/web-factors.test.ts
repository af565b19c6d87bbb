// Second factors over real HTTPS (issue 4 item 2): enrolling TOTP, WebAuthn (the soft
// authenticator of test/support) and recovery codes, logging in with each, listing
// without secrets, removing the last factor only with the password, CSRF on every
// new state-changing route, and a pending session that cannot enrol.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret } from 'otpauth';
import { totpCode, totpStep } from '../../src/auth/totp.ts';
import {
  HOSTNAME,
  type InProcess,
  type Installation,
  install,
  PASSWORD,
  startInProcess,
} from '../support/server.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';
import { Browser, type Json, webAddresses } from '../support/web.ts';

process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

type FactorView = { id: string; kind: string; name: string; remaining?: number };

describe('web role: second factors', () => {
  let inst: Installation;
  let srv: InProcess;
  let base: string;
  let origin: string;
  const browser = () => new Browser(base, origin);
  const factorsOf = async (b: Browser) =>
    (await b.req('GET', '/api/auth/factors')).json['factors'] as FactorView[];
  const loggedIn = async (user: string) => {
    const b = browser();
    const r = await b.login(user);
    assert.equal(r.status, 200);
    return { b, r };
  };

  before(async () => {
    inst = await install({
      users: ['frank@sealpost.test', 'grace@sealpost.test', 'heidi@sealpost.test', 'ivan@sealpost.test'],
    });
    srv = await startInProcess(inst);
    ({ base, origin } = webAddresses(srv.server));
  });
  after(async () => {
    await srv?.server.stop();
    await inst?.cleanup();
  });

  it('enrols TOTP after a code from the new secret verifies, then logs in with it', async () => {
    const { b } = await loggedIn('frank@sealpost.test');
    assert.equal((await b.req('POST', '/api/auth/factors/totp/confirm', { code: '123456' })).status, 409);
    const start = await b.req('POST', '/api/auth/factors/totp', { name: 'phone' });
    assert.equal(start.status, 200);
    const secret = Secret.fromBase32(start.json['secret'] as string).bytes;
    assert.match(start.json['uri'] as string, /^otpauth:\/\/totp\/.*secret=/);
    const step = totpStep(Date.now());
    assert.equal((await b.req('POST', '/api/auth/factors/totp/confirm', { code: '000000' })).status, 400);
    const ok = await b.req('POST', '/api/auth/factors/totp/confirm', { code: totpCode(secret, step) });
    assert.equal(ok.status, 200);
    assert.deepEqual(
      (await factorsOf(b)).map((f) => [f.kind, f.name]),
      [['totp', 'phone']],
    );

    const again = browser();
    const r = await again.login('frank@sealpost.test');
    assert.equal(r.json['pending'], true);
    assert.deepEqual(r.json['secondFactor'], ['totp']);
    const replay = await again.req('POST', '/api/auth/totp', { code: totpCode(secret, step) });
    assert.equal(replay.status, 401, 'the enrolment code is not accepted again');
    const done = await again.req('POST', '/api/auth/totp', { code: totpCode(secret, step + 1) });
    assert.equal(done.status, 200);
    assert.equal(done.json['pending'], false);
  });

  it('enrols a security key and logs in with it; a foreign origin is refused', async () => {
    const { b } = await loggedIn('grace@sealpost.test');
    const key = new SoftAuthenticator(origin);
    const options = await b.req('POST', '/api/auth/factors/webauthn/options', {});
    assert.equal(options.status, 200);
    const opts = options.json as { challenge: string; rp: { id: string }; user: { id: string } };
    assert.equal(opts.rp.id, HOSTNAME);
    const evil = key.create(opts, { origin: 'https://evil.example' });
    const refused = await b.req('POST', '/api/auth/factors/webauthn', { name: 'key', response: evil });
    assert.equal(refused.status, 400);
    // The challenge was spent by the refused answer: ask again.
    const opts2 = (await b.req('POST', '/api/auth/factors/webauthn/options', {})).json as typeof opts;
    const added = await b.req('POST', '/api/auth/factors/webauthn', {
      name: 'key',
      response: key.create(opts2),
    });
    assert.equal(added.status, 200);

    const l = browser();
    assert.deepEqual((await l.login('grace@sealpost.test')).json['secondFactor'], ['webauthn']);
    const lo = (await l.req('POST', '/api/auth/webauthn/options', {})).json as {
      challenge: string;
      rpId: string;
      allowCredentials: { id: string }[];
    };
    const bad = await l.req('POST', '/api/auth/webauthn', {
      response: key.get(lo, { origin: 'https://evil.example' }),
    });
    assert.equal(bad.status, 401);
    assert.equal((await l.req('GET', '/api/auth/session')).json['pending'], true);
    const lo2 = (await l.req('POST', '/api/auth/webauthn/options', {})).json as typeof lo;
    const fixed = l.cookie;
    const good = await l.req('POST', '/api/auth/webauthn', { response: key.get(lo2) });
    assert.equal(good.status, 200);
    assert.equal(good.json['secondFactor'], 'webauthn');
    // A new session id after the second factor; the pre-login cookie is refused.
    assert.notEqual(l.cookie, fixed);
    const stale = browser();
    stale.cookie = fixed;
    assert.equal((await stale.req('GET', '/api/auth/session')).status, 401);
    assert.equal((await l.req('GET', '/api/auth/sessions')).status, 200);
    const listed = await factorsOf(l);
    assert.equal(listed.length, 1);
    assert.equal(typeof (listed[0] as Json)['lastUsedAt'], 'number');
  });

  it('generates recovery codes once, each usable once, and lists factors without secrets', async () => {
    const { b } = await loggedIn('heidi@sealpost.test');
    const first = await b.req('POST', '/api/auth/factors/recovery', {});
    assert.equal(first.status, 200);
    const old = first.json['codes'] as string[];
    const gen = await b.req('POST', '/api/auth/factors/recovery', {});
    const codes = gen.json['codes'] as string[];
    assert.equal(codes.length, 10);
    assert.equal(new Set([...codes, ...old]).size, 20);
    await b.req('POST', '/api/auth/factors/totp', { name: 'app' });
    const list = await b.req('GET', '/api/auth/factors');
    const text = JSON.stringify(list.json);
    for (const c of [...codes, ...old]) assert.ok(!text.includes(c));
    assert.doesNotMatch(text, /sealed|secret|hash|publicKey|credential/i);
    const factors = list.json['factors'] as FactorView[];
    assert.deepEqual(
      factors.map((f) => [f.kind, f.remaining]),
      [['recovery', 10]],
      'one recovery factor (the first replaced); the unconfirmed TOTP is not a factor',
    );

    const l = browser();
    assert.deepEqual((await l.login('heidi@sealpost.test')).json['secondFactor'], ['recovery']);
    assert.equal((await l.req('POST', '/api/auth/recovery', { code: old[0] })).status, 401);
    assert.equal((await l.req('POST', '/api/auth/recovery', { code: codes[0] })).status, 200);
    const m = browser();
    await m.login('heidi@sealpost.test');
    assert.equal((await m.req('POST', '/api/auth/recovery', { code: codes[0] })).status, 401);
    assert.equal((await m.req('POST', '/api/auth/recovery', { code: codes[1] })).status, 200);
    assert.equal((await factorsOf(m))[0]?.remaining, 8);
  });

  it('removes the last factor only with the password, ending the other sessions', async () => {
    const { b } = await loggedIn('ivan@sealpost.test');
    await b.req('POST', '/api/auth/factors/recovery', {});
    const codes = (await b.req('POST', '/api/auth/factors/recovery', {})).json['codes'] as string[];
    const other = browser();
    await other.login('ivan@sealpost.test');
    assert.equal((await other.req('POST', '/api/auth/recovery', { code: codes[0] })).status, 200);
    const [factor] = await factorsOf(b);
    assert.ok(factor);
    const path = `/api/auth/factors/${factor.id}`;
    assert.equal((await b.req('DELETE', path, {})).status, 403);
    assert.equal((await b.req('DELETE', path, { password: 'not the password' })).status, 403);
    assert.equal((await factorsOf(b)).length, 1, 'nothing changed');
    assert.equal((await other.req('GET', '/api/auth/session')).status, 200);
    const ok = await b.req('DELETE', path, { password: PASSWORD });
    assert.equal(ok.status, 200);
    assert.deepEqual(await factorsOf(b), []);
    assert.equal((await other.req('GET', '/api/auth/session')).status, 401, 'the other session ended');
    assert.equal((await b.req('GET', '/api/auth/session')).status, 200, 'this one lives');
    assert.equal((await b.req('DELETE', path, { password: PASSWORD })).status, 404);
    const store = srv.server.runtime.store;
    const ivan = (await store.getAccountByAddress('ivan@sealpost.test'))!;
    const kinds = (await store.listSecurityEvents(ivan.id, 50)).map((e) => e.kind);
    assert.ok(kinds.includes('factor-added') && kinds.includes('factor-removed'), kinds.join());
  });

  it('refuses every new state change without CSRF (403), and enrolment from a pending session', async () => {
    const { b } = await loggedIn('ivan@sealpost.test');
    const noCsrf = { 'x-csrf-token': '' };
    const routes: [string, string, unknown][] = [
      ['POST', '/api/auth/factors/totp', { name: 'x' }],
      ['POST', '/api/auth/factors/totp/confirm', { code: '123456' }],
      ['POST', '/api/auth/factors/recovery', {}],
      ['POST', '/api/auth/factors/webauthn/options', {}],
      [
        'POST',
        '/api/auth/factors/webauthn',
        {
          name: 'x',
          response: {
            id: 'a',
            rawId: 'a',
            type: 'public-key',
            response: { clientDataJSON: 'a', attestationObject: 'a' },
          },
        },
      ],
      ['POST', '/api/auth/webauthn/options', {}],
      [
        'POST',
        '/api/auth/webauthn',
        {
          response: {
            id: 'a',
            rawId: 'a',
            type: 'public-key',
            response: { clientDataJSON: 'a', authenticatorData: 'a', signature: 'a' },
          },
        },
      ],
      ['DELETE', '/api/auth/factors/some-id', { password: PASSWORD }],
    ];
    for (const [method, path, body] of routes) {
      assert.equal((await b.req(method, path, body, noCsrf)).status, 403, `${method} ${path}`);
    }
    assert.deepEqual(await factorsOf(b), [], 'nothing was added');

    // A pending session (password only) may not enrol or list.
    const codes = (await b.req('POST', '/api/auth/factors/recovery', {})).json['codes'] as string[];
    assert.equal(codes.length, 10);
    const p = browser();
    assert.equal((await p.login('ivan@sealpost.test')).json['pending'], true);
    assert.equal((await p.req('GET', '/api/auth/factors')).status, 401);
    assert.equal((await p.req('POST', '/api/auth/factors/totp', { name: 'x' })).status, 401);
    assert.equal((await p.req('POST', '/api/auth/factors/recovery', {})).status, 401);
    assert.equal((await p.req('POST', '/api/auth/factors/webauthn/options', {})).status, 401);
    assert.equal((await factorsOf(b)).length, 1);
  });
});
