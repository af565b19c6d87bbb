// Sequence sets: RFC 9051 §9 `sequence-set`, `seq-range`, `seq-number`, and `$`
// (RFC 9051 §6.4.4.1 / RFC 5182 SEARCHRES).
//
// Invariants: the representation is a bounded list of ranges, never an expansion;
// `1:4294967295` is one range. Ranges are normalised to from <= to where both are
// numbers; `*` stays symbolic because its value depends on the mailbox.

import { ImapBad } from './errors.ts';
import type { Cursor } from './tokens.ts';

export type SeqNumber = number | '*';
export interface SeqRange {
  readonly from: SeqNumber;
  readonly to: SeqNumber;
}
export type SequenceSet =
  | { readonly kind: 'searchres' }
  | { readonly kind: 'ranges'; readonly ranges: readonly SeqRange[] };

function seqNumber(c: Cursor): SeqNumber {
  return c.maybe('*') ? '*' : c.nzNumber();
}

export function sequenceSet(c: Cursor): SequenceSet {
  if (c.maybe('$')) return { kind: 'searchres' };
  const ranges: SeqRange[] = [];
  do {
    if (ranges.length >= c.options.limits.maxSequenceRanges)
      throw new ImapBad('Sequence set too long', 'TOOBIG');
    const a = seqNumber(c);
    const b = c.maybe(':') ? seqNumber(c) : a;
    const swap = typeof a === 'number' && typeof b === 'number' && b < a;
    ranges.push(swap ? { from: b, to: a } : { from: a, to: b });
  } while (c.maybe(','));
  return { kind: 'ranges', ranges };
}

/** Whether `n` is in the set, with `*` meaning `max` (the largest number in the mailbox). O(ranges). */
export function inSequenceSet(set: readonly SeqRange[], n: number, max: number): boolean {
  for (const r of set) {
    const a = r.from === '*' ? max : r.from;
    const b = r.to === '*' ? max : r.to;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}
