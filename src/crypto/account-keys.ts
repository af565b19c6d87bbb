// Account keys (DESIGN.md, "Encryption at rest"): each account has a random 32-byte
// symmetric key, wrapped by a master key in managed mode, and an X25519 key pair whose
// public key is stored in the clear (so mail can be sealed to a locked account) and
// whose private key is sealed under the account key. Every message has its own data
// key, wrapped by the account key or sealed to the public key.
//
// Seals and their AAD (purpose / objectId; accountId is always the account's id):
//   wrappedKey        master key   'account-key'          / v<account key version>
//   sealedPrivateKey  account key  'account-private-key'  / v<account key version>
//                     (the private key is stored as its raw 32 bytes)
//   wrapped data key  account key  'data-key'             / <message id>
//   sealed data key   X25519 KEK   'sealed-data-key'      / <message id>
//
// Sealed-to-public-key format: 0x01 | ephemeral public key (32) | nonce (12) |
// ciphertext (32) | tag (16); KEK = HKDF-SHA256(X25519(eph, recipient),
// salt = eph pub | recipient pub, info 'sealpost/1 sealed data key').
//
// Invariants:
// - Opening anything with the wrong key, or after moving it to another account,
//   message or purpose, is an IntegrityError.
// - unwrapAccountKey checks that the stored public key belongs to the sealed private
//   key, so a substituted public key is detected at the next unwrap.
// - Search and thread keys are HKDF subkeys of the account key (derive.ts).

import { randomBytes } from 'node:crypto';
import { IntegrityError, SealpostError } from '../core/errors.ts';
import type { AccountKeyRecord } from '../store/types.ts';
import { encodeAad } from './aad.ts';
import { gcmDecrypt, gcmEncrypt, NONCE_BYTES, TAG_BYTES } from './aead.ts';
import { deriveKey } from './derive.ts';
import { constantTimeEqual } from './hash.ts';
import type { MasterKeyRing } from './master-key.ts';
import { REDACTED, redacted } from './redact.ts';
import { open, seal } from './seal.ts';
import { exchangeKey, generateX25519, privateKeyFromRaw, rawPublicKey, X25519_KEY_BYTES } from './x25519.ts';

export interface AccountKey {
  readonly accountId: string;
  readonly version: number;
  readonly key: Buffer;
  /** Keys the blind search index (HKDF info 'sealpost search v1'). */
  readonly searchKey: Buffer;
  /** Keys the hashes of Message-ID/References for threading (HKDF info 'sealpost thread v1'). */
  readonly threadKey: Buffer;
}

export const SEARCH_KEY_INFO = 'sealpost search v1';
export const THREAD_KEY_INFO = 'sealpost thread v1';
const DATA_KEY_BYTES = 32;
const SEALED_FORMAT_V1 = 0x01;
const SEALED_INFO = 'sealpost/1 sealed data key';
const SEALED_LENGTH = 1 + X25519_KEY_BYTES + NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES;

function accountKey(accountId: string, version: number, key: Buffer): AccountKey {
  return redacted(
    {
      accountId,
      version,
      key,
      searchKey: deriveKey(key, SEARCH_KEY_INFO),
      threadKey: deriveKey(key, THREAD_KEY_INFO),
    },
    () => ({ accountId, version, key: REDACTED, searchKey: REDACTED, threadKey: REDACTED }),
  );
}

function keyAad(accountId: string, version: number) {
  return { purpose: 'account-key', accountId, objectId: `v${version}` };
}

function privateKeyAad(accountId: string, version: number) {
  return { purpose: 'account-private-key', accountId, objectId: `v${version}` };
}

function masterWrappedBy(ring: MasterKeyRing, record: AccountKeyRecord): Buffer {
  if (record.masterVersion === 0) {
    throw new SealpostError(
      'key.missing',
      `account ${record.accountId} is in zero-access mode: its key is not wrapped by a master key`,
      { accountId: record.accountId },
    );
  }
  return ring.get(record.masterVersion).key;
}

function openAccountKey(ring: MasterKeyRing, record: AccountKeyRecord): Buffer {
  const key = open(
    masterWrappedBy(ring, record),
    record.wrappedKey,
    keyAad(record.accountId, record.version),
  );
  if (key.length !== 32) throw new IntegrityError('account-key');
  return key;
}

export function createAccountKeys(
  ring: MasterKeyRing,
  accountId: string,
  now: number,
): { record: AccountKeyRecord; accountKey: AccountKey } {
  const version = 1;
  const key = randomBytes(32);
  const pair = generateX25519();
  const record: AccountKeyRecord = {
    accountId,
    version,
    masterVersion: ring.current.version,
    wrappedKey: seal(ring.current.key, key, keyAad(accountId, version)),
    publicKey: pair.publicKey,
    sealedPrivateKey: seal(key, pair.privateKey, privateKeyAad(accountId, version)),
    createdAt: now,
  };
  pair.privateKey.fill(0);
  return { record, accountKey: accountKey(accountId, version, key) };
}

function openPrivateKey(key: Buffer, record: AccountKeyRecord): Buffer {
  const raw = open(key, record.sealedPrivateKey, privateKeyAad(record.accountId, record.version));
  if (raw.length !== X25519_KEY_BYTES) throw new IntegrityError('account-private-key');
  return raw;
}

/** Open a managed-mode record with the master key ring. */
export function unwrapAccountKey(ring: MasterKeyRing, record: AccountKeyRecord): AccountKey {
  const key = openAccountKey(ring, record);
  const privateRaw = openPrivateKey(key, record);
  const derivedPublic = rawPublicKey(privateKeyFromRaw(privateRaw));
  privateRaw.fill(0);
  if (!constantTimeEqual(derivedPublic, record.publicKey)) throw new IntegrityError('account-public-key');
  return accountKey(record.accountId, record.version, key);
}

/** The same record wrapped by ring.current (master-key rotation; blobs untouched). */
export function rewrapAccountKey(ring: MasterKeyRing, record: AccountKeyRecord): AccountKeyRecord {
  const key = openAccountKey(ring, record);
  const wrappedKey = seal(ring.current.key, key, keyAad(record.accountId, record.version));
  key.fill(0);
  return { ...record, masterVersion: ring.current.version, wrappedKey };
}

export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}

function dataKeyAad(accountId: string, messageId: string) {
  return { purpose: 'data-key', accountId, objectId: messageId };
}

export function wrapDataKey(accountKey: AccountKey, dataKey: Buffer, messageId: string): Buffer {
  if (dataKey.length !== DATA_KEY_BYTES)
    throw new SealpostError('key.invalid', 'a data key must be 32 bytes');
  return seal(accountKey.key, dataKey, dataKeyAad(accountKey.accountId, messageId));
}

export function unwrapDataKey(accountKey: AccountKey, wrapped: Uint8Array, messageId: string): Buffer {
  const dataKey = open(accountKey.key, wrapped, dataKeyAad(accountKey.accountId, messageId));
  if (dataKey.length !== DATA_KEY_BYTES) throw new IntegrityError('data-key');
  return dataKey;
}

function sealedAad(accountId: string, messageId: string): Buffer {
  return encodeAad(
    { purpose: 'sealed-data-key', accountId, objectId: messageId },
    Uint8Array.of(SEALED_FORMAT_V1),
  );
}

/** Seal a data key to an account's public key (mail arriving for a locked account). */
export function sealDataKeyToPublicKey(
  publicKey: Uint8Array,
  dataKey: Buffer,
  accountId: string,
  messageId: string,
): Buffer {
  if (dataKey.length !== DATA_KEY_BYTES)
    throw new SealpostError('key.invalid', 'a data key must be 32 bytes');
  const aad = sealedAad(accountId, messageId);
  const ephemeral = generateX25519();
  const kek = exchangeKey(
    privateKeyFromRaw(ephemeral.privateKey),
    publicKey,
    ephemeral.publicKey,
    publicKey,
    SEALED_INFO,
  );
  ephemeral.privateKey.fill(0);
  if (kek === null)
    throw new SealpostError('key.invalid', `the public key of account ${accountId} is not usable`);
  const nonce = randomBytes(NONCE_BYTES);
  const { ciphertext, tag } = gcmEncrypt(kek, nonce, dataKey, aad);
  kek.fill(0);
  return Buffer.concat([Uint8Array.of(SEALED_FORMAT_V1), ephemeral.publicKey, nonce, ciphertext, tag]);
}

/** Open a data key sealed by sealDataKeyToPublicKey, using the account's private key. */
export function openDataKeyWithPrivateKey(
  accountKey: AccountKey,
  record: AccountKeyRecord,
  sealed: Uint8Array,
  messageId: string,
): Buffer {
  const aad = sealedAad(record.accountId, messageId);
  if (!(sealed instanceof Uint8Array) || sealed.length !== SEALED_LENGTH || sealed[0] !== SEALED_FORMAT_V1) {
    throw new IntegrityError('sealed-data-key');
  }
  const privateRaw = openPrivateKey(accountKey.key, record);
  const privateKey = privateKeyFromRaw(privateRaw);
  privateRaw.fill(0);
  const ephemeralPublic = sealed.subarray(1, 1 + X25519_KEY_BYTES);
  const kek = exchangeKey(
    privateKey,
    ephemeralPublic,
    ephemeralPublic,
    rawPublicKey(privateKey),
    SEALED_INFO,
  );
  if (kek === null) throw new IntegrityError('sealed-data-key');
  const nonceAt = 1 + X25519_KEY_BYTES;
  const ciphertextAt = nonceAt + NONCE_BYTES;
  const tagAt = ciphertextAt + DATA_KEY_BYTES;
  const nonce = sealed.subarray(nonceAt, ciphertextAt);
  const dataKey = gcmDecrypt(kek, nonce, sealed.subarray(ciphertextAt, tagAt), sealed.subarray(tagAt), aad);
  kek.fill(0);
  if (dataKey === null) throw new IntegrityError('sealed-data-key');
  return dataKey;
}
