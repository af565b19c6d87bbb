// Checking a second factor for a pending web session: TOTP (RFC 6238, auth/totp.ts)
// and single-use recovery codes (auth/recovery-codes.ts). WebAuthn login is not
// served here yet.
//
// Invariants:
// - A TOTP code counts only once the store's compare-and-set (advanceTotpStep) has
//   moved the factor's last step forward: two concurrent uses of one code cannot
//   both pass (RFC 6238 §5.2).
// - A recovery code counts only once the store has removed its hash
//   (consumeRecoveryCode): each code works once.
// - The TOTP secret is opened with the account key and dropped after use; codes and
//   secrets are never logged.

import { findRecoveryCode } from '../auth/recovery-codes.ts';
import { openTotpSecret, verifyTotp } from '../auth/totp.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import type { AuthFactor, FactorKind, Store } from '../store/types.ts';

export interface FactorDeps {
  readonly store: Store;
  readonly accountKeys: AccountKeys;
  readonly recoveryKey: Buffer;
  readonly now: () => number;
}

/** The kinds of second factor the account can answer with, in a fixed order. */
export function availableFactors(factors: readonly AuthFactor[]): FactorKind[] {
  const kinds = new Set(factors.map((f) => f.kind));
  return (['totp', 'webauthn', 'recovery'] as const).filter((k) => {
    if (k !== 'recovery') return kinds.has(k);
    return factors.some((f) => f.kind === 'recovery' && (f.codeHashes?.length ?? 0) > 0);
  });
}

export async function checkTotp(d: FactorDeps, accountId: string, code: string): Promise<boolean> {
  const factors = (await d.store.listFactors(accountId)).filter((f) => f.kind === 'totp');
  if (factors.length === 0) return false;
  const key = await d.accountKeys.current(accountId);
  let passed = false;
  for (const f of factors) {
    if (f.sealedSecret === null) continue;
    const secret = openTotpSecret(key.key, f.sealedSecret, accountId, f.id);
    const result = verifyTotp({ secret, code, now: d.now(), lastStep: f.lastStep });
    secret.fill(0);
    if (result.ok && !passed) passed = await d.store.advanceTotpStep(f.id, result.step);
  }
  return passed;
}

export async function checkRecoveryCode(d: FactorDeps, accountId: string, code: string): Promise<boolean> {
  const factors = (await d.store.listFactors(accountId)).filter((f) => f.kind === 'recovery');
  for (const f of factors) {
    const hashes = f.codeHashes ?? [];
    const i = findRecoveryCode(d.recoveryKey, code, hashes);
    const hash = hashes[i];
    if (i >= 0 && hash !== undefined) return d.store.consumeRecoveryCode(f.id, hash);
  }
  return false;
}
