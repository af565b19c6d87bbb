// Multipart boundary lines (RFC 2046 §5.1.1) for the one-pass structure parser:
// a stack of the open multiparts' boundaries, and a scanner for the next line that
// is "--" boundary ["--"] *(SP / HTAB) followed by LF, CRLF or the end.
// Invariants: the search is native (indexOf "\n--"); a candidate line is hashed in
// a bounded byte loop and compared only on a hash hit, so no string is allocated
// per line; the innermost matching level wins (an outer boundary ends every inner
// part); after stop() no boundary is ever found again (the part limit).

import type { BoundaryHit, BoundaryMatcher } from './structure-headers.ts';

const NL_DASHES = Buffer.from('\n--', 'latin1');
const DENSE = 64;
const WINDOW = 1 << 16;
const BLOOM_MASK = 0xfff;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  return h >>> 0;
}

interface Entry {
  readonly bytes: Buffer;
  readonly hash: number;
}

export class BoundaryScanner implements BoundaryMatcher {
  readonly #raw: Buffer;
  readonly #stack: Entry[] = [];
  readonly #byHash = new Map<number, number[]>();
  #maxLen = 0;
  #stopped = false;
  /** Cheap filters rebuilt on push/pop: first and last bytes of the open boundaries. */
  #first = new Uint8Array(256);
  #last = new Uint8Array(256);
  #bloom = new Uint8Array(BLOOM_MASK + 1);

  constructor(raw: Buffer) {
    this.#raw = raw;
  }

  /** Open a multipart; returns its level. */
  push(boundary: string): number {
    const bytes = Buffer.from(boundary, 'utf8');
    const hash = hashBytes(bytes, 0, bytes.length);
    const level = this.#stack.length;
    this.#stack.push({ bytes, hash });
    const list = this.#byHash.get(hash);
    if (list === undefined) this.#byHash.set(hash, [level]);
    else list.push(level);
    this.#filters();
    return level;
  }

  #filters(): void {
    this.#first.fill(0);
    this.#last.fill(0);
    this.#bloom.fill(0);
    this.#maxLen = 0;
    for (const { bytes, hash } of this.#stack) {
      this.#bloom[hash & BLOOM_MASK] = 1;
      this.#first[bytes[0]!] = 1;
      this.#last[bytes[bytes.length - 1]!] = 1;
      this.#maxLen = Math.max(this.#maxLen, bytes.length);
    }
    this.#last[0x2d] = 1; // a close delimiter ends in "--"
  }

  pop(): void {
    const e = this.#stack.pop();
    if (e === undefined) return;
    const list = this.#byHash.get(e.hash)!;
    list.pop();
    if (list.length === 0) this.#byHash.delete(e.hash);
    this.#filters();
  }

  /** The part limit was reached: no more boundaries, every open part runs to EOF. */
  stop(): void {
    this.#stopped = true;
  }

  match(lineStart: number): BoundaryHit | null {
    const raw = this.#raw;
    const L = lineStart;
    if (this.#stopped || this.#stack.length === 0 || raw[L] !== 0x2d || raw[L + 1] !== 0x2d) return null;
    const from = L + 2;
    if (this.#first[raw[from] ?? 0] === 0) return null;
    const maxContent = this.#maxLen + 2;
    // One walk to the line end: content end without trailing white space, and the
    // FNV hashes of the content (open) and of the content less "--" (close).
    let j = from;
    let e = from;
    let hCur = FNV_OFFSET;
    let hPrev = FNV_OFFSET;
    let hOpen = 0;
    let hClose = 0;
    while (j < raw.length) {
      const c = raw[j]!;
      if (c === 0x0a) break;
      const hNext = Math.imul(hCur ^ c, FNV_PRIME);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d) {
        if (j - from >= maxContent) return null; // longer than any open boundary
        e = j + 1;
        hOpen = hNext;
        hClose = hPrev;
      }
      hPrev = hCur;
      hCur = hNext;
      j++;
    }
    const n = e - from;
    if (n === 0 || this.#last[raw[e - 1]!] === 0) return null;
    let level = this.#find(hOpen >>> 0, from, n);
    let close = false;
    if (n >= 2 && raw[e - 1] === 0x2d && raw[e - 2] === 0x2d) {
      const closing = this.#find(hClose >>> 0, from, n - 2);
      if (closing > level) [level, close] = [closing, true];
    }
    if (level === -1) return null;
    const delimStart =
      L >= 2 && raw[L - 1] === 0x0a && raw[L - 2] === 0x0d ? L - 2 : raw[L - 1] === 0x0a ? L - 1 : L;
    return {
      level,
      close,
      lineStart: L,
      delimStart: Math.max(0, delimStart),
      next: Math.min(j + 1, raw.length),
    };
  }

  /** Innermost level whose boundary is raw[from, from+n) (of FNV hash h), or -1. */
  #find(h: number, from: number, n: number): number {
    if (n === 0 || this.#bloom[h & BLOOM_MASK] === 0) return -1;
    const list = this.#byHash.get(h);
    if (list === undefined) return -1;
    for (let k = list.length - 1; k >= 0; k--) {
      const level = list[k]!;
      const b = this.#stack[level]!.bytes;
      if (b.length === n && this.#raw.compare(b, 0, n, from, from + n) === 0) return level;
    }
    return -1;
  }

  next(from: number): BoundaryHit | null {
    if (this.#stopped || this.#stack.length === 0) return null;
    const raw = this.#raw;
    if (from < raw.length && (from === 0 || raw[from - 1] === 0x0a)) {
      const hit = this.match(from);
      if (hit !== null) return hit;
    }
    let p = from;
    for (;;) {
      const i = raw.indexOf(NL_DASHES, p);
      if (i === -1) return null;
      const hit = this.match(i + 1);
      if (hit !== null) return hit;
      if (i - p >= DENSE) {
        p = i + 1;
        continue;
      }
      // Candidates close together: a byte loop over a window beats a native call each.
      const stop = Math.min(raw.length - 3, i + WINDOW);
      const first = this.#first;
      for (let k = i + 1; k < stop; k++) {
        if (raw[k] === 0x0a && raw[k + 1] === 0x2d && raw[k + 2] === 0x2d && first[raw[k + 3]!] === 1) {
          const h = this.match(k + 1);
          if (h !== null) return h;
        }
      }
      p = Math.max(stop, i + 1);
    }
  }
}

/** LF bytes in raw[start, end): indexOf for sparse lines, a byte loop where they are dense. */
export function countLf(raw: Buffer, start: number, end: number): number {
  if (end <= start) return 0;
  const view = raw.subarray(start, end); // bounds indexOf to the range
  const len = view.length;
  let n = 0;
  let i = 0;
  while (i < len) {
    const j = view.indexOf(0x0a, i);
    if (j === -1) break;
    n++;
    if (j - i < 24) {
      const stop = Math.min(len, j + 4096);
      for (let k = j + 1; k < stop; k++) if (view[k] === 0x0a) n++;
      i = stop;
    } else i = j + 1;
  }
  return n;
}
