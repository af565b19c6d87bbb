// Password hashing with argon2id (@node-rs/argon2), stored as PHC strings.
//
// Invariants (DESIGN.md security invariant 5):
// - New hashes use ARGON2_PARAMS, at or above OWASP's recommendation; needsRehash()
//   flags any stored hash below them so a successful login can upgrade it.
// - verifyPassword never throws on a malformed hash; it returns false.
// - An unknown user costs the same as a wrong password: verifyAgainstDummy runs the
//   same argon2id computation against DUMMY_HASH, which has ARGON2_PARAMS.
// - Passwords are normalised to Unicode NFC before hashing and verifying (RFC 8265
//   OpaqueString), so the same password typed on different systems matches.

import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import { SealpostError } from '../core/errors.ts';

/**
 * argon2id parameters. OWASP Password Storage Cheat Sheet
 * (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html):
 * "Use Argon2id with a minimum configuration of 19 MiB of memory, an iteration count
 * of 2, and 1 degree of parallelism." memoryCost is in KiB (19 MiB = 19456 KiB).
 */
export const ARGON2_PARAMS = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

// Values of @node-rs/argon2's const enums (not importable as values under isolatedModules).
const ARGON2ID = 2 as Algorithm;
const VERSION_0X13 = 1;
const OUTPUT_BYTES = 32;
const MIN_SALT_BYTES = 16;

/**
 * A well-formed argon2id hash with ARGON2_PARAMS whose salt and digest are random
 * constants: no password matches it, and checking one costs a full argon2id run.
 */
export const DUMMY_HASH =
  `$argon2id$v=19$m=${ARGON2_PARAMS.memoryCost},t=${ARGON2_PARAMS.timeCost},p=${ARGON2_PARAMS.parallelism}` +
  '$QGleNURvknO08aA9PWuDXA$J929k42VbMsdvQXH4NXb5mUOIFcdESt6AzGingUBazM';

function normalise(password: string): string {
  return password.normalize('NFC');
}

export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string')
    throw new SealpostError('input.invalid', 'hashPassword: password must be a string');
  return hash(normalise(password), { algorithm: ARGON2ID, outputLen: OUTPUT_BYTES, ...ARGON2_PARAMS });
}

/** True only if `password` matches `hash`; false for a wrong password or a malformed hash. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  if (typeof hash !== 'string' || typeof password !== 'string' || !hash.startsWith('$argon2')) return false;
  try {
    return await verify(hash, normalise(password));
  } catch {
    return false;
  }
}

/** Spend the time of one verification and answer false: use it for unknown users. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  await verifyPassword(DUMMY_HASH, typeof password === 'string' ? password : '');
  return false;
}

/** True when `hash` is not argon2id v1.3 at ARGON2_PARAMS or stronger (or is malformed). */
export function needsRehash(hash: string): boolean {
  try {
    const o = parseOptions(hash);
    return (
      o.algorithm !== ARGON2ID ||
      o.version !== VERSION_0X13 ||
      o.memoryCost < ARGON2_PARAMS.memoryCost ||
      o.timeCost < ARGON2_PARAMS.timeCost ||
      o.parallelism < ARGON2_PARAMS.parallelism ||
      o.outputLen < OUTPUT_BYTES ||
      o.saltLen < MIN_SALT_BYTES
    );
  } catch {
    return true;
  }
}
