import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { IntegrityError, isSealpostError } from '../core/errors.ts';
import type { Aad } from './aad.ts';
import { BLOB_CHUNK_SIZE, openBlob, openBlobRange, sealBlob } from './blob.ts';

const CS = BLOB_CHUNK_SIZE;
const HEADER = 16;
const STRIDE = CS + 16;
const key = randomBytes(32);
const aad: Aad = { purpose: 'blob', accountId: 'acc_1', objectId: 'msg_1' };

function isIntegrity(e: unknown): boolean {
  return e instanceof IntegrityError && /blob/.test(e.message);
}

/** The sealed chunks of a blob, split by the documented layout. */
function chunksOf(sealed: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = HEADER; off < sealed.length; off += STRIDE) out.push(sealed.subarray(off, off + STRIDE));
  return out;
}

describe('sealBlob/openBlob', () => {
  it('round-trips sizes around chunk boundaries', () => {
    for (const size of [0, 1, CS - 1, CS, CS + 1, 3 * CS + 5]) {
      const plaintext = randomBytes(size);
      const sealed = sealBlob(key, plaintext, aad);
      assert.equal(sealed.subarray(0, 4).toString('ascii'), 'SPB1');
      assert.equal(sealed.readUInt32BE(4), CS);
      assert.equal(sealed.length, HEADER + size + Math.max(1, Math.ceil(size / CS)) * 16, `size ${size}`);
      assert.deepEqual(openBlob(key, sealed, aad), plaintext, `size ${size}`);
    }
  });

  it('detects a flipped byte in the header, a middle chunk and the last chunk', () => {
    const sealed = sealBlob(key, randomBytes(2 * CS + 100), aad);
    for (const i of [0, 5, 10, HEADER, HEADER + STRIDE + 7, sealed.length - 17, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[i]! ^= 0x80;
      assert.throws(() => openBlob(key, tampered, aad), isIntegrity, `byte ${i}`);
    }
  });

  it('detects reordered chunks', () => {
    const sealed = sealBlob(key, randomBytes(3 * CS), aad);
    const [c0, c1, c2] = chunksOf(sealed);
    const reordered = Buffer.concat([sealed.subarray(0, HEADER), c1!, c0!, c2!]);
    assert.equal(reordered.length, sealed.length);
    assert.throws(() => openBlob(key, reordered, aad), isIntegrity);
  });

  it('detects truncation at a chunk boundary and inside a chunk', () => {
    const sealed = sealBlob(key, randomBytes(2 * CS + 10), aad);
    assert.throws(() => openBlob(key, sealed.subarray(0, HEADER + 2 * STRIDE), aad), isIntegrity);
    assert.throws(() => openBlob(key, sealed.subarray(0, HEADER + STRIDE), aad), isIntegrity);
    assert.throws(() => openBlob(key, sealed.subarray(0, sealed.length - 5), aad), isIntegrity);
    assert.throws(() => openBlob(key, sealed.subarray(0, HEADER), aad), isIntegrity);
  });

  it('detects an appended chunk', () => {
    const sealed = sealBlob(key, randomBytes(2 * CS), aad);
    const chunks = chunksOf(sealed);
    const appended = Buffer.concat([sealed, chunks[chunks.length - 1]!]);
    assert.throws(() => openBlob(key, appended, aad), isIntegrity);
  });

  it('detects a chunk swapped in from another blob under the same key', () => {
    const a = sealBlob(key, randomBytes(2 * CS), aad);
    const b = sealBlob(key, randomBytes(2 * CS), aad);
    const mixed = Buffer.concat([a.subarray(0, HEADER), chunksOf(a)[0]!, chunksOf(b)[1]!]);
    assert.throws(() => openBlob(key, mixed, aad), isIntegrity);
  });

  it('refuses a blob moved to another message or account, and the wrong key', () => {
    const sealed = sealBlob(key, Buffer.from('From: a@example.org\r\n\r\nhi\r\n'), aad);
    assert.throws(() => openBlob(key, sealed, { ...aad, objectId: 'msg_2' }), isIntegrity);
    assert.throws(() => openBlob(key, sealed, { ...aad, accountId: 'acc_2' }), isIntegrity);
    assert.throws(() => openBlob(randomBytes(32), sealed, aad), isIntegrity);
  });
});

describe('openBlobRange', () => {
  const plaintext = randomBytes(3 * CS + 123);
  const sealed = sealBlob(key, plaintext, aad);

  it('returns exactly the requested bytes around chunk boundaries', () => {
    const cases: [number, number][] = [
      [0, CS - 1],
      [0, CS],
      [0, CS + 1],
      [CS - 1, CS + 1],
      [CS, CS + 1],
      [CS + 1, 2 * CS + 1],
      [CS - 1, 3 * CS + 1],
      [100, 100],
      [0, plaintext.length],
      [plaintext.length - 1, plaintext.length],
    ];
    for (const [start, end] of cases) {
      assert.deepEqual(
        openBlobRange(key, sealed, aad, start, end),
        plaintext.subarray(start, end),
        `[${start},${end})`,
      );
    }
  });

  it('clamps the end to the message size', () => {
    assert.deepEqual(openBlobRange(key, sealed, aad, 3 * CS, 10 * CS), plaintext.subarray(3 * CS));
    assert.equal(openBlobRange(key, sealed, aad, 10 * CS, 11 * CS).length, 0);
  });

  it('reads empty and single-chunk blobs', () => {
    const empty = sealBlob(key, new Uint8Array(0), aad);
    assert.equal(openBlobRange(key, empty, aad, 0, 10).length, 0);
    const small = Buffer.from('hello world');
    assert.deepEqual(openBlobRange(key, sealBlob(key, small, aad), aad, 6, 11), Buffer.from('world'));
  });

  it('detects truncation even when the range lies before the cut', () => {
    const cut = sealed.subarray(0, HEADER + 2 * STRIDE);
    assert.throws(() => openBlobRange(key, cut, aad, 0, 10), isIntegrity);
  });

  it('detects tampering in a chunk the range covers', () => {
    const tampered = Buffer.from(sealed);
    tampered[HEADER + STRIDE + 3]! ^= 1;
    assert.throws(() => openBlobRange(key, tampered, aad, CS, CS + 10), isIntegrity);
  });

  it('refuses an invalid range', () => {
    for (const [s, e] of [
      [-1, 5],
      [5, 4],
      [0.5, 2],
    ] as const) {
      assert.throws(
        () => openBlobRange(key, sealed, aad, s, e),
        (err: unknown) => isSealpostError(err, 'input.invalid'),
      );
    }
  });
});
