// Associated data for every AEAD seal in Sealpost: binds a ciphertext to its purpose,
// its account and its object (row id, message id, key version).
//
// Invariants:
// - The encoding is injective: every field (domain tag, format, purpose, accountId,
//   objectId) is length-prefixed (u32 big-endian byte length), so no two different
//   triples, and no two different formats, encode to the same bytes.
// - Strings must be well-formed Unicode: a lone surrogate would encode to U+FFFD and
//   collide with a real U+FFFD, so it is refused rather than silently replaced.
// - The domain tag 'sealpost/1' changes only with a new, incompatible AAD scheme.

import { SealpostError } from '../core/errors.ts';

/** What a sealed value is, and whose and which one it is. */
export interface Aad {
  readonly purpose: string;
  readonly accountId: string;
  readonly objectId: string;
}

const DOMAIN = Buffer.from('sealpost/1', 'utf8');

function field(value: Uint8Array): Buffer[] {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(value.length, 0);
  return [len, Buffer.from(value.buffer, value.byteOffset, value.byteLength)];
}

function text(name: string, value: string): Buffer {
  if (typeof value !== 'string' || !value.isWellFormed()) {
    throw new SealpostError('input.invalid', `associated data ${name} must be a well-formed string`);
  }
  return Buffer.from(value, 'utf8');
}

/**
 * The canonical bytes of `aad` for a given format (the format byte of a sealed value,
 * or the header of a blob): lp('sealpost/1') | lp(format) | lp(purpose) | lp(accountId) | lp(objectId).
 */
export function encodeAad(aad: Aad, format: Uint8Array): Buffer {
  return Buffer.concat([
    ...field(DOMAIN),
    ...field(format),
    ...field(text('purpose', aad.purpose)),
    ...field(text('accountId', aad.accountId)),
    ...field(text('objectId', aad.objectId)),
  ]);
}
