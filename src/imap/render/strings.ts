// IMAP string forms for the FETCH renderers (RFC 9051 §4.3, §9 `string`, `quoted`,
// `literal`, `nstring`, `astring`, `nil`). The output is text to be written as
// UTF-8: a literal's count is the UTF-8 octet count of its content.
// Decisions: a string goes out as a literal when it holds CR, LF, an 8-bit
// character (IMAP4rev1 clients cannot take those quoted) or is longer than
// MAX_QUOTED; NUL (never allowed in IMAP strings, RFC 9051 §4.3) is dropped.
// Invariants: the result always parses as the grammar element it names.

export const MAX_QUOTED = 1000;

const NEEDS_LITERAL = /[\r\n\u0080-\uffff]/;
// ATOM-CHAR: any CHAR except atom-specials ( ) { SP CTL % * " \ ]
const ATOM = /^[^(){ \x00-\x1f\x7f%*"\\\]\u0080-\uffff]+$/;

function clean(s: string): string {
  return s.includes('\0') ? s.replaceAll('\0', '') : s;
}

/** `"..."` with \ and " escaped. The caller guarantees no CR, LF or NUL. */
export function quoted(s: string): string {
  return `"${s.replace(/(["\\])/g, '\\$1')}"`;
}

/** `{n}\r\n` followed by the text (n = its UTF-8 octets). */
export function literal(s: string): string {
  const text = clean(s);
  return `{${Buffer.byteLength(text, 'utf8')}}\r\n${text}`;
}

/** A string: quoted when it can be, else a literal. */
export function string(s: string): string {
  const text = clean(s);
  return text.length > MAX_QUOTED || NEEDS_LITERAL.test(text) ? literal(text) : quoted(text);
}

/** nstring: NIL for null. */
export function nstring(s: string | null): string {
  return s === null ? 'NIL' : string(s);
}

/** astring: an atom when every character is an ATOM-CHAR (and it is not "NIL"), else a string. */
export function astring(s: string): string {
  return ATOM.test(s) && s.toUpperCase() !== 'NIL' ? s : string(s);
}
