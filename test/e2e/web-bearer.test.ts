// Access tokens at the HTTP level (issue 4, "forged tokens refused with 401"): GET
// /api/auth/whoami takes `Authorization: Bearer <jwt>` for the 'webmail' audience over
// real HTTPS. Tokens are forged here with node:crypto and jose the way an attacker
// would (alg none, HS256 keyed with the public key, wrong audience, expired, wrong
// issuer, tampered) and each is refused with 401 and RFC 6750 §3
// `WWW-Authenticate: Bearer ... error="invalid_token"`; so are validly signed tokens
// whose session was logged out, revoked, is still pending, or whose account is disabled.

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { ACCESS_TOKEN_KEY_INFO, tokenSigner } from '../../src/auth/tokens.ts';
import { deriveKey } from '../../src/crypto/derive.ts';
import { addRecoveryCodes } from '../support/factors.ts';
import { HOSTNAME, type InProcess, type Installation, install, startInProcess } from '../support/server.ts';
import { Browser, webAddresses } from '../support/web.ts';

process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

const INVALID = /^Bearer realm="sealpost", error="invalid_token", error_description="[^"\\]+"$/;

describe('web role: Bearer access tokens (RFC 6750) refuse forgeries with 401', () => {
  let inst: Installation;
  let srv: InProcess;
  let base: string;
  let origin: string;
  const browser = () => new Browser(base, origin);

  /** GET /api/auth/whoami with this Authorization header (or none). */
  async function whoami(authorization?: string) {
    const res = await fetch(`${base}/api/auth/whoami`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
  }
  async function refused(token: string, what: string) {
    const r = await whoami(`Bearer ${token}`);
    assert.equal(r.status, 401, what);
    assert.equal(r.json['error'], 'invalid-token', what);
    assert.match(r.headers.get('www-authenticate') ?? '', INVALID, what);
    assert.equal(r.json['account'], undefined, what);
  }
  /** A complete web session of `address` and a webmail token from it. */
  async function tokenFor(address: string, audience = 'webmail') {
    const b = browser();
    assert.equal((await b.login(address)).status, 200);
    const r = await b.req('POST', '/api/auth/token', { audience });
    assert.equal(r.status, 200);
    return { b, token: r.json['token'] as string };
  }
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signer = (issuer = HOSTNAME, now: () => number = Date.now) =>
    tokenSigner(srv.server.runtime.keys, { issuer, now });

  before(async () => {
    inst = await install({
      users: ['alice@sealpost.test', 'bob@sealpost.test', 'carol@sealpost.test', 'dave@sealpost.test'],
    });
    srv = await startInProcess(inst);
    ({ base, origin } = webAddresses(srv.server));
  });
  after(async () => {
    await srv?.server.stop();
    await inst?.cleanup();
  });

  it('accepts a valid webmail token (200 with the account) from any client', async () => {
    const { b, token } = await tokenFor('alice@sealpost.test');
    const r = await whoami(`Bearer ${token}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json['account'], 'alice@sealpost.test');
    assert.equal(r.json['audience'], 'webmail');
    assert.equal(r.json['session'], (await b.req('GET', '/api/auth/session')).json['id']);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    // The scheme name is case-insensitive (RFC 7235 §2.1).
    assert.equal((await whoami(`bearer ${token}`)).status, 200);
  });

  it('asks for a token without an error code when none is given, and 400 for a malformed header', async () => {
    for (const h of [undefined, 'Basic YWxpY2U6cGFzcw==', 'Bearer']) {
      const r = await whoami(h);
      assert.equal(r.status, h === 'Bearer' ? 400 : 401, String(h));
      if (h === 'Bearer') {
        assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
      } else {
        assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="sealpost"', String(h));
      }
    }
    assert.equal((await whoami('Bearer a b')).status, 400);
    // A session cookie is not a token.
    const { b } = await tokenFor('alice@sealpost.test');
    assert.equal((await b.req('GET', '/api/auth/whoami')).status, 401);
    // Nor is a token in the query string (RFC 6750 §2.3 is not offered).
    const { token } = await tokenFor('alice@sealpost.test');
    const q = await fetch(`${base}/api/auth/whoami?access_token=${token}`);
    assert.equal(q.status, 401);
  });

  it('refuses alg none, HS256 keyed with the public key, tampering and garbage', async () => {
    const { token } = await tokenFor('alice@sealpost.test');
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    // alg "none" with an empty signature (RFC 7519 §6.1), and with the real signature kept.
    const none = `${b64({ ...header, alg: 'none' })}.${b64(claims)}.`;
    await refused(none, 'alg none');
    await refused(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.${token.split('.')[2]}`, 'none+sig');
    // Key confusion: HMAC keyed with the Ed25519 public key, as PEM text, SPKI DER and raw.
    const ring = srv.server.runtime.keys;
    const seed = deriveKey(ring.current.key, ACCESS_TOKEN_KEY_INFO);
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
    const publicKey = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    const secrets = [
      Buffer.from(publicKey.export({ format: 'pem', type: 'spki' })),
      spki,
      spki.subarray(-32),
    ];
    for (const secret of secrets) {
      const hs = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header.kid! })
        .sign(new Uint8Array(secret));
      await refused(hs, `HS256 with a ${secret.length}-byte public key`);
    }
    // Tampered: bob's account id in alice's signed token.
    const bob = (await srv.server.runtime.store.getAccountByAddress('bob@sealpost.test'))!;
    const [h, , sig] = token.split('.');
    await refused(`${h}.${b64({ ...claims, sub: bob.id })}.${sig}`, 'tampered sub');
    await refused(
      `${h}.${b64({ ...claims, aud: 'webmail', exp: claims.exp! + 3600 })}.${sig}`,
      'tampered exp',
    );
    await refused(`${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`, 'altered signature');
    await refused('eyJhbGciOiJFZERTQSJ9.e30.AAAA', 'garbage');
    // And the genuine token still works.
    assert.equal((await whoami(`Bearer ${token}`)).status, 200);
  });

  it('refuses a wrong audience, an expired token and a wrong issuer, each signed with the real key', async () => {
    const { token: jmap } = await tokenFor('alice@sealpost.test', 'jmap');
    await refused(jmap, "a 'jmap' token at a 'webmail' endpoint");
    const { token } = await tokenFor('alice@sealpost.test');
    const { sub, sid } = decodeJwt(token) as { sub: string; sid: string };
    await refused(await signer().issue({ sub, sid, aud: 'admin' }), "an 'admin' token");
    const past = Date.now() - 10 * 60_000;
    await refused(await signer(HOSTNAME, () => past).issue({ sub, sid, aud: 'webmail' }, 300), 'expired');
    await refused(await signer('evil.example').issue({ sub, sid, aud: 'webmail' }), 'wrong issuer');
    // The same claims from the right issuer, now: accepted (so each refusal above has its one cause).
    assert.equal((await whoami(`Bearer ${await signer().issue({ sub, sid, aud: 'webmail' })}`)).status, 200);
  });

  it('refuses the token of a logged-out, revoked or pending session, or a disabled account', async () => {
    const out = await tokenFor('bob@sealpost.test');
    assert.equal((await whoami(`Bearer ${out.token}`)).status, 200);
    assert.equal((await out.b.req('POST', '/api/auth/logout', {})).status, 200);
    await refused(out.token, 'after logout');

    const victim = await tokenFor('bob@sealpost.test');
    const owner = browser();
    await owner.login('bob@sealpost.test');
    const id = (decodeJwt(victim.token) as { sid: string }).sid;
    assert.equal((await owner.req('DELETE', `/api/auth/sessions/${id}`)).status, 200);
    await refused(victim.token, 'after revocation');

    // A pending session (password only) cannot get a token; one signed for it is refused.
    const rt = srv.server.runtime;
    const carol = (await rt.store.getAccountByAddress('carol@sealpost.test'))!;
    await addRecoveryCodes(rt, 'carol@sealpost.test', 1);
    const p = browser();
    const login = await p.login('carol@sealpost.test');
    assert.equal(login.json['pending'], true);
    const pending = await signer().issue({ sub: carol.id, sid: login.json['id'] as string, aud: 'webmail' });
    await refused(pending, 'pending session');
    // A session id of another account does not lend its token to this one.
    const alice = await tokenFor('alice@sealpost.test');
    const aliceSid = (decodeJwt(alice.token) as { sid: string }).sid;
    await refused(await signer().issue({ sub: carol.id, sid: aliceSid, aud: 'webmail' }), "another's sid");

    const dave = await tokenFor('dave@sealpost.test');
    assert.equal((await whoami(`Bearer ${dave.token}`)).status, 200);
    await rt.store.setDisabled((await rt.store.getAccountByAddress('dave@sealpost.test'))!.id, true);
    await refused(dave.token, 'disabled account');
  });
});
