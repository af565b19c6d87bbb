// SORT (RFC 5256 §3, with RFC 5957 DISPLAYFROM/DISPLAYTO) and the base subject
// extraction SORT and THREAD share (RFC 5256 §2.1).
//
// Invariants:
// - String keys compare with i;ascii-casemap (RFC 5256 §3: ASCII letters folded to
//   upper case, then octet order); DISPLAYFROM/DISPLAYTO fold all of Unicode.
// - DATE is the Date: field in UTC, the internal date when there is none
//   (RFC 5256 §2.2). ARRIVAL is the internal date, ties in arrival order (UID), so
//   REVERSE ARRIVAL is the exact reverse of ARRIVAL.
// - Messages equal on every key keep mailbox order (ascending sequence numbers,
//   RFC 5256 §3), whatever REVERSE says.

import type { MessageSummary, SummaryAddress } from '../../mime/summary.ts';
import type { SortKey } from '../protocol/fetch-types.ts';
import type { ViewEntry } from '../selected.ts';

/** RFC 5256 §3 i;ascii-casemap: a-z to A-Z, nothing else. */
export function asciiCasemap(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

const WSP_RUN = /[ \t\r\n]+/g;
const TRAILER = /(?:\(fwd\)|[ \t])$/i;
// subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
const LEADER = /^(?:[ \t]+|(?:\[[^[\]]*\][ \t]*)*(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:)/i;
const BLOB = /^\[[^[\]]*\][ \t]*/;

export interface BaseSubject {
  /** The base subject, case preserved. */
  readonly base: string;
  /** True when a Re:/Fw:/Fwd: leader, a (fwd) trailer or a [fwd: …] wrapper was removed. */
  readonly reply: boolean;
}

/** RFC 5256 §2.1: the base subject of a decoded Subject: field. */
export function baseSubject(subject: string): BaseSubject {
  // (1) encoded words are already decoded (summary); white space runs become one space.
  let s = subject.replace(WSP_RUN, ' ');
  let reply = false;
  for (;;) {
    // (2) trailing "(fwd)" and white space
    for (let m = TRAILER.exec(s); m !== null; m = TRAILER.exec(s)) {
      if (m[0].length > 1) reply = true;
      s = s.slice(0, s.length - m[0].length);
    }
    // (3)-(5) leaders, then a leading blob when something remains after it
    for (let changed = true; changed; ) {
      changed = false;
      for (let m = LEADER.exec(s); m !== null && m[0].length > 0; m = LEADER.exec(s)) {
        if (m[0].trim() !== '') reply = true;
        s = s.slice(m[0].length);
        changed = true;
      }
      const blob = BLOB.exec(s);
      if (blob !== null && s.slice(blob[0].length).trim() !== '') {
        s = s.slice(blob[0].length);
        changed = true;
      }
    }
    // (6) "[fwd:" … "]" around the whole subject
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      reply = true;
      continue;
    }
    return { base: s, reply };
  }
}

export interface SortItem {
  readonly uid: number;
  readonly seq: number;
  readonly arrival: number;
  readonly size: number;
  /** Sent date (ms), the internal date when the message has none. */
  readonly date: number;
  /** Base subject, case-mapped. */
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly cc: string;
  readonly displayFrom: string;
  readonly displayTo: string;
}

const META_KEYS = new Set<SortKey['key']>([
  'CC',
  'DATE',
  'FROM',
  'SUBJECT',
  'TO',
  'DISPLAYFROM',
  'DISPLAYTO',
]);

/** Whether sorting by `keys` needs the sealed summary (ARRIVAL and SIZE do not). */
export function sortNeedsMeta(keys: readonly SortKey[]): boolean {
  return keys.some((k) => META_KEYS.has(k.key));
}

/** RFC 5256 §3: addr-mailbox (the local part) of the first address, case-mapped. */
function mailboxOf(list: readonly SummaryAddress[]): string {
  const a = list[0]?.address ?? '';
  const at = a.lastIndexOf('@');
  return asciiCasemap(at === -1 ? a : a.slice(0, at));
}

/** RFC 5957 §3: the display name of the first address, else its address. */
function displayOf(list: readonly SummaryAddress[]): string {
  const a = list[0];
  if (a === undefined) return '';
  return (a.name.trim() !== '' ? a.name.trim() : a.address).normalize('NFC').toLowerCase();
}

/** The sort keys of one message; `meta` may be omitted when !sortNeedsMeta(keys). */
export function sortItem(e: ViewEntry, seq: number, meta: MessageSummary | undefined): SortItem {
  return {
    uid: e.uid,
    seq,
    arrival: e.internalDate,
    size: e.size,
    date: meta?.date ?? e.internalDate,
    subject: meta === undefined ? '' : asciiCasemap(baseSubject(meta.subject).base),
    from: meta === undefined ? '' : mailboxOf(meta.from),
    to: meta === undefined ? '' : mailboxOf(meta.to),
    cc: meta === undefined ? '' : mailboxOf(meta.cc),
    displayFrom: meta === undefined ? '' : displayOf(meta.from),
    displayTo: meta === undefined ? '' : displayOf(meta.to),
  };
}

const cmp = <T extends string | number>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

function compareBy(key: SortKey['key'], a: SortItem, b: SortItem): number {
  switch (key) {
    case 'ARRIVAL':
      return cmp(a.arrival, b.arrival) || cmp(a.uid, b.uid);
    case 'DATE':
      return cmp(a.date, b.date);
    case 'SIZE':
      return cmp(a.size, b.size);
    case 'SUBJECT':
      return cmp(a.subject, b.subject);
    case 'FROM':
      return cmp(a.from, b.from);
    case 'TO':
      return cmp(a.to, b.to);
    case 'CC':
      return cmp(a.cc, b.cc);
    case 'DISPLAYFROM':
      return cmp(a.displayFrom, b.displayFrom);
    case 'DISPLAYTO':
      return cmp(a.displayTo, b.displayTo);
  }
}

/** The items in the order `keys` give (a new array). */
export function sortItems(items: readonly SortItem[], keys: readonly SortKey[]): SortItem[] {
  return [...items].sort((a, b) => {
    for (const k of keys) {
      const c = compareBy(k.key, a, b);
      if (c !== 0) return k.reverse ? -c : c;
    }
    return a.seq - b.seq;
  });
}
