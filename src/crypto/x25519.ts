// X25519 (RFC 7748) key handling on node:crypto, in raw 32-byte form, and the
// ephemeral-static exchange used to seal data keys to an account's public key.
//
// Invariants:
// - Raw keys are converted through the fixed DER prefixes of RFC 8410 (SPKI and
//   PKCS#8 for id-X25519, OID 1.3.101.110); nothing else is accepted.
// - An exchange that yields the all-zero secret (a low-order public key) fails
//   instead of producing a predictable key (RFC 7748 §6.1).
// - The key-encryption key is HKDF-SHA256(shared, salt = ephemeral pub | recipient
//   pub, info), binding both public keys.

import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { SealpostError } from '../core/errors.ts';

export const X25519_KEY_BYTES = 32;
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function rawOf(der: Buffer, prefix: Buffer): Buffer {
  if (der.length !== prefix.length + X25519_KEY_BYTES || !der.subarray(0, prefix.length).equals(prefix)) {
    throw new SealpostError('internal', 'unexpected X25519 key encoding from node:crypto');
  }
  return Buffer.from(der.subarray(prefix.length));
}

function checkRaw(raw: Uint8Array, what: string): void {
  if (!(raw instanceof Uint8Array) || raw.length !== X25519_KEY_BYTES) {
    throw new SealpostError('key.invalid', `${what} must be a raw ${X25519_KEY_BYTES}-byte X25519 key`);
  }
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  checkRaw(raw, 'X25519 public key');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function privateKeyFromRaw(raw: Uint8Array): KeyObject {
  checkRaw(raw, 'X25519 private key');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

/** The raw public key of a public key, or of the public half of a private key. */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return rawOf(pub.export({ format: 'der', type: 'spki' }), SPKI_PREFIX);
}

export function rawPrivateKey(key: KeyObject): Buffer {
  return rawOf(key.export({ format: 'der', type: 'pkcs8' }), PKCS8_PREFIX);
}

/** A fresh key pair as raw bytes. */
export function generateX25519(): { publicKey: Buffer; privateKey: Buffer } {
  const pair = generateKeyPairSync('x25519');
  return { publicKey: rawPublicKey(pair.publicKey), privateKey: rawPrivateKey(pair.privateKey) };
}

/**
 * The 32-byte key-encryption key for an exchange between `privateKey` and
 * `peerPublic`; null if the exchange fails (e.g. a low-order peer key).
 */
export function exchangeKey(
  privateKey: KeyObject,
  peerPublic: Uint8Array,
  ephemeralPublic: Uint8Array,
  recipientPublic: Uint8Array,
  info: string,
): Buffer | null {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey: publicKeyFromRaw(peerPublic) });
  } catch {
    return null;
  }
  if (shared.every((b) => b === 0)) return null;
  const salt = Buffer.concat([ephemeralPublic, recipientPublic]);
  const kek = Buffer.from(hkdfSync('sha256', shared, salt, Buffer.from(info, 'utf8'), 32));
  shared.fill(0);
  return kek;
}
