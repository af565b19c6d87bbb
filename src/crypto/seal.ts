// Sealed values: AES-256-GCM with associated data, for keys and sensitive columns
// (envelope, headers, bodystructure, preview, addresses, subjects).
//
// Format: 0x01 (format version) | 12-byte random nonce | ciphertext | 16-byte tag.
// AAD: encodeAad(aad, [0x01]) — 'sealpost/1', the format byte, purpose, accountId and
// objectId, each length-prefixed (see aad.ts).
//
// Invariants:
// - open() throws IntegrityError(purpose) on every failure: wrong key, any flipped
//   byte, truncation, an unknown format byte, or a value moved to another account,
//   object or purpose. It never returns unauthenticated bytes.
// - Nonces are random (96 bits): keep well under 2^32 seals per key. Master keys seal
//   one value per account, account keys one data key per message, data keys a few
//   values per message, so this bound is far away.
// - Errors never carry key bytes or plaintext.

import { randomBytes } from 'node:crypto';
import { IntegrityError, SealpostError } from '../core/errors.ts';
import { type Aad, encodeAad } from './aad.ts';
import { assertKey, gcmDecrypt, gcmEncrypt, NONCE_BYTES, TAG_BYTES } from './aead.ts';

export type { Aad } from './aad.ts';

const FORMAT_V1 = 0x01;
const FORMAT_V1_BYTES = Uint8Array.of(FORMAT_V1);
const HEADER_BYTES = 1 + NONCE_BYTES;

export function seal(key: Buffer, plaintext: Uint8Array, aad: Aad): Buffer {
  assertKey(key, 'seal');
  const nonce = randomBytes(NONCE_BYTES);
  const { ciphertext, tag } = gcmEncrypt(key, nonce, plaintext, encodeAad(aad, FORMAT_V1_BYTES));
  return Buffer.concat([FORMAT_V1_BYTES, nonce, ciphertext, tag]);
}

export function open(key: Buffer, sealed: Uint8Array, aad: Aad): Buffer {
  assertKey(key, 'open');
  const aadBytes = encodeAad(aad, FORMAT_V1_BYTES);
  if (
    !(sealed instanceof Uint8Array) ||
    sealed.length < HEADER_BYTES + TAG_BYTES ||
    sealed[0] !== FORMAT_V1
  ) {
    throw new IntegrityError(aad.purpose);
  }
  const nonce = sealed.subarray(1, HEADER_BYTES);
  const ciphertext = sealed.subarray(HEADER_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const plaintext = gcmDecrypt(key, nonce, ciphertext, tag, aadBytes);
  if (plaintext === null) throw new IntegrityError(aad.purpose);
  return plaintext;
}

/** Seal a JSON-serialisable value (UTF-8 JSON inside). */
export function sealJson(key: Buffer, value: unknown, aad: Aad): Buffer {
  const json = JSON.stringify(value);
  if (json === undefined) {
    throw new SealpostError('input.invalid', `sealJson(${aad.purpose}): value is not JSON-serialisable`);
  }
  return seal(key, Buffer.from(json, 'utf8'), aad);
}

/** Open a value sealed by sealJson. The type parameter is trusted, not checked. */
export function openJson<T>(key: Buffer, sealed: Uint8Array, aad: Aad): T {
  const plaintext = open(key, sealed, aad);
  try {
    return JSON.parse(plaintext.toString('utf8')) as T;
  } catch {
    // Authentic but not JSON: sealed by something other than sealJson.
    throw new IntegrityError(aad.purpose);
  }
}
