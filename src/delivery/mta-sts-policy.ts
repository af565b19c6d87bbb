// MTA-STS grammar (RFC 8461): the `_mta-sts` TXT record (§3.1), the policy file (§3.2) and
// MX matching (§4.1). Pure functions, no I/O.
//
// Invariants:
// - Several TXT records that begin with "v=STSv1" mean no policy (§3.1); records that do not
//   begin with it are discarded; the character-strings of one record are concatenated.
// - Keys and the values "STSv1", "enforce", "testing", "none" are case-sensitive (%s in the ABNF).
// - Unknown policy keys are ignored (§3.2); a line without "key:" makes the policy invalid.
//   The first occurrence of version/mode/max_age counts.
// - max_age is 1-10 digits; values above 31557600 (one year, the RFC's maximum) are clamped.
// - MX patterns are domain names, optionally "*." + a domain; "*" stands for exactly one label
//   (§4.1), so "*.example.net" matches "mx.example.net" but neither "example.net" nor
//   "a.b.example.net". Matching is case-insensitive and ignores a trailing dot.

export type StsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  mode: StsMode;
  /** MX patterns in lower case, as listed. */
  mx: string[];
  /** Seconds the policy may be cached, 0..31557600. */
  maxAge: number;
  /** The policy's lines as received (for TLS-RPT's policy-string, RFC 8460 §4.4). */
  lines: string[];
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export const MAX_AGE_LIMIT = 31_557_600;
const STS_ID = /^[A-Za-z0-9]{1,32}$/;
const EXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const EXT_VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** True if `record` is an MTA-STS record by its prefix (§3.1: "v=STSv1" then ";" or the end). */
function isStsRecord(record: string): boolean {
  return /^v=STSv1(?:[ \t]*;|[ \t]*$)/.test(record);
}

/** Parses the TXT answer of `_mta-sts.DOMAIN` into the policy id. */
export function parseStsTxt(records: readonly (readonly string[])[]): ParseResult<{ id: string }> {
  const candidates = records.map((r) => r.join('')).filter(isStsRecord);
  if (candidates.length === 0) return { ok: false, reason: 'no v=STSv1 TXT record' };
  if (candidates.length > 1)
    return { ok: false, reason: `${candidates.length} v=STSv1 TXT records (exactly one allowed)` };
  const fields = (candidates[0] ?? '')
    .split(';')
    .map((f) => f.trim())
    .filter((f, i, all) => f !== '' || i < all.length - 1);
  let id: string | undefined;
  for (const field of fields.slice(1)) {
    if (field === '') return { ok: false, reason: 'empty field in the TXT record' };
    const eq = field.indexOf('=');
    const name = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (eq <= 0 || !EXT_NAME.test(name) || !EXT_VALUE.test(value)) {
      return { ok: false, reason: `malformed field ${JSON.stringify(field)} in the TXT record` };
    }
    if (name === 'id') {
      if (!STS_ID.test(value)) return { ok: false, reason: 'the id must be 1 to 32 letters or digits' };
      id ??= value;
    }
  }
  if (id === undefined) return { ok: false, reason: 'the TXT record has no id' };
  return { ok: true, value: { id } };
}

/** True for a valid MX pattern: a domain name, or "*." followed by one. */
function validPattern(pattern: string): boolean {
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

/** Parses a policy file (§3.2), with LF or CRLF line endings. */
export function parseStsPolicy(text: string): ParseResult<MtaStsPolicy> {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  let version: string | undefined;
  let mode: string | undefined;
  let maxAge: string | undefined;
  const mx: string[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const match = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!match) return { ok: false, reason: `malformed policy line ${JSON.stringify(line.slice(0, 80))}` };
    const [, key, value = ''] = match;
    if (key === 'version') version ??= value;
    else if (key === 'mode') mode ??= value;
    else if (key === 'max_age') maxAge ??= value;
    else if (key === 'mx') {
      const pattern = normalize(value);
      if (!validPattern(pattern)) return { ok: false, reason: `invalid mx pattern ${JSON.stringify(value)}` };
      mx.push(pattern);
    }
    // §3.2: unknown keys are ignored
  }
  if (version !== 'STSv1')
    return {
      ok: false,
      reason: version === undefined ? 'no version' : `unsupported version ${JSON.stringify(version)}`,
    };
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') {
    return { ok: false, reason: mode === undefined ? 'no mode' : `invalid mode ${JSON.stringify(mode)}` };
  }
  if (maxAge === undefined || !/^[0-9]{1,10}$/.test(maxAge)) {
    return {
      ok: false,
      reason: maxAge === undefined ? 'no max_age' : `invalid max_age ${JSON.stringify(maxAge)}`,
    };
  }
  if (mx.length === 0 && mode !== 'none') return { ok: false, reason: `mode ${mode} needs at least one mx` };
  return {
    ok: true,
    value: {
      mode,
      mx,
      maxAge: Math.min(Number(maxAge), MAX_AGE_LIMIT),
      lines: lines.filter((l) => l.trim() !== ''),
    },
  };
}

/** True if `host` matches `pattern` (§4.1: a wildcard stands for exactly one leftmost label). */
export function mxPatternMatches(pattern: string, host: string): boolean {
  const p = normalize(pattern);
  const h = normalize(host);
  if (!p.startsWith('*.')) return p === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

/** True if the MX host name matches one of the policy's mx patterns. */
export function policyAllowsMx(policy: Pick<MtaStsPolicy, 'mx'>, host: string): boolean {
  return policy.mx.some((pattern) => mxPatternMatches(pattern, host));
}
