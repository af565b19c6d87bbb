import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, createPublicKey, hkdfSync, randomBytes, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { MasterKeyRing } from '../crypto/master-key.ts';
import { type Audience, TokenError, type TokenFailure, tokenSigner, tokenVerifier } from './tokens.ts';

const ISSUER = 'mail.example.test';
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

function ring(...keys: Buffer[]): MasterKeyRing {
  return new MasterKeyRing(keys.map((key, i) => ({ version: i + 1, key })));
}

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ring1 = ring(k1);
const clock = (ms: number) => () => ms;

const b64 = (v: unknown): string =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** The signing seed, derived by hand the way the module documents it. */
function seedOf(masterKey: Buffer): Buffer {
  const info = Buffer.from('sealpost access-token signing v1');
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));
}

function privateKeyOf(masterKey: Buffer) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seedOf(masterKey)]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

function rawPublicKey(masterKey: Buffer): Buffer {
  const spki = createPublicKey(privateKeyOf(masterKey)).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32);
}

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(T0 / 1000);
  return {
    iss: ISSUER,
    sub: 'acct-1',
    sid: 'sess-1',
    aud: 'webmail',
    iat,
    nbf: iat,
    exp: iat + 300,
    jti: 'j1',
    ...over,
  };
}

function header(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: 'EdDSA', typ: 'at+jwt', kid: '1', ...over };
}

/** A token signed by hand with Ed25519 under `masterKey`. */
function edToken(masterKey: Buffer, h: Record<string, unknown>, p: Record<string, unknown>): string {
  const input = `${b64(h)}.${b64(p)}`;
  return `${input}.${sign(null, Buffer.from(input), privateKeyOf(masterKey)).toString('base64url')}`;
}

function hsToken(secret: Buffer, h: Record<string, unknown>, p: Record<string, unknown>): string {
  const input = `${b64(h)}.${b64(p)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

async function refused(
  token: string,
  reason: TokenFailure,
  audience: Audience = 'webmail',
  r = ring1,
  now = T0,
): Promise<void> {
  const v = tokenVerifier(r, { issuer: ISSUER, now: clock(now) });
  await assert.rejects(v.verify(token, audience), (e: unknown) => {
    assert.ok(e instanceof TokenError, String(e));
    assert.equal(e.reason, reason, e.message);
    if (token.length >= 20) assert.ok(!e.message.includes(token.slice(0, 20)), 'token in message');
    return true;
  });
}

describe('tokenSigner / tokenVerifier', () => {
  it('issues a 5-minute EdDSA token that verifies for its audience', async () => {
    const signer = tokenSigner(ring1, { issuer: ISSUER, now: clock(T0) });
    const token = await signer.issue({
      sub: 'acct-1',
      sid: 'sess-1',
      aud: 'jmap',
      scope: ['mail', 'submit'],
    });
    const [h, p] = token
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
    assert.deepEqual(h, { alg: 'EdDSA', typ: 'at+jwt', kid: '1' });
    assert.equal(p.exp - p.iat, 300);
    const c = await tokenVerifier(ring1, { issuer: ISSUER, now: clock(T0 + 299_000) }).verify(token, 'jmap');
    assert.equal(c.sub, 'acct-1');
    assert.equal(c.sid, 'sess-1');
    assert.equal(c.aud, 'jmap');
    assert.deepEqual(c.scope, ['mail', 'submit']);
    assert.equal(c.kid, 1);
    assert.ok(c.jti.length >= 16);
    // A hand-built token with the documented derivation verifies too.
    const manual = edToken(k1, header(), claims());
    assert.equal(
      (await tokenVerifier(ring1, { issuer: ISSUER, now: clock(T0) }).verify(manual, 'webmail')).sub,
      'acct-1',
    );
  });

  it('refuses alg "none" with an empty signature', async () => {
    const t = `${b64(header({ alg: 'none' }))}.${b64(claims())}.`;
    await refused(t, 'algorithm');
  });

  it('refuses HS256 signed with the public key bytes or the raw seed (key confusion)', async () => {
    const pub = rawPublicKey(k1);
    const pem = Buffer.from(createPublicKey(privateKeyOf(k1)).export({ format: 'pem', type: 'spki' }));
    for (const secret of [pub, pem, seedOf(k1)]) {
      await refused(hsToken(secret, header({ alg: 'HS256' }), claims()), 'algorithm');
    }
    await refused(hsToken(pub, header({ alg: 'Ed25519' }), claims()), 'algorithm');
  });

  it('refuses a token for another surface (webmail presented to admin), and a multi-audience token', async () => {
    const signer = tokenSigner(ring1, { issuer: ISSUER, now: clock(T0) });
    await refused(await signer.issue({ sub: 'a', sid: 's', aud: 'webmail' }), 'audience', 'admin');
    await refused(edToken(k1, header(), claims({ aud: ['webmail', 'admin'] })), 'audience', 'admin');
    await refused(edToken(k1, header(), claims({ aud: undefined })), 'audience');
  });

  it('refuses an expired token and one not yet valid, with 5 seconds of tolerance', async () => {
    const t = await tokenSigner(ring1, { issuer: ISSUER, now: clock(T0) }).issue({
      sub: 'a',
      sid: 's',
      aud: 'webmail',
    });
    const v = tokenVerifier(ring1, { issuer: ISSUER, now: clock(T0 + 304_000) });
    assert.equal((await v.verify(t, 'webmail')).sub, 'a'); // within the tolerance
    await refused(t, 'expired', 'webmail', ring1, T0 + 306_000);
    await refused(t, 'expired', 'webmail', ring1, T0 - 10_000);
    // A long exp does not outlive the maximum lifetime.
    const long = edToken(k1, header(), claims({ exp: Math.floor(T0 / 1000) + 86_400 }));
    await refused(long, 'expired', 'webmail', ring1, T0 + 3600_000);
  });

  it('refuses a wrong issuer and a tampered payload', async () => {
    await refused(edToken(k1, header(), claims({ iss: 'evil.example' })), 'issuer');
    const good = await tokenSigner(ring1, { issuer: ISSUER, now: clock(T0) }).issue({
      sub: 'acct-1',
      sid: 's',
      aud: 'webmail',
    });
    const [h, p, s] = good.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.sub = 'acct-2';
    await refused(`${h}.${b64(payload)}.${s}`, 'signature');
  });

  it("refuses a token from another server's master key and an unknown kid", async () => {
    await refused(edToken(randomBytes(32), header(), claims()), 'signature');
    await refused(edToken(k1, header({ kid: '7' }), claims()), 'signature');
    await refused(edToken(k1, header({ kid: undefined }), claims()), 'signature');
    await refused(edToken(k1, header({ kid: '01' }), claims()), 'signature');
  });

  it('refuses missing sid, sub or jti, a wrong typ, and garbage', async () => {
    for (const missing of ['sid', 'sub', 'jti']) {
      await refused(edToken(k1, header(), claims({ [missing]: undefined })), 'malformed');
    }
    await refused(edToken(k1, header({ typ: 'JWT' }), claims()), 'malformed');
    for (const g of ['', 'a.b', 'a.b.c', '....', 'x'.repeat(5000)]) await refused(g, 'malformed');
  });

  it('keeps verifying tokens signed before a key rotation while the old key is in the ring', async () => {
    const before = await tokenSigner(ring1, { issuer: ISSUER, now: clock(T0) }).issue({
      sub: 'a',
      sid: 's',
      aud: 'admin',
    });
    const rotated = ring(k1, k2);
    const v = tokenVerifier(rotated, { issuer: ISSUER, now: clock(T0 + 60_000) });
    assert.equal((await v.verify(before, 'admin')).kid, 1);
    const after = await tokenSigner(rotated, { issuer: ISSUER, now: clock(T0) }).issue({
      sub: 'a',
      sid: 's',
      aud: 'admin',
    });
    assert.equal((await v.verify(after, 'admin')).kid, 2);
    // Once version 1 leaves the ring, its tokens stop verifying.
    const onlyV2 = new MasterKeyRing([{ version: 2, key: k2 }]);
    await refused(before, 'signature', 'admin', onlyV2, T0 + 60_000);
  });

  it('refuses to issue bad requests', async () => {
    const signer = tokenSigner(ring1, { issuer: ISSUER });
    await assert.rejects(signer.issue({ sub: '', sid: 's', aud: 'webmail' }));
    await assert.rejects(signer.issue({ sub: 'a', sid: 's', aud: 'other' as Audience }));
    await assert.rejects(signer.issue({ sub: 'a', sid: 's', aud: 'webmail', scope: ['a b'] }));
    await assert.rejects(signer.issue({ sub: 'a', sid: 's', aud: 'webmail' }, 86_400));
    assert.throws(() => tokenVerifier(ring1, { issuer: '' }));
  });
});
