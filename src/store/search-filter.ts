// How a message's blind-index terms are kept (DESIGN.md "Search"), shared by every
// backend: one Bloom filter per message over the caller's keyed hashes. One row
// per message, not one per term: inserting thousands of random keys into one
// shared index made every append 20-40x slower (measured on SQLite with 500 terms
// a message), while scanning an account's filters for a query is one sequential
// read (10,000 messages of ~600 bytes each).
//
// Invariants:
// - A filter answers "may contain" with no false negatives; false positives are
//   about 1% per term (FILTER_BITS_PER_TERM bits and K probes per term), so a
//   caller that needs exact answers confirms candidates (the IMAP search does, on
//   the decrypted message).
// - Terms are keyed hashes (uniform bytes), so probe positions come straight from
//   their bits (Kirsch-Mitzenmacher double hashing); the filter holds no term.
// - Format: version (1), K (1), bit count m (u32 LE), then ceil(m/8) bytes. An
//   empty term list gives an empty filter, which contains nothing.

import { SealpostError } from '../core/errors.ts';

export const TERM_BYTES = 16;
const VERSION = 1;
const K = 7;
const FILTER_BITS_PER_TERM = 10;
const HEADER = 6;

/** 'input.invalid' unless every term is TERM_BYTES bytes. */
export function checkTerms(terms: readonly Uint8Array[]): void {
  for (const term of terms) {
    if (!(term instanceof Uint8Array) || term.length !== TERM_BYTES) {
      throw new SealpostError('input.invalid', `a search term must be ${TERM_BYTES} bytes`);
    }
  }
}

function probes(term: Uint8Array, m: number, visit: (bit: number) => boolean): boolean {
  const view = new DataView(term.buffer, term.byteOffset, term.byteLength);
  const h1 = view.getUint32(0, true);
  const h2 = view.getUint32(4, true) | 1;
  for (let i = 0; i < K; i++) {
    if (!visit(((h1 + Math.imul(i, h2)) >>> 0) % m)) return false;
  }
  return true;
}

export function buildFilter(terms: readonly Uint8Array[]): Uint8Array {
  checkTerms(terms);
  if (terms.length === 0) return new Uint8Array(0);
  const m = Math.max(64, terms.length * FILTER_BITS_PER_TERM);
  const out = new Uint8Array(HEADER + Math.ceil(m / 8));
  out[0] = VERSION;
  out[1] = K;
  new DataView(out.buffer).setUint32(2, m, true);
  for (const t of terms) {
    probes(t, m, (bit) => {
      out[HEADER + (bit >>> 3)]! |= 1 << (bit & 7);
      return true;
    });
  }
  return out;
}

/** True if the filter may contain every term (false: certainly not all). */
export function filterMayContain(filter: Uint8Array, terms: readonly Uint8Array[]): boolean {
  if (filter.length < HEADER || filter[0] !== VERSION || filter[1] !== K) return false;
  const m = new DataView(filter.buffer, filter.byteOffset, filter.byteLength).getUint32(2, true);
  if (m === 0 || filter.length < HEADER + Math.ceil(m / 8)) return false;
  return terms.every((t) => probes(t, m, (bit) => (filter[HEADER + (bit >>> 3)]! & (1 << (bit & 7))) !== 0));
}
