// DKIM key material: generating a domain's Ed25519 + RSA-2048 pair (RFC 8463 §1: sign
// with both, so verifiers that know Ed25519 use it and the rest still have RSA),
// naming selectors, checking imported keys, and sealing private keys at rest.
//
// Invariants:
// - RSA keys have at least 2048 bits (RFC 8301 §3.2 permits 1024; we refuse it at
//   generation, import and unsealing alike); only Ed25519 and RSA keys are accepted.
// - A private key is stored only sealed (AES-256-GCM, crypto/seal.ts) under a purpose
//   key derived from a master key version (recorded beside it), with associated data
//   binding it to its domain and selector: a sealed key moved to another row fails.
// - Unsealing checks the key against the row's clear algorithm and public key, so a
//   public key edited in the database is caught before anything is signed.
// - No error or log line carries key bytes.

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { IntegrityError, SealpostError } from '../../core/errors.ts';
import { type Aad, deriveKey, type MasterKeyRing, open, seal } from '../../crypto/index.ts';
import type { DkimAlgorithm, DkimKeyRecord } from '../../store/types.ts';

export const DKIM_KEY_INFO = 'sealpost dkim-key v1';
export const DKIM_KEY_PURPOSE = 'dkim-private-key';
export const MIN_RSA_BITS = 2048;
export const RSA_BITS = 2048;

/** A private key ready to sign, with what the signer needs to name it. */
export interface DkimSigningKey {
  readonly domain: string;
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  readonly privateKey: KeyObject;
}

function aad(domain: string, selector: string): Aad {
  return { purpose: DKIM_KEY_PURPOSE, accountId: domain, objectId: selector };
}

/** Throws input.invalid unless `key` is an Ed25519 key or an RSA key of at least 2048 bits. */
export function checkDkimKey(key: KeyObject): DkimAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ed25519';
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new SealpostError(
        'input.invalid',
        `an RSA DKIM key needs at least ${MIN_RSA_BITS} bits; this one has ${bits}. Fix: generate a new pair with \`sealpost dkim generate DOMAIN\``,
      );
    }
    return 'rsa';
  }
  throw new SealpostError('input.invalid', `a DKIM key must be Ed25519 or RSA, not ${type ?? 'unknown'}`);
}

/** A new private key of `algorithm` (rsaBits: for tests of the refusal; below 2048 is refused). */
export function generateDkimKey(algorithm: DkimAlgorithm, rsaBits = RSA_BITS): KeyObject {
  if (algorithm === 'rsa' && rsaBits < MIN_RSA_BITS) {
    throw new SealpostError(
      'input.invalid',
      `an RSA DKIM key needs at least ${MIN_RSA_BITS} bits, not ${rsaBits}`,
    );
  }
  const { privateKey } =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: rsaBits, publicExponent: 0x10001 });
  checkDkimKey(privateKey);
  return privateKey;
}

/** Read a PEM (PKCS#8 or PKCS#1) private key for import; refuses what checkDkimKey refuses. */
export function importDkimKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new SealpostError('input.invalid', 'not a PEM private key');
  }
  checkDkimKey(key);
  return key;
}

/** The SPKI DER of the key's public half, base64 (what the store keeps in the clear). */
export function spkiBase64(key: KeyObject): string {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  return pub.export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * The parts of a DkimKeyRecord that hold key material: the public key and the private
 * key sealed under master key `ring.current`.
 */
export function sealDkimKey(
  ring: MasterKeyRing,
  domain: string,
  selector: string,
  privateKey: KeyObject,
): Pick<DkimKeyRecord, 'algorithm' | 'publicKey' | 'masterVersion' | 'sealedPrivateKey'> {
  const algorithm = checkDkimKey(privateKey);
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const key = deriveKey(ring.current.key, DKIM_KEY_INFO);
  try {
    return {
      algorithm,
      publicKey: spkiBase64(privateKey),
      masterVersion: ring.current.version,
      sealedPrivateKey: new Uint8Array(seal(key, der, aad(domain, selector))),
    };
  } finally {
    der.fill(0);
    key.fill(0);
  }
}

/** Unseal a stored key; IntegrityError if it was tampered with, moved or does not match its row. */
export function openDkimKey(ring: MasterKeyRing, record: DkimKeyRecord): DkimSigningKey {
  const key = deriveKey(ring.get(record.masterVersion).key, DKIM_KEY_INFO);
  let der: Buffer;
  try {
    der = open(key, record.sealedPrivateKey, aad(record.domain, record.selector));
  } finally {
    key.fill(0);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    throw new IntegrityError(DKIM_KEY_PURPOSE);
  } finally {
    der.fill(0);
  }
  if (checkDkimKey(privateKey) !== record.algorithm || spkiBase64(privateKey) !== record.publicKey) {
    throw new IntegrityError(DKIM_KEY_PURPOSE);
  }
  return { domain: record.domain, selector: record.selector, algorithm: record.algorithm, privateKey };
}
