// Key derivation: HKDF-SHA256 (RFC 5869) subkeys from a 32-byte key, one per use,
// each named by a distinct info string.
//
// Invariants:
// - Info strings are versioned ('… v1') and unique per use; changing one changes the
//   key and orphans whatever it protected.
// - The salt is empty (RFC 5869 §3.1: HashLen zero bytes): the input keys are already
//   uniformly random, so no extraction salt is needed.
// - The audit-log key is derived from master key VERSION 1, not the current one, so
//   rotating the master key never breaks the verification of the hash chain. Keep v1
//   in the ring for as long as the audit log exists (rotation always keeps it).

import { hkdfSync } from 'node:crypto';
import { assertKey } from './aead.ts';
import type { MasterKeyRing } from './master-key.ts';

export const AUDIT_KEY_INFO = 'sealpost audit v1';

/** A 32-byte subkey of `masterKey` for the use named by `info`. */
export function deriveKey(masterKey: Buffer, info: string): Buffer {
  assertKey(masterKey, 'deriveKey');
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), Buffer.from(info, 'utf8'), 32));
}

/** The audit log's HMAC key: from master key v1 (stable across rotations). */
export function auditKey(ring: MasterKeyRing): Buffer {
  return deriveKey(ring.get(1).key, AUDIT_KEY_INFO);
}
