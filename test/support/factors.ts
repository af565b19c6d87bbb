// Second factors for tests that need an account to have one, written straight into the
// store the way enrolment leaves them (enrolment itself is tested over HTTPS in
// web-factors.test.ts): a TOTP factor with a real sealed secret, recovery codes stored as
// keyed hashes, or any other shape through `addFactor`.

import { randomUUID } from 'node:crypto';
import type { Runtime } from '../../src/app/runtime.ts';
import { hashRecoveryCode, newRecoveryCodes, recoveryCodeKey } from '../../src/auth/recovery-codes.ts';
import { newTotpSecret, sealTotpSecret } from '../../src/auth/totp.ts';
import { AccountKeys } from '../../src/mail/account-keys.ts';
import type { AuthFactor } from '../../src/store/types.ts';

type Store = Pick<Runtime, 'store' | 'keys'>;

/** A factor for `address`: a TOTP one without a secret unless `over` says otherwise. */
export async function addFactor(
  rt: Store,
  address: string,
  over: Partial<AuthFactor> = {},
): Promise<AuthFactor> {
  const account = await rt.store.getAccountByAddress(address);
  if (account === null) throw new Error(`no account ${address}`);
  const factor: AuthFactor = {
    id: randomUUID(),
    accountId: account.id,
    kind: 'totp',
    name: 'authenticator app',
    createdAt: Date.now(),
    lastUsedAt: null,
    sealedSecret: null,
    lastStep: null,
    credentialId: null,
    publicKey: null,
    counter: null,
    transports: null,
    codeHashes: null,
    ...over,
  };
  await rt.store.addFactor(factor);
  return factor;
}

/** A working TOTP factor: the secret sealed under the account key. Returns the secret. */
export async function addTotp(
  rt: Store,
  address: string,
  name = 'phone',
): Promise<{ id: string; secret: Buffer }> {
  const account = await rt.store.getAccountByAddress(address);
  if (account === null) throw new Error(`no account ${address}`);
  const key = await new AccountKeys(rt.store, rt.keys, async () => rt.keys).current(account.id);
  const secret = newTotpSecret();
  const id = randomUUID();
  await addFactor(rt, address, { id, name, sealedSecret: sealTotpSecret(key.key, secret, account.id, id) });
  return { id, secret: Buffer.from(secret) };
}

/** `count` recovery codes for `address`; returns the codes. */
export async function addRecoveryCodes(
  rt: Store,
  address: string,
  count: number,
  createdAt = Date.now(),
): Promise<string[]> {
  const codes = newRecoveryCodes(count);
  const key = recoveryCodeKey(rt.keys);
  await addFactor(rt, address, {
    kind: 'recovery',
    name: 'codes',
    createdAt,
    codeHashes: codes.map((c) => hashRecoveryCode(key, c)),
  });
  return codes;
}
