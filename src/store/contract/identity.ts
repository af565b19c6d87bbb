// Store contract, part 10: identity (issue 4) — app passwords and second factors
// (TOTP replay guard, WebAuthn counters, single-use recovery codes), their
// failure paths and their removal with the account. Password history and the
// security log are in identity-log.ts. Registered by runStoreContract.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AppPasswordRecord, AuthFactor, ProtocolScope } from '../types.ts';
import { bytes, type OpenStore, rejectsWith, sameBytes, seedAccount, useStore } from './fixtures.ts';

const T0 = 1_800_000_000_000;

function randomId(prefix: string): string {
  return `${prefix}${randomBytes(8).toString('hex')}`;
}

export function appPassword(accountId: string, over: Partial<AppPasswordRecord> = {}): AppPasswordRecord {
  return {
    id: randomId('').slice(0, 8),
    accountId,
    name: 'Thunderbird',
    secretHash: 'ab'.repeat(32),
    scopes: ['imap', 'smtp'],
    expiresAt: null,
    allowedNetworks: null,
    createdAt: T0,
    revokedAt: null,
    lastUsedAt: null,
    lastUsedAddress: null,
    ...over,
  };
}

export function factor(
  accountId: string,
  kind: AuthFactor['kind'],
  over: Partial<AuthFactor> = {},
): AuthFactor {
  return {
    id: randomId('fac_'),
    accountId,
    kind,
    name: kind,
    createdAt: T0,
    lastUsedAt: null,
    sealedSecret: kind === 'totp' ? bytes(48) : null,
    lastStep: null,
    credentialId: kind === 'webauthn' ? randomId('cred-') : null,
    publicKey: kind === 'webauthn' ? bytes(77) : null,
    counter: kind === 'webauthn' ? 0 : null,
    transports: kind === 'webauthn' ? ['usb', 'nfc'] : null,
    codeHashes: kind === 'recovery' ? ['h1', 'h2', 'h3'] : null,
    ...over,
  };
}

export function identityContract(open: OpenStore): void {
  const s = useStore(open);

  describe('app passwords', () => {
    it('stores, reads and lists app passwords newest first', async () => {
      const { account } = await seedAccount(s());
      const a = appPassword(account.id, { allowedNetworks: ['192.0.2.0/24', '2001:db8::/32'] });
      const b = appPassword(account.id, {
        name: 'Phone',
        scopes: ['pop3'],
        createdAt: T0 + 1,
        expiresAt: T0 + 9,
      });
      await s().addAppPassword(a);
      await s().addAppPassword(b);
      assert.deepEqual(await s().getAppPassword(a.id), a);
      assert.equal(await s().getAppPassword('missing1'), null);
      assert.deepEqual(await s().listAppPasswords(account.id), [b, a]);
      assert.deepEqual(await s().listAppPasswords('acc_none'), []);
    });

    it('refuses a duplicate id, a missing account and invalid values', async () => {
      const { account } = await seedAccount(s());
      const a = appPassword(account.id);
      await s().addAppPassword(a);
      await rejectsWith(s().addAppPassword({ ...a, name: 'other' }), 'store.conflict');
      await rejectsWith(s().addAppPassword(appPassword('acc_missing')), 'store.not-found');
      await rejectsWith(s().addAppPassword(appPassword(account.id, { id: '' })), 'input.invalid');
      await rejectsWith(s().addAppPassword(appPassword(account.id, { name: '' })), 'input.invalid');
      await rejectsWith(s().addAppPassword(appPassword(account.id, { scopes: [] })), 'input.invalid');
      const bad = ['imap', 'ftp'] as unknown as ProtocolScope[];
      await rejectsWith(s().addAppPassword(appPassword(account.id, { scopes: bad })), 'input.invalid');
      assert.equal((await s().listAppPasswords(account.id)).length, 1);
    });

    it('revokes idempotently, and only for the owning account', async () => {
      const { account } = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const a = appPassword(account.id);
      await s().addAppPassword(a);
      await rejectsWith(s().revokeAppPassword(bob.account.id, a.id, T0 + 5), 'store.not-found');
      await rejectsWith(s().revokeAppPassword(account.id, 'missing1', T0 + 5), 'store.not-found');
      assert.equal((await s().getAppPassword(a.id))?.revokedAt, null);
      await s().revokeAppPassword(account.id, a.id, T0 + 5);
      await s().revokeAppPassword(account.id, a.id, T0 + 6);
      assert.equal((await s().getAppPassword(a.id))?.revokedAt, T0 + 5, 'the first revocation stays');
    });

    it('records the last use, and ignores a missing id', async () => {
      const { account } = await seedAccount(s());
      const a = appPassword(account.id);
      await s().addAppPassword(a);
      await s().touchAppPassword(a.id, T0 + 10, '192.0.2.7');
      await s().touchAppPassword(a.id, T0 + 20, '2001:db8::1');
      await s().touchAppPassword('missing1', T0 + 20, '192.0.2.7');
      const got = await s().getAppPassword(a.id);
      assert.equal(got?.lastUsedAt, T0 + 20);
      assert.equal(got?.lastUsedAddress, '2001:db8::1');
    });
  });

  describe('second factors', () => {
    it('stores every kind and lists them oldest first', async () => {
      const { account } = await seedAccount(s());
      const totp = factor(account.id, 'totp', { createdAt: T0 + 2 });
      const key = factor(account.id, 'webauthn', { createdAt: T0 + 1 });
      const codes = factor(account.id, 'recovery', { createdAt: T0 + 3 });
      for (const f of [totp, key, codes]) await s().addFactor(f);
      const list = await s().listFactors(account.id);
      assert.deepEqual(
        list.map((f) => f.id),
        [key.id, totp.id, codes.id],
      );
      const gotKey = list[0]!;
      sameBytes(gotKey.publicKey!, key.publicKey!);
      assert.deepEqual({ ...gotKey, publicKey: null }, { ...key, publicKey: null });
      sameBytes(list[1]!.sealedSecret!, totp.sealedSecret!);
      assert.deepEqual(list[2]!.codeHashes, ['h1', 'h2', 'h3']);
      assert.equal((await s().getFactorByCredentialId(key.credentialId!))?.id, key.id);
      assert.equal(await s().getFactorByCredentialId('cred-none'), null);
    });

    it('refuses a duplicate credential id or factor id, a missing account, and a factor without its data', async () => {
      const { account } = await seedAccount(s());
      const key = factor(account.id, 'webauthn');
      await s().addFactor(key);
      await rejectsWith(
        s().addFactor(factor(account.id, 'webauthn', { credentialId: key.credentialId })),
        'store.conflict',
      );
      await rejectsWith(s().addFactor({ ...key, credentialId: 'cred-other' }), 'store.conflict');
      await rejectsWith(s().addFactor(factor('acc_missing', 'totp')), 'store.not-found');
      await rejectsWith(s().addFactor(factor(account.id, 'totp', { sealedSecret: null })), 'input.invalid');
      await rejectsWith(s().addFactor(factor(account.id, 'recovery', { name: '' })), 'input.invalid');
      assert.equal((await s().listFactors(account.id)).length, 1);
    });

    it('removes a factor only for its account', async () => {
      const { account } = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const f = factor(account.id, 'totp');
      await s().addFactor(f);
      await rejectsWith(s().removeFactor(bob.account.id, f.id), 'store.not-found');
      await s().removeFactor(account.id, f.id);
      await rejectsWith(s().removeFactor(account.id, f.id), 'store.not-found');
      assert.deepEqual(await s().listFactors(account.id), []);
    });

    it('advances the TOTP step only forwards; of two equal steps exactly one wins', async () => {
      const { account } = await seedAccount(s());
      const f = factor(account.id, 'totp');
      await s().addFactor(f);
      const race = await Promise.all([s().advanceTotpStep(f.id, 100), s().advanceTotpStep(f.id, 100)]);
      assert.deepEqual(race.sort(), [false, true]);
      assert.equal(await s().advanceTotpStep(f.id, 99), false, 'an older step is a replay');
      assert.equal(await s().advanceTotpStep(f.id, 101), true);
      assert.equal(await s().advanceTotpStep('fac_missing', 200), false);
      const got = (await s().listFactors(account.id))[0];
      assert.equal(got?.lastStep, 101);
      assert.notEqual(got?.lastUsedAt, null);
    });

    it('records the WebAuthn counter and time of use', async () => {
      const { account } = await seedAccount(s());
      const f = factor(account.id, 'webauthn');
      await s().addFactor(f);
      await s().updateWebauthnCounter(f.id, 7, T0 + 50);
      const got = await s().getFactorByCredentialId(f.credentialId!);
      assert.equal(got?.counter, 7);
      assert.equal(got?.lastUsedAt, T0 + 50);
      await rejectsWith(s().updateWebauthnCounter(f.id, -1, T0), 'input.invalid');
    });

    it('consumes each recovery code once, also under concurrent use', async () => {
      const { account } = await seedAccount(s());
      const f = factor(account.id, 'recovery');
      await s().addFactor(f);
      const race = await Promise.all([
        s().consumeRecoveryCode(f.id, 'h2'),
        s().consumeRecoveryCode(f.id, 'h2'),
      ]);
      assert.deepEqual(race.sort(), [false, true]);
      assert.equal(await s().consumeRecoveryCode(f.id, 'nope'), false);
      assert.equal(await s().consumeRecoveryCode('fac_missing', 'h1'), false);
      assert.deepEqual((await s().listFactors(account.id))[0]?.codeHashes, ['h1', 'h3']);
      assert.equal(await s().consumeRecoveryCode(f.id, 'h1'), true);
      assert.equal(await s().consumeRecoveryCode(f.id, 'h3'), true);
      assert.deepEqual((await s().listFactors(account.id))[0]?.codeHashes, []);
    });
  });

  it('deleteAccount removes its app passwords and factors, not those of others', async () => {
    const alice = await seedAccount(s());
    const bob = await seedAccount(s(), 'bob');
    const a = appPassword(alice.account.id);
    const b = appPassword(bob.account.id);
    const key = factor(alice.account.id, 'webauthn');
    for (const p of [a, b]) await s().addAppPassword(p);
    await s().addFactor(key);
    await s().addFactor(factor(bob.account.id, 'totp'));
    await s().deleteAccount(alice.account.id);
    assert.equal(await s().getAppPassword(a.id), null);
    assert.equal(await s().getFactorByCredentialId(key.credentialId!), null);
    assert.deepEqual(await s().listFactors(alice.account.id), []);
    assert.deepEqual(await s().getAppPassword(b.id), b);
    assert.equal((await s().listFactors(bob.account.id)).length, 1);
    // The ids are free again once the account is gone.
    const carol = await seedAccount(s(), 'carol');
    await s().addAppPassword({ ...a, accountId: carol.account.id });
    await s().addFactor({ ...key, accountId: carol.account.id });
  });
}
