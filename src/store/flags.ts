// Flag normalisation shared by every backend, so that stored flags compare equal
// byte for byte whichever backend wrote them.
// Invariants:
// - The five system flags (RFC 9051 §2.3.2) are stored in their canonical case
//   (\Seen \Answered \Flagged \Deleted \Draft) whatever case the caller used.
// - Keywords (and any other backslash flag) are kept exactly as given; the protocol
//   layers decide which flags a client may set.
// - A stored flag list has no duplicates and is sorted by UTF-16 code unit.
// - A flag is non-empty and has no space or control character; anything else is
//   refused with 'input.invalid' before the store changes.

import { SealpostError } from '../core/errors.ts';
import type { FlagMode } from './types.ts';

const SYSTEM_FLAGS = new Map(
  ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'].map((f) => [f.toLowerCase(), f]),
);

export const SEEN = '\\Seen';

function canonicalFlag(flag: string): string {
  if (flag.length === 0 || /[\u0000-\u0020\u007f]/.test(flag)) {
    throw new SealpostError('input.invalid', 'invalid flag', { flag: flag.slice(0, 64) });
  }
  return SYSTEM_FLAGS.get(flag.toLowerCase()) ?? flag;
}

/** Canonical, deduplicated and sorted form of a flag list. */
export function normalizeFlags(flags: readonly string[]): string[] {
  return [...new Set(flags.map(canonicalFlag))].sort();
}

/** The flags an entry holds after a STORE-like operation (`current` is normalised). */
export function applyFlags(current: readonly string[], flags: readonly string[], mode: FlagMode): string[] {
  const given = normalizeFlags(flags);
  switch (mode) {
    case 'set':
      return given;
    case 'add':
      return normalizeFlags([...current, ...given]);
    case 'remove': {
      const drop = new Set(given);
      return current.filter((f) => !drop.has(f));
    }
  }
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}

export function isSeen(flags: readonly string[]): boolean {
  return flags.includes(SEEN);
}
