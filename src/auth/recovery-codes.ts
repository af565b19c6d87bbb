// Recovery codes: single-use codes that stand in for a lost second factor (issue 4).
// Pure logic: the caller stores the hashes and deletes the one that was used.
//
// Format: 16 characters of Crockford base32 (digits and upper-case letters without
// I, L, O, U) in four groups, XXXX-XXXX-XXXX-XXXX: 80 random bits. A typed code is
// read leniently, as Crockford intends: case-insensitive, dashes and spaces
// ignored, I and L read as 1, O read as 0.
//
// Why a keyed hash and not argon2: a password is guessable, so its hash must be slow;
// a recovery code is 80 random bits, so no dictionary helps and 2^80 guesses stay out
// of reach however fast the hash. The key (a purpose key from deriveKey, held outside
// the database) also means a stolen table alone cannot be tested offline at all. A fast hash keeps verification cheap
// against every stored code, which single-use lookup needs.
//
// Invariants:
// - Only the hash is stored; a code is shown once, at generation.
// - findRecoveryCode compares against every stored hash in constant time and decides
//   after the last one; it never short-circuits on a match.
// - Hashing is over the normalised form, with a domain prefix, so every spelling of
//   one code has one hash and no other keyed hash under the same key collides with it.

import { randomBytes } from 'node:crypto';
import { SealpostError } from '../core/errors.ts';
import { constantTimeEqual, deriveKey, keyedHash, type MasterKeyRing } from '../crypto/index.ts';

/** Crockford's base32 alphabet (https://www.crockford.com/base32.html). */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_BYTES = 10; // 16 characters × 5 bits = 80 bits
const GROUP = 4;
const HASH_DOMAIN = 'sealpost/recovery-code/1\0';
/** 16 characters of ALPHABET. */
const NORMALISED = /^[0-9A-HJKMNP-TV-Z]{16}$/;

/** Encode exactly 10 bytes as 16 Crockford base32 characters (big-endian bit order). */
function encode80(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

function group(code: string): string {
  const parts: string[] = [];
  for (let i = 0; i < code.length; i += GROUP) parts.push(code.slice(i, i + GROUP));
  return parts.join('-');
}

/** `count` fresh codes, XXXX-XXXX-XXXX-XXXX, to show the user once. */
export function newRecoveryCodes(count = 10): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new SealpostError('input.invalid', 'recovery codes: count must be an integer from 1 to 100');
  }
  const codes = new Set<string>();
  while (codes.size < count) codes.add(group(encode80(randomBytes(CODE_BYTES))));
  return [...codes];
}

/**
 * The canonical form of a typed code (16 characters, no dashes), or null if it
 * cannot be a recovery code.
 */
export function normaliseRecoveryCode(code: string): string | null {
  // ASCII only, so no Unicode case mapping (ı → I, ß → SS) can forge a character.
  if (typeof code !== 'string' || code.length > 64 || !/^[\x20-\x7e]*$/.test(code)) return null;
  const canonical = code.toUpperCase().replace(/[- ]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  return NORMALISED.test(canonical) ? canonical : null;
}

/** The stored form of a code: HMAC-SHA256 of its normalised form under `key`, hex. */
export function hashRecoveryCode(key: Buffer, code: string): string {
  const canonical = normaliseRecoveryCode(code);
  if (canonical === null) {
    throw new SealpostError('input.invalid', 'recovery code is not in the recovery-code format');
  }
  return keyedHash(key, HASH_DOMAIN + canonical).toString('hex');
}

/**
 * The index in `storedHashes` of the hash that matches `code`, or -1 (also for a
 * malformed code). The caller deletes that entry so the code works only once.
 */
export function findRecoveryCode(key: Buffer, code: string, storedHashes: readonly string[]): number {
  const canonical = normaliseRecoveryCode(code);
  if (canonical === null) return -1;
  const given = keyedHash(key, HASH_DOMAIN + canonical);
  let found = -1;
  for (let i = 0; i < storedHashes.length; i++) {
    const stored = Buffer.from(storedHashes[i] ?? '', 'hex');
    if (constantTimeEqual(given, stored) && found === -1) found = i;
  }
  return found;
}

export const RECOVERY_CODE_KEY_INFO = 'sealpost recovery-code v1';

/**
 * The recovery-code hashing key: derived from master key v1, like the app-password
 * and audit keys, so `sealpost keys rotate` does not invalidate codes users keep on
 * paper (derived from the current master key, every stored hash stopped matching).
 */
export function recoveryCodeKey(ring: MasterKeyRing): Buffer {
  return deriveKey(ring.get(1).key, RECOVERY_CODE_KEY_INFO);
}
