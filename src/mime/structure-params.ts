// Structured MIME header values: "value; name=param; ..." as in Content-Type
// (RFC 2045 §5.1) and Content-Disposition (RFC 2183 §2), with RFC 2231 §3-§4
// parameter continuations joined.
// Decision (RFC 2231): continuations `name*0`, `name*1` … are joined in index order.
// An extended value (`name*=` or any `name*N*=` segment) is kept ENCODED, as
// `charset'lang'%XX…` under the name `name*`, exactly as Dovecot sends it in
// BODYSTRUCTURE and as IMAP clients decode it; plain segments joined into an
// extended value are percent-encoded so the result stays one valid extended value.
// Invariants: linear in the input, never throws, at most MAX_PARAMS parameters
// (later ones are ignored), names lower-case, first occurrence of a name wins.

export const MAX_PARAMS = 256;

export type Param = readonly [string, string];

export interface StructuredValue {
  /** The value before the first ';', comments removed, trimmed (case kept). */
  readonly value: string;
  readonly params: readonly Param[];
}

function skipComment(s: string, i: number): number {
  let depth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return s.length;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Parse "value; a=b; c="d"" leniently: unquoted values may hold spaces, junk is skipped. */
export function parseStructured(s: string): StructuredValue {
  let i = 0;
  let value = '';
  while (i < s.length && s[i] !== ';') {
    if (s[i] === '(') i = skipComment(s, i);
    else value += s[i++];
  }
  const raw: [string, string][] = [];
  while (i < s.length && raw.length < MAX_PARAMS * 4) {
    i++; // the ';'
    while (isSpace(s[i])) i++;
    let eq = i;
    while (eq < s.length && s[eq] !== '=' && s[eq] !== ';') eq++;
    if (s[eq] !== '=') {
      i = eq;
      continue;
    }
    const name = s.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (isSpace(s[i])) i++;
    let v = '';
    if (s[i] === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        v += s[i];
      }
      while (i < s.length && s[i] !== ';') i++; // junk after the closing quote
    } else {
      const end = s.indexOf(';', i);
      const stop = end === -1 ? s.length : end;
      v = s.slice(i, stop);
      const comment = v.indexOf(' (');
      if (comment !== -1) v = v.slice(0, comment); // RFC 2045 §5.1 example: us-ascii (Plain text)
      v = v.trim();
      i = stop;
    }
    if (name !== '') raw.push([name, v]);
  }
  return { value: value.trim(), params: joinContinuations(raw) };
}

interface Segmented {
  readonly at: number; // output position
  readonly segments: Map<number, { value: string; extended: boolean }>;
}

/** RFC 2231 §3-§4: join name*0, name*1, … and mark extended values with a trailing '*'. */
function joinContinuations(raw: readonly (readonly [string, string])[]): Param[] {
  const out: (Param | Segmented)[] = [];
  const seen = new Set<string>();
  const multi = new Map<string, Segmented>();
  for (const [name, value] of raw) {
    const m = /^(.+?)\*(\d{1,3})(\*?)$/.exec(name);
    if (m === null) {
      if (seen.has(name) || out.length >= MAX_PARAMS) continue;
      seen.add(name);
      out.push([name, value]);
      continue;
    }
    const base = m[1]!;
    let group = multi.get(base);
    if (group === undefined) {
      if (out.length >= MAX_PARAMS) continue;
      group = { at: out.length, segments: new Map() };
      multi.set(base, group);
      out.push(group);
    }
    const index = Number(m[2]);
    if (!group.segments.has(index)) group.segments.set(index, { value, extended: m[3] === '*' });
  }
  const result: Param[] = [];
  const baseOf = new Map<Segmented, string>();
  for (const [base, g] of multi) baseOf.set(g, base);
  for (const item of out) {
    if (Array.isArray(item)) {
      result.push(item as Param);
      continue;
    }
    const g = item as Segmented;
    const base = baseOf.get(g)!;
    const ordered = [...g.segments.entries()].sort((a, b) => a[0] - b[0]);
    const extended = ordered.some(([, s]) => s.extended);
    if (!extended) {
      const name = base;
      if (!seen.has(name)) result.push([name, ordered.map(([, s]) => s.value).join('')]);
      seen.add(name);
      continue;
    }
    const first = ordered[0]!;
    let v = first[0] === 0 && first[1].extended ? '' : "''"; // charset'lang' comes with an extended *0*
    for (const [, s] of ordered) v += s.extended ? s.value : percentEncode(s.value);
    const name = `${base}*`;
    if (!seen.has(name)) result.push([name, v]);
    seen.add(name);
  }
  return result;
}

function percentEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9!#$&+\-.^_`|~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decode an RFC 2231 extended value `charset'lang'%XX…` to text (for search and tests). */
export function decodeExtendedValue(v: string): string {
  const q1 = v.indexOf("'");
  const q2 = q1 === -1 ? -1 : v.indexOf("'", q1 + 1);
  if (q2 === -1) return v;
  const charset = v.slice(0, q1) || 'us-ascii';
  const bytes = Buffer.from(
    v
      .slice(q2 + 1)
      .replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    'latin1',
  );
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** RFC 3282: "en, de (comment)" → ["en", "de"], or null when empty. */
export function parseLanguages(s: string): string[] | null {
  let clean = '';
  for (let i = 0; i < s.length; ) {
    if (s[i] === '(') i = skipComment(s, i);
    else clean += s[i++];
  }
  const langs = clean
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return langs.length === 0 ? null : langs.slice(0, MAX_PARAMS);
}
