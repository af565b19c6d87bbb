// Byte-level mutation of generated inputs, shared by the parser targets: a
// grammar-shaped input is kept as generated, or has a few bytes flipped, inserted,
// deleted or duplicated (the classic mutations of coverage-guided fuzzers), so the
// property runs on both well-formed and almost-well-formed text. Deterministic in
// its fast-check inputs, so failures shrink.

import fc from 'fast-check';

type Edit =
  | { readonly op: 'flip'; readonly at: number; readonly byte: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly n: number }
  | { readonly op: 'repeat'; readonly at: number; readonly n: number; readonly times: number };

const INTERESTING = [
  0x00, 0x0a, 0x0d, 0x20, 0x22, 0x28, 0x29, 0x2d, 0x3b, 0x3d, 0x5c, 0x7b, 0x7d, 0x80, 0xff,
];

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(),
    byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(255)),
  }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 16 }),
    times: fc.integer({ min: 1, max: 64 }),
  }),
);

export function applyEdits(input: Buffer, edits: readonly Edit[]): Buffer {
  let b = input;
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    switch (e.op) {
      case 'flip':
        if (at < b.length) {
          b = Buffer.from(b);
          b[at] = e.byte;
        }
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.n)]);
        break;
      case 'repeat': {
        const piece = b.subarray(at, at + e.n);
        b = Buffer.concat([b.subarray(0, at), ...Array<Buffer>(e.times).fill(piece), b.subarray(at)]);
        break;
      }
    }
  }
  return b;
}

/** `base` as generated (half the time) or with 1-4 byte-level edits. */
export function mutate(base: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(base, fc.oneof(fc.constant([] as Edit[]), fc.array(editArb, { minLength: 1, maxLength: 4 })))
    .map(([b, edits]) => applyEdits(b, edits));
}

/** Split `buf` at the given offsets (taken modulo its length, sorted): the chunks a socket might deliver. */
export function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  if (buf.length === 0) return [buf];
  const points = [...new Set(cuts.map((c) => c % buf.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out.filter((c) => c.length > 0);
}
