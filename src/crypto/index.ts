// crypto/: the public surface of Sealpost's cryptography — the master key ring, sealed
// values (AES-256-GCM with associated data), chunked message blobs, account keys and
// data keys (managed and zero-access groundwork), key derivation, keyed hashes and
// password hashing. See DESIGN.md, "Encryption at rest".
//
// Invariant for every export: no error, log line or serialisation carries key bytes.

export type { AccountKey } from './account-keys.ts';
export {
  createAccountKeys,
  newDataKey,
  openDataKeyWithPrivateKey,
  rewrapAccountKey,
  SEARCH_KEY_INFO,
  sealDataKeyToPublicKey,
  THREAD_KEY_INFO,
  unwrapAccountKey,
  unwrapDataKey,
  wrapDataKey,
} from './account-keys.ts';
export { BLOB_CHUNK_SIZE, openBlob, openBlobRange, sealBlob } from './blob.ts';
export { AUDIT_KEY_INFO, auditKey, deriveKey } from './derive.ts';
export { constantTimeEqual, hmacHex, keyedHash, sha256Hex } from './hash.ts';
export type { MasterKey } from './master-key.ts';
export {
  createMasterKeyFile,
  loadMasterKeyFile,
  MasterKeyRing,
  masterKeyRingFromEnv,
  rotateMasterKeyFile,
} from './master-key.ts';
export {
  ARGON2_PARAMS,
  DUMMY_HASH,
  hashPassword,
  needsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from './password.ts';
export type { Aad } from './seal.ts';
export { open, openJson, seal, sealJson } from './seal.ts';
