// Licence rules of the dependency gate (issue 6, item 2): the licence of every
// runtime package is an SPDX expression whose terms we can meet with the allow-list
// below. Pure; dependencies.ts supplies the licence strings (lockfile `license`, or
// the installed package.json) and writes the list.
//
// Invariants a change must keep:
// - `A OR B` is acceptable when either side is; `A AND B` only when both are; a
//   `WITH` exception only adds permissions, so `A WITH e` is judged by `A`.
// - Anything that is not a parseable SPDX expression (a missing licence,
//   "SEE LICENSE IN …", "UNLICENSED", a bare "BSD") is refused: a person decides.
// - Licence ids are matched case-insensitively, as the SPDX spec asks (Annex D);
//   operators too, since packages write "mit or apache-2.0".

export const LICENCE_ALLOW = new Set([
  'MIT',
  'ISC',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'Apache-2.0',
  'MIT-0',
  '0BSD',
  'BlueOak-1.0.0',
]);

export type LicenceVerdict = { ok: true } | { ok: false; reason: string };

const TOKEN = /\s*(\(|\)|[^\s()]+)/y;

function tokenize(expr: string): string[] | null {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const m = TOKEN.exec(expr);
    if (m === null) {
      if (expr.slice(TOKEN.lastIndex).trim() === '') break;
      return null;
    }
    tokens.push(m[1]!);
  }
  return tokens;
}

/**
 * Judge an SPDX licence expression against `allow`. Returns ok, or the reason it is
 * refused (disallowed ids, or a parse failure).
 */
export function judgeLicence(
  expr: string | undefined,
  allow: ReadonlySet<string> = LICENCE_ALLOW,
): LicenceVerdict {
  if (expr === undefined || expr.trim() === '') return { ok: false, reason: 'no licence declared' };
  const tokens = tokenize(expr);
  if (tokens === null || tokens.length === 0) return { ok: false, reason: `not an SPDX expression: ${expr}` };
  const allowed = new Set([...allow].map((id) => id.toLowerCase()));
  let i = 0;
  const op = (word: string): boolean => tokens[i]?.toUpperCase() === word;
  const refused = new Set<string>();

  // or := and (OR and)* ; and := atom (AND atom)* ; atom := '(' or ')' | id [WITH id]
  const parseOr = (): boolean | null => {
    let value = parseAnd();
    while (value !== null && op('OR')) {
      i++;
      const right = parseAnd();
      if (right === null) return null;
      value = value || right;
    }
    return value;
  };
  const parseAnd = (): boolean | null => {
    let value = parseAtom();
    while (value !== null && op('AND')) {
      i++;
      const right = parseAtom();
      if (right === null) return null;
      value = value && right;
    }
    return value;
  };
  const parseAtom = (): boolean | null => {
    const t = tokens[i];
    if (t === undefined || t === ')' || op('OR') || op('AND') || op('WITH')) return null;
    i++;
    if (t === '(') {
      const inner = parseOr();
      if (inner === null || tokens[i] !== ')') return null;
      i++;
      return inner;
    }
    if (!/^[A-Za-z0-9.+-]+$/.test(t)) return null;
    if (op('WITH')) {
      i++;
      const exception = tokens[i];
      if (exception === undefined || !/^[A-Za-z0-9.-]+$/.test(exception)) return null;
      i++;
    }
    const ok = allowed.has(t.toLowerCase());
    if (!ok) refused.add(t);
    return ok;
  };

  const value = parseOr();
  if (value === null || i !== tokens.length) return { ok: false, reason: `not an SPDX expression: ${expr}` };
  if (value) return { ok: true };
  return { ok: false, reason: `not on the allow-list: ${[...refused].join(', ')}` };
}

/**
 * The licence string of an installed package.json: `license` as a string or
 * `{ type }`, or the legacy `licenses` array read as alternatives (OR).
 */
export function manifestLicence(pkg: { license?: unknown; licenses?: unknown }): string | undefined {
  const one = (v: unknown): string | undefined =>
    typeof v === 'string'
      ? v
      : typeof (v as { type?: unknown })?.type === 'string'
        ? (v as { type: string }).type
        : undefined;
  const direct = one(pkg.license);
  if (direct !== undefined) return direct;
  if (Array.isArray(pkg.licenses)) {
    const all = pkg.licenses.map(one).filter((v): v is string => v !== undefined);
    if (all.length > 0) return all.length === 1 ? all[0] : `(${all.join(' OR ')})`;
  }
  return undefined;
}
