// The header block of one MIME entity, read for structure (RFC 5322 §2.2 fields and
// unfolding; RFC 2045 §5-§8 Content-Type/-Transfer-Encoding/-ID/-Description and
// RFC 1864 Content-MD5; RFC 2183 Content-Disposition; RFC 3282 Content-Language;
// RFC 2557 Content-Location; RFC 2231 parameter continuations).
// Invariants: works on the Buffer with indexOf and byte loops; only the values of
// wanted fields are turned into strings; the first occurrence of a field wins; a
// line that is neither a field nor a continuation starts the body (as Python's
// email parser does); the scan never reads more than the line budget it is given
// field by field (past it, it only looks for the end of the block), and never throws.

/** A boundary line found by the multipart scanner. */
export interface BoundaryHit {
  /** Stack level of the multipart whose boundary this is (0 = outermost). */
  readonly level: number;
  readonly close: boolean;
  /** Offset of the "--" that starts the line. */
  readonly lineStart: number;
  /** Where the CRLF (or LF) before the line starts: the delimiter owns it (RFC 2046 §5.1.1). */
  readonly delimStart: number;
  /** Offset just past the boundary line. */
  readonly next: number;
}

export interface BoundaryMatcher {
  /** The hit if the line starting at `lineStart` is a boundary line of an open multipart. */
  match(lineStart: number): BoundaryHit | null;
  /** The first boundary line at or after `from` (a line start), before `end`. */
  next(from: number): BoundaryHit | null;
}

export interface ScannedHeader {
  /** Wanted fields: lower-case name → unfolded, trimmed value (first occurrence). */
  readonly fields: Map<string, string>;
  /** First body byte; when the block ended at a boundary line, the delimiter's start. */
  readonly bodyStart: number;
  /** The boundary line that cut the header block short (the entity then has no body). */
  readonly hit: BoundaryHit | null;
  /** Field lines read one by one (charged to the caller's budget). */
  readonly linesRead: number;
}

const LF = 0x0a;
const CR = 0x0d;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Trim SP, HTAB, CR, LF only (String.prototype.trim would also eat U+00A0, a byte of UTF-8 text). */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWsp(s.charCodeAt(a))) a++;
  while (b > a && isWsp(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === CR || c === LF;
}

/** Header bytes → string: UTF-8 when the bytes are valid UTF-8 (RFC 6532), else latin1. */
export function decodeHeaderBytes(raw: Buffer, start: number, end: number): string {
  const s = raw.toString('latin1', start, end);
  if (!/[\x80-\xff]/.test(s)) return s;
  try {
    return utf8.decode(raw.subarray(start, end));
  } catch {
    return s;
  }
}

function fieldValue(raw: Buffer, start: number, end: number): string {
  let v = decodeHeaderBytes(raw, start, end);
  if (v.includes('\n')) v = v.replace(/\r?\n/g, ''); // RFC 5322 §2.2.3 unfolding
  return trimWsp(v);
}

/** End of a field name starting at `pos` (the colon's offset), or -1 if the line is not a field. */
function fieldColon(raw: Buffer, pos: number, lineEnd: number): number {
  let i = pos;
  while (i < lineEnd) {
    const c = raw[i]!;
    if (c === 0x3a) return i > pos ? i : -1;
    if (c <= 0x20 || c >= 0x7f) break;
    i++;
  }
  // Tolerate white space between the name and the colon ("Subject : x").
  const nameEnd = i;
  while (i < lineEnd && (raw[i] === 0x20 || raw[i] === 0x09)) i++;
  return i < lineEnd && raw[i] === 0x3a && nameEnd > pos ? i : -1;
}

interface Open {
  name: string | null;
  valueStart: number;
  end: number;
}

/**
 * Read the header block starting at `start`. `wanted` names the fields to keep;
 * `budget` is how many lines may be read field by field before the rest of the
 * block is only skipped.
 */
export function scanHeader(
  raw: Buffer,
  start: number,
  boundaries: BoundaryMatcher,
  wanted: ReadonlySet<string>,
  budget: number,
): ScannedHeader {
  const fields = new Map<string, string>();
  let pos = start;
  let lines = 0;
  let open: Open | null = null;
  const flush = (): void => {
    if (open?.name != null && !fields.has(open.name))
      fields.set(open.name, fieldValue(raw, open.valueStart, open.end));
    open = null;
  };
  while (pos < raw.length) {
    if (lines >= budget) {
      flush();
      return { ...skipRest(raw, pos, boundaries), fields, linesRead: lines };
    }
    let eol = raw.indexOf(LF, pos);
    if (eol === -1) eol = raw.length;
    const lineEnd = eol > pos && raw[eol - 1] === CR ? eol - 1 : eol;
    if (lineEnd === pos) {
      flush();
      // RFC 2046 §5.1.1: the line end before a boundary line belongs to the delimiter, so
      // a blank line right before one is not the end of the header but the delimiter's:
      // the entity has no body (else its body would start inside the delimiter).
      const hit = boundaries.match(eol + 1);
      if (hit !== null) return { fields, bodyStart: Math.max(start, hit.delimStart), hit, linesRead: lines };
      return { fields, bodyStart: Math.min(eol + 1, raw.length), hit: null, linesRead: lines };
    }
    const c0 = raw[pos]!;
    if (c0 === 0x2d && raw[pos + 1] === 0x2d) {
      const hit = boundaries.match(pos);
      if (hit !== null) {
        flush();
        return { fields, bodyStart: Math.max(start, hit.delimStart), hit, linesRead: lines };
      }
    }
    lines++;
    if (c0 === 0x20 || c0 === 0x09) {
      if (open !== null) (open as Open).end = lineEnd;
    } else {
      const colon = fieldColon(raw, pos, lineEnd);
      if (colon === -1) {
        flush(); // not a field: the body starts here (missing blank line)
        return { fields, bodyStart: pos, hit: null, linesRead: lines };
      }
      flush();
      let name: string | null = null;
      if (colon - pos <= 32) {
        const n = raw.toString('latin1', pos, colon).toLowerCase().trimEnd();
        if (wanted.has(n)) name = n;
      }
      open = { name, valueStart: colon + 1, end: lineEnd };
    }
    pos = eol + 1;
  }
  flush();
  return { fields, bodyStart: raw.length, hit: null, linesRead: lines };
}

/** Past the line budget: find the blank line or a boundary line natively, reading no field. */
function skipRest(
  raw: Buffer,
  pos: number,
  boundaries: BoundaryMatcher,
): { bodyStart: number; hit: BoundaryHit | null } {
  const hit = boundaries.next(pos);
  const end = hit === null ? raw.length : hit.lineStart;
  const from = Math.max(0, pos - 1);
  const view = raw.subarray(from, end);
  const a = view.indexOf('\n\n');
  const b = view.indexOf('\n\r\n');
  const blank = a === -1 ? (b === -1 ? -1 : b + 3) : b === -1 || a < b ? a + 2 : b + 3;
  if (blank !== -1) return { bodyStart: Math.min(from + blank, raw.length), hit: null };
  if (hit === null) return { bodyStart: raw.length, hit: null };
  return { bodyStart: Math.max(pos, hit.delimStart), hit };
}
