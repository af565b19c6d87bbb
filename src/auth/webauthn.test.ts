import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SoftAuthenticator } from '../../test/support/soft-authenticator.ts';
import { isSealpostError } from '../core/errors.ts';
import type { AuthFactor } from '../store/types.ts';
import {
  authenticationOptions,
  findWebAuthnFactor,
  type RegistrationResult,
  registrationOptions,
  verifyAuthentication,
  verifyRegistration,
  webauthnConfig,
} from './webauthn.ts';

const cfg = webauthnConfig({
  rpId: 'mail.example.test',
  rpName: 'Sealpost',
  origins: ['https://webmail.example.test'],
});
const ORIGIN = 'https://mail.example.test';

function factorFrom(accountId: string, reg: RegistrationResult, id = 'f1'): AuthFactor {
  assert.ok(reg.ok, `registration refused: ${reg.ok ? '' : reg.reason}`);
  return {
    id,
    accountId,
    kind: 'webauthn',
    name: 'soft key',
    createdAt: 0,
    lastUsedAt: null,
    sealedSecret: null,
    lastStep: null,
    credentialId: reg.credentialId,
    publicKey: reg.publicKey,
    counter: reg.counter,
    transports: reg.transports,
    codeHashes: null,
  };
}

async function register(auth: SoftAuthenticator, accountId: string): Promise<AuthFactor> {
  const opts = await registrationOptions(cfg, {
    accountId,
    address: `${accountId}@example.test`,
    existing: [],
  });
  const response = auth.create(opts);
  return factorFrom(
    accountId,
    await verifyRegistration(cfg, { response, expectedChallenge: opts.challenge }),
  );
}

describe('webauthnConfig', () => {
  it('always accepts https://<rpId> and the configured extras, and nothing malformed', () => {
    assert.deepEqual(cfg.origins, ['https://mail.example.test', 'https://webmail.example.test']);
    assert.throws(
      () => webauthnConfig({ rpId: 'not a host', rpName: 'x' }),
      (e) => isSealpostError(e, 'config.invalid'),
    );
    assert.throws(
      () => webauthnConfig({ rpId: 'a.test', rpName: 'x', origins: ['http://a.test'] }),
      (e) => isSealpostError(e, 'config.invalid'),
    );
    assert.throws(
      () => webauthnConfig({ rpId: 'a.test', rpName: 'x', origins: ['https://a.test/path'] }),
      (e) => isSealpostError(e, 'config.invalid'),
    );
  });
});

describe('registration options', () => {
  it('carry the RP, the account id as user handle, the algorithms and existing credentials', async () => {
    const auth = new SoftAuthenticator(ORIGIN);
    const existing = await register(auth, 'acct-1');
    const opts = await registrationOptions(cfg, {
      accountId: 'acct-1',
      address: 'a@example.test',
      existing: [existing],
    });
    assert.equal(opts.rp.id, 'mail.example.test');
    assert.equal(opts.user.id, Buffer.from('acct-1').toString('base64url'));
    assert.deepEqual(
      opts.pubKeyCredParams.map((p) => p.alg),
      [-7, -8, -257],
    );
    assert.equal(opts.attestation, 'none');
    assert.equal(opts.authenticatorSelection?.residentKey, 'preferred');
    assert.equal(opts.authenticatorSelection?.userVerification, 'preferred');
    assert.deepEqual(
      opts.excludeCredentials?.map((c) => c.id),
      [existing.credentialId],
    );
    assert.ok(opts.challenge.length >= 32);
  });
});

describe('registration and login through a software authenticator', () => {
  it('registers, then logs in twice with an increasing counter', async () => {
    const auth = new SoftAuthenticator(ORIGIN);
    let factor = await register(auth, 'acct-1');
    assert.equal(factor.counter, 0);
    assert.deepEqual(factor.transports, ['internal']);
    for (const expected of [1, 2]) {
      const opts = await authenticationOptions(cfg, { factors: [factor] });
      assert.deepEqual(
        opts.allowCredentials?.map((c) => c.id),
        [factor.credentialId],
      );
      const response = auth.get(opts);
      const found = findWebAuthnFactor([factor], response);
      assert.equal(found, factor);
      const res = await verifyAuthentication(cfg, { response, expectedChallenge: opts.challenge, factor });
      assert.deepEqual(res, { ok: true, newCounter: expected, userVerified: true });
      factor = { ...factor, counter: res.ok ? res.newCounter : null };
    }
  });

  it('works with a discoverable credential (empty allow list) and an extra origin', async () => {
    const auth = new SoftAuthenticator('https://webmail.example.test');
    const opts0 = await registrationOptions(cfg, {
      accountId: 'acct-2',
      address: 'b@example.test',
      existing: [],
    });
    const factor = factorFrom(
      'acct-2',
      await verifyRegistration(cfg, {
        response: auth.create({ ...opts0, rp: { id: cfg.rpId } }),
        expectedChallenge: opts0.challenge,
      }),
    );
    const opts = await authenticationOptions(cfg, { factors: [] });
    assert.deepEqual(opts.allowCredentials, []);
    const response = auth.get({ ...opts, rpId: cfg.rpId });
    const res = await verifyAuthentication(cfg, { response, expectedChallenge: opts.challenge, factor });
    assert.equal(res.ok, true);
  });
});

describe('refusals', () => {
  it('refuses a wrong origin at registration and at login', async () => {
    const auth = new SoftAuthenticator(ORIGIN);
    const opts = await registrationOptions(cfg, {
      accountId: 'acct-1',
      address: 'a@example.test',
      existing: [],
    });
    const bad = auth.create(opts, { origin: 'https://evil.example' });
    const reg = await verifyRegistration(cfg, { response: bad, expectedChallenge: opts.challenge });
    assert.equal(reg.ok ? 'ok' : reg.reason, 'origin');
    const factor = await register(auth, 'acct-1');
    const aopts = await authenticationOptions(cfg, { factors: [factor] });
    const response = auth.get(aopts, { origin: 'https://mail.example.test.evil.example' });
    const res = await verifyAuthentication(cfg, { response, expectedChallenge: aopts.challenge, factor });
    assert.equal(res.ok ? 'ok' : res.reason, 'origin');
  });

  it('refuses a wrong RP ID at registration and at login', async () => {
    const auth = new SoftAuthenticator(ORIGIN);
    const opts = await registrationOptions(cfg, {
      accountId: 'acct-1',
      address: 'a@example.test',
      existing: [],
    });
    const reg = await verifyRegistration(cfg, {
      response: auth.create(opts, { rpId: 'example.test' }),
      expectedChallenge: opts.challenge,
    });
    assert.equal(reg.ok ? 'ok' : reg.reason, 'rp-id');
    const factor = await register(auth, 'acct-1');
    const aopts = await authenticationOptions(cfg, { factors: [factor] });
    const response = auth.get(aopts, { rpId: 'evil.example' });
    const res = await verifyAuthentication(cfg, { response, expectedChallenge: aopts.challenge, factor });
    assert.equal(res.ok ? 'ok' : res.reason, 'rp-id');
  });

  it('refuses a wrong challenge and a wrong ceremony type', async () => {
    const auth = new SoftAuthenticator(ORIGIN);
    const opts = await registrationOptions(cfg, {
      accountId: 'acct-1',
      address: 'a@example.test',
      existing: [],
    });
    const reg = await verifyRegistration(cfg, {
      response: auth.create(opts),
      expectedChallenge: 'another-challenge',
    });
    assert.equal(reg.ok ? 'ok' : reg.reason, 'challenge');
    const factor = await register(auth, 'acct-1');
    const aopts = await authenticationOptions(cfg, { factors: [factor] });
    const stale = auth.get(aopts, { challenge: Buffer.from('old').toString('base64url') });
    const res = await verifyAuthentication(cfg, {
      response: stale,
      expectedChallenge: aopts.challenge,
      factor,
    });
    assert.equal(res.ok ? 'ok' : res.reason, 'challenge');
    const typed = auth.get(aopts, { type: 'webauthn.create' });
    const res2 = await verifyAuthentication(cfg, {
      response: typed,
      expectedChallenge: aopts.challenge,
      factor,
    });
    assert.equal(res2.ok ? 'ok' : res2.reason, 'type');
  });

  it('refuses a counter that does not increase (cloned authenticator or replay)', async () => {
    const auth = new SoftAuthenticator(ORIGIN);
    const factor0 = await register(auth, 'acct-1');
    const factor = { ...factor0, counter: 5 };
    for (const counter of [5, 4, 0]) {
      const aopts = await authenticationOptions(cfg, { factors: [factor] });
      const response = auth.get(aopts, { counter });
      const res = await verifyAuthentication(cfg, { response, expectedChallenge: aopts.challenge, factor });
      assert.equal(res.ok ? 'ok' : res.reason, 'counter', `counter ${counter}`);
    }
    // A replayed assertion (same response twice) fails once the counter is stored.
    const aopts = await authenticationOptions(cfg, { factors: [factor] });
    const response = auth.get(aopts, { counter: 6 });
    const first = await verifyAuthentication(cfg, { response, expectedChallenge: aopts.challenge, factor });
    assert.deepEqual(first, { ok: true, newCounter: 6, userVerified: true });
    const again = await verifyAuthentication(cfg, {
      response,
      expectedChallenge: aopts.challenge,
      factor: { ...factor, counter: 6 },
    });
    assert.equal(again.ok ? 'ok' : again.reason, 'counter');
  });

  it("does not accept another account's credential", async () => {
    const alice = new SoftAuthenticator(ORIGIN);
    const mallory = new SoftAuthenticator(ORIGIN);
    const aliceFactor = await register(alice, 'acct-alice');
    const malloryFactor = await register(mallory, 'acct-mallory');
    const aopts = await authenticationOptions(cfg, { factors: [] });
    const response = mallory.get(aopts);
    // Looked up among Alice's factors, Mallory's credential is not found...
    assert.equal(findWebAuthnFactor([aliceFactor], response), null);
    // ...and presented against Alice's factor it is refused.
    const res = await verifyAuthentication(cfg, {
      response,
      expectedChallenge: aopts.challenge,
      factor: aliceFactor,
    });
    assert.equal(res.ok ? 'ok' : res.reason, 'unknown-credential');
    // Claiming Alice's credential id while signing with Mallory's key fails the signature.
    const forged = mallory.get(aopts, { credentialId: aliceFactor.credentialId ?? '' });
    const res2 = await verifyAuthentication(cfg, {
      response: {
        ...forged,
        response: { ...forged.response, userHandle: Buffer.from('acct-alice').toString('base64url') },
      },
      expectedChallenge: aopts.challenge,
      factor: aliceFactor,
    });
    assert.equal(res2.ok ? 'ok' : res2.reason, 'signature');
    // Mallory's own factor moved onto Alice's account: the user handle gives it away.
    const moved = { ...malloryFactor, accountId: 'acct-alice' };
    const res3 = await verifyAuthentication(cfg, {
      response: mallory.get(aopts),
      expectedChallenge: aopts.challenge,
      factor: moved,
    });
    assert.equal(res3.ok ? 'ok' : res3.reason, 'user-handle');
  });

  it('refuses an assertion without user presence', async () => {
    const auth = new SoftAuthenticator(ORIGIN);
    const factor = await register(auth, 'acct-1');
    const aopts = await authenticationOptions(cfg, { factors: [factor] });
    const res = await verifyAuthentication(cfg, {
      response: auth.get(aopts, { userPresent: false }),
      expectedChallenge: aopts.challenge,
      factor,
    });
    assert.equal(res.ok ? 'ok' : res.reason, 'user-presence');
  });
});
