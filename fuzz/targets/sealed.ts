// Fuzz target: the sealed-value decoders (src/crypto/seal.ts open/openJson,
// src/crypto/blob.ts openBlob/openBlobRange). Inputs are plaintexts (empty, small,
// and across the 64 KiB blob chunk boundaries), associated data, and a modification
// of the sealed bytes: flip bits of a byte, truncate, extend, or splice in bytes
// from another sealed value.
// Properties:
// - open(seal(x)) == x and openBlob(sealBlob(x)) == x; openBlobRange is a slice of it;
// - any modification → IntegrityError, never plaintext and never another error (a
//   range read may miss a change outside its chunks, but returns only authentic bytes);
// - the wrong account, object or purpose in the AAD, or the wrong key → IntegrityError.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { IntegrityError } from '../../src/core/errors.ts';
import type { Aad } from '../../src/crypto/aad.ts';
import { BLOB_CHUNK_SIZE, openBlob, openBlobRange, sealBlob } from '../../src/crypto/blob.ts';
import { open, openJson, seal, sealJson } from '../../src/crypto/seal.ts';
import type { FuzzTarget } from '../target.ts';

type Change =
  | { readonly op: 'flip'; readonly at: number; readonly mask: number }
  | { readonly op: 'truncate'; readonly to: number }
  | { readonly op: 'extend'; readonly bytes: Uint8Array }
  | { readonly op: 'splice'; readonly at: number; readonly bytes: Uint8Array };

export interface SealedInput {
  readonly plaintext: Uint8Array;
  readonly blob: boolean;
  readonly aad: Aad;
  readonly otherAad: Aad;
  readonly change: Change;
  readonly range: readonly [number, number];
}

const KEY = createHash('sha256').update('fuzz key').digest();
const OTHER_KEY = createHash('sha256').update('other fuzz key').digest();

const text = fc.string({ maxLength: 6 });
const aadArb = fc.record({
  purpose: fc.constantFrom('message.body', 'message.meta', 'account.key', ''),
  accountId: text,
  objectId: text,
});

const sizes = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: BLOB_CHUNK_SIZE - 2, max: BLOB_CHUNK_SIZE + 2 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2 * BLOB_CHUNK_SIZE - 1, max: 2 * BLOB_CHUNK_SIZE + 1 }) },
);
const plaintextArb = fc.tuple(sizes, fc.nat(255)).map(([n, fill]) => {
  const b = Buffer.alloc(n, fill);
  for (let i = 0; i < n; i += 97) b[i] = (i * 31) & 0xff;
  return b;
});
const changeArb: fc.Arbitrary<Change> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('flip' as const),
      at: fc.nat(),
      mask: fc.integer({ min: 1, max: 255 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), to: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('extend' as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('splice' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    }),
  },
);

function modify(sealed: Buffer, c: Change): Buffer {
  switch (c.op) {
    case 'flip': {
      const out = Buffer.from(sealed);
      const at = c.at % out.length;
      out[at]! ^= c.mask;
      return out;
    }
    case 'truncate':
      return sealed.subarray(0, c.to % sealed.length);
    case 'extend':
      return Buffer.concat([sealed, c.bytes]);
    case 'splice': {
      const at = c.at % sealed.length;
      const out = Buffer.from(sealed);
      const replaced = Buffer.from(c.bytes.subarray(0, out.length - at));
      // a splice that writes the same bytes back is no modification
      if (replaced.equals(out.subarray(at, at + replaced.length))) replaced[0]! ^= 1;
      replaced.copy(out, at);
      return out;
    }
  }
}

function mustFail(f: () => unknown, what: string): void {
  let result: unknown;
  try {
    result = f();
  } catch (e) {
    if (e instanceof IntegrityError) return;
    throw e;
  }
  assert.fail(
    `${what} opened (${result instanceof Buffer ? `${result.length} bytes` : typeof result}) instead of IntegrityError`,
  );
}

const differs = (a: Aad, b: Aad): boolean =>
  a.purpose !== b.purpose || a.accountId !== b.accountId || a.objectId !== b.objectId;

export function checkSealed(input: SealedInput): void {
  const pt = Buffer.from(input.plaintext);
  const sealFn = input.blob ? sealBlob : seal;
  const openFn = input.blob ? openBlob : open;
  const sealed = sealFn(KEY, pt, input.aad);
  assert.ok(openFn(KEY, sealed, input.aad).equals(pt), 'round trip');
  if (input.blob) {
    const [a, b] = input.range;
    const start = Math.min(a, b) % (pt.length + 2);
    const end = start + (Math.max(a, b) % (pt.length + 2));
    assert.ok(openBlobRange(KEY, sealed, input.aad, start, end).equals(pt.subarray(start, end)), 'range');
  }
  const changed = modify(sealed, input.change);
  mustFail(() => openFn(KEY, changed, input.aad), `modified (${input.change.op}) value`);
  if (input.blob) {
    // A range read opens only its chunks and the last: a change elsewhere may go unseen,
    // but what it returns is authentic — the original bytes, never altered ones.
    let got: Buffer | null = null;
    try {
      got = openBlobRange(KEY, changed, input.aad, 0, 1);
    } catch (e) {
      if (!(e instanceof IntegrityError)) throw e;
    }
    if (got !== null)
      assert.ok(got.equals(pt.subarray(0, 1)), 'a modified blob range returned altered bytes');
  }
  mustFail(() => openFn(OTHER_KEY, sealed, input.aad), 'value under the wrong key');
  if (differs(input.aad, input.otherAad))
    mustFail(() => openFn(KEY, sealed, input.otherAad), 'value with the wrong AAD');
  if (!input.blob && pt.length < 200) {
    const v = { t: pt.toString('base64') };
    const sj = sealJson(KEY, v, input.aad);
    assert.deepEqual(openJson(KEY, sj, input.aad), v);
    mustFail(() => openJson(KEY, modify(sj, input.change), input.aad), 'modified JSON value');
  }
}

export const sealed: FuzzTarget<SealedInput> = {
  name: 'sealed',
  description:
    'seal/open and sealBlob/openBlob: round trip; any flip/truncate/extend/splice, wrong key or AAD → IntegrityError',
  arbitrary: fc.record({
    plaintext: plaintextArb,
    blob: fc.boolean(),
    aad: aadArb,
    otherAad: aadArb,
    change: changeArb,
    range: fc.tuple(fc.nat(), fc.nat()),
  }),
  fromCorpus: (bytes) => ({
    plaintext: bytes,
    blob: bytes.length % 2 === 0,
    aad: { purpose: 'message.body', accountId: 'a', objectId: 'o' },
    otherAad: { purpose: 'message.body', accountId: 'b', objectId: 'o' },
    change: { op: 'flip', at: bytes.length, mask: 1 },
    range: [0, bytes.length],
  }),
  check: checkSealed,
  limits: { maxMillis: 100 },
};
