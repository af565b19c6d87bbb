// Chunked streaming AEAD for message bodies, so a large message can later be read in
// parts (partial IMAP FETCH) without decrypting all of it.
//
// Format:
//   header = 'SPB1' | chunk size (u32 BE, 65536) | 8-byte random nonce prefix   (16 bytes)
//   chunk i = AES-256-GCM(dataKey, nonce = prefix | u32 BE i,
//                         AAD = encodeAad(aad, header) | u32 BE i | last flag (0x00/0x01))
//             as ciphertext | 16-byte tag
// Every chunk holds exactly `chunk size` plaintext bytes except the last, which holds
// 1..chunk size bytes; an empty plaintext is one empty last chunk.
//
// Invariants:
// - The header is inside every chunk's AAD, so changing the magic, chunk size or
//   prefix fails; the index in nonce and AAD catches reordering and swapping; the
//   last-chunk flag catches truncation at a chunk boundary and appended chunks.
// - openBlobRange always authenticates the final chunk too, so the plaintext length
//   it trusts (derived from the sealed length) is authentic: a truncated blob fails
//   even when the requested range lies before the cut.
// - Any failure is IntegrityError(aad.purpose); no unauthenticated byte is returned.

import { randomBytes } from 'node:crypto';
import { IntegrityError, SealpostError } from '../core/errors.ts';
import type { Aad } from './aad.ts';
import { encodeAad } from './aad.ts';
import { assertKey, gcmDecrypt, gcmEncrypt, TAG_BYTES } from './aead.ts';

export const BLOB_CHUNK_SIZE = 65536;
const MAGIC = Buffer.from('SPB1', 'ascii');
const PREFIX_BYTES = 8;
const HEADER_BYTES = MAGIC.length + 4 + PREFIX_BYTES;
/** Readers accept any chunk size up to this (it is authenticated); writers use 64 KiB. */
const MAX_CHUNK_SIZE = 1 << 24;
const MAX_CHUNKS = 2 ** 32;

interface Layout {
  readonly chunkSize: number;
  readonly prefix: Buffer;
  readonly chunkCount: number;
  readonly lastSealedLength: number; // ciphertext + tag of the final chunk
  readonly plainLength: number;
  readonly baseAad: Buffer;
}

function nonceFor(prefix: Uint8Array, index: number): Buffer {
  const nonce = Buffer.alloc(PREFIX_BYTES + 4);
  nonce.set(prefix, 0);
  nonce.writeUInt32BE(index, PREFIX_BYTES);
  return nonce;
}

function chunkAad(baseAad: Buffer, index: number, last: boolean): Buffer {
  const tail = Buffer.alloc(5);
  tail.writeUInt32BE(index, 0);
  tail[4] = last ? 1 : 0;
  return Buffer.concat([baseAad, tail]);
}

export function sealBlob(dataKey: Buffer, plaintext: Uint8Array, aad: Aad): Buffer {
  assertKey(dataKey, 'sealBlob');
  const size = BLOB_CHUNK_SIZE;
  const count = Math.max(1, Math.ceil(plaintext.length / size));
  if (count > MAX_CHUNKS) throw new SealpostError('input.invalid', 'sealBlob: plaintext too large');
  const prefix = randomBytes(PREFIX_BYTES);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(size, MAGIC.length);
  prefix.copy(header, MAGIC.length + 4);
  const baseAad = encodeAad(aad, header);

  const out = Buffer.alloc(HEADER_BYTES + plaintext.length + count * TAG_BYTES);
  header.copy(out, 0);
  let offset = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const chunk = plaintext.subarray(i * size, Math.min(plaintext.length, (i + 1) * size));
    const { ciphertext, tag } = gcmEncrypt(
      dataKey,
      nonceFor(prefix, i),
      chunk,
      chunkAad(baseAad, i, i === count - 1),
    );
    out.set(ciphertext, offset);
    out.set(tag, offset + ciphertext.length);
    offset += ciphertext.length + TAG_BYTES;
  }
  return out;
}

function layoutOf(sealed: Uint8Array, aad: Aad): Layout {
  const fail = (): never => {
    throw new IntegrityError(aad.purpose);
  };
  if (!(sealed instanceof Uint8Array) || sealed.length < HEADER_BYTES + TAG_BYTES) fail();
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) fail();
  const chunkSize = buf.readUInt32BE(MAGIC.length);
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) fail();
  const header = buf.subarray(0, HEADER_BYTES);
  const stride = chunkSize + TAG_BYTES;
  const body = buf.length - HEADER_BYTES;
  const chunkCount = Math.ceil(body / stride);
  const lastSealedLength = body - (chunkCount - 1) * stride;
  // Only a lone chunk may be empty; a final chunk shorter than a tag is a cut.
  if (chunkCount > MAX_CHUNKS || lastSealedLength < TAG_BYTES) fail();
  if (chunkCount > 1 && lastSealedLength === TAG_BYTES) fail();
  return {
    chunkSize,
    prefix: header.subarray(MAGIC.length + 4),
    chunkCount,
    lastSealedLength,
    plainLength: (chunkCount - 1) * chunkSize + lastSealedLength - TAG_BYTES,
    baseAad: encodeAad(aad, header),
  };
}

function openChunk(key: Buffer, sealed: Uint8Array, layout: Layout, index: number, aad: Aad): Buffer {
  const last = index === layout.chunkCount - 1;
  const start = HEADER_BYTES + index * (layout.chunkSize + TAG_BYTES);
  const end = start + (last ? layout.lastSealedLength : layout.chunkSize + TAG_BYTES);
  const plaintext = gcmDecrypt(
    key,
    nonceFor(layout.prefix, index),
    sealed.subarray(start, end - TAG_BYTES),
    sealed.subarray(end - TAG_BYTES, end),
    chunkAad(layout.baseAad, index, last),
  );
  if (plaintext === null) throw new IntegrityError(aad.purpose);
  return plaintext;
}

export function openBlob(dataKey: Buffer, sealed: Uint8Array, aad: Aad): Buffer {
  assertKey(dataKey, 'openBlob');
  const layout = layoutOf(sealed, aad);
  const out = Buffer.alloc(layout.plainLength);
  for (let i = 0; i < layout.chunkCount; i++) {
    out.set(openChunk(dataKey, sealed, layout, i, aad), i * layout.chunkSize);
  }
  return out;
}

/**
 * The plaintext bytes [start, end) (end is clamped to the plaintext length), opening
 * only the chunks that cover the range plus the final chunk (which authenticates the
 * length). start and end are non-negative integers with start <= end.
 */
export function openBlobRange(
  dataKey: Buffer,
  sealed: Uint8Array,
  aad: Aad,
  start: number,
  end: number,
): Buffer {
  assertKey(dataKey, 'openBlobRange');
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new SealpostError('input.invalid', `openBlobRange: invalid range [${start}, ${end})`);
  }
  const layout = layoutOf(sealed, aad);
  const lastIndex = layout.chunkCount - 1;
  const lastChunk = openChunk(dataKey, sealed, layout, lastIndex, aad);
  const from = Math.min(start, layout.plainLength);
  const to = Math.min(end, layout.plainLength);
  const out = Buffer.alloc(to - from);
  if (from === to) return out;
  const first = Math.floor(from / layout.chunkSize);
  const final = Math.floor((to - 1) / layout.chunkSize);
  for (let i = first; i <= final; i++) {
    const chunk = i === lastIndex ? lastChunk : openChunk(dataKey, sealed, layout, i, aad);
    const chunkStart = i * layout.chunkSize;
    const lo = Math.max(from, chunkStart) - chunkStart;
    const hi = Math.min(to, chunkStart + chunk.length) - chunkStart;
    out.set(chunk.subarray(lo, hi), chunkStart + lo - from);
  }
  return out;
}
