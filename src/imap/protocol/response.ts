// IMAP response encoding (the outbound half of layer 2): pure functions from
// values to wire text. RFC 9051 §4.3 and §9 `quoted`, `literal`, `astring`,
// `nstring`, `flag-list`, `mailbox`, `sequence-set`, `date-time`,
// `resp-text`; RFC 3516 `literal8`; RFC 3501 §5.1.3 modified UTF-7 and RFC 6855
// §3 (UTF8=ACCEPT: UTF-8 in quoted strings and mailbox names).
//
// Invariants:
// - No I/O, no state. Wire text is returned as a JS string that the writer
//   encodes as UTF-8; the `{n}` of a literal counts the UTF-8 octets of its content.
// - What `str`, `astring` and `nstring` produce, the grammar (Cursor.string,
//   astring, nstring) reads back to the same value.
// - `utf8` means the session may receive 8-bit text in quoted strings
//   (IMAP4rev2 or UTF8=ACCEPT enabled); without it 8-bit text goes as a literal.
// - Programming errors (a CR in a quoted string, a non-IMAP number) throw RangeError.

import { encodeModifiedUtf7 } from './mailbox.ts';

const MAX_QUOTED = 1024;
const ATOM_CHARS = /^[\x21-\x7e]+$/;
const ATOM_SPECIALS = /[(){%*"\\]/;
const NEEDS_LITERAL = /[\r\n\0]/;
const EIGHT_BIT = /[^\x00-\x7f]/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MAX_NUMBER = 0xffff_ffff;

/** quoted = DQUOTE *QUOTED-CHAR DQUOTE; only `"` and `\` are escaped; CR, LF, NUL cannot be quoted. */
export function quoted(s: string): string {
  if (NEEDS_LITERAL.test(s)) throw new RangeError('CR, LF and NUL cannot be sent in a quoted string');
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * string = quoted / literal: a literal for CR, LF or NUL, for 8-bit text unless
 * `utf8`, and for anything over 1024 octets; quoted otherwise.
 */
export function str(s: string, utf8 = false): string {
  const octets = Buffer.byteLength(s, 'utf8');
  if (octets > MAX_QUOTED || NEEDS_LITERAL.test(s) || (!utf8 && EIGHT_BIT.test(s)))
    return `{${octets}}\r\n${s}`;
  return quoted(s);
}

/** astring: a bare atom when it can be one (never `NIL`, which clients may read as null), else `str`. */
export function astring(s: string, utf8 = false): string {
  if (ATOM_CHARS.test(s) && !ATOM_SPECIALS.test(s) && s.toUpperCase() !== 'NIL') return s;
  return str(s, utf8);
}

/** nstring = string / NIL */
export function nstring(s: string | null, utf8 = false): string {
  return s === null ? 'NIL' : str(s, utf8);
}

/** A literal for raw octets: `{n}` CRLF data, or `~{n}` (literal8, RFC 3516) when they contain NUL. */
export function literalBytes(buf: Buffer): Buffer[] {
  const marker = `${buf.includes(0) ? '~' : ''}{${buf.length}}\r\n`;
  return [Buffer.from(marker, 'latin1'), buf];
}

/** "(" items separated by SP ")"; the items are already wire text. */
export function list(items: readonly string[]): string {
  return `(${items.join(' ')})`;
}

/** flag-list: flags are atoms (`\Seen`, `$Junk`) and go as they are. */
export function flagList(flags: readonly string[]): string {
  return list(flags);
}

/** mailbox: INBOX as is; other names modified UTF-7 encoded unless UTF8=ACCEPT is enabled. */
export function mailboxName(name: string, utf8: boolean): string {
  if (name === 'INBOX') return name;
  return astring(utf8 ? name : encodeModifiedUtf7(name), utf8);
}

/** The shortest sequence-set for the numbers: sorted, duplicates dropped, runs merged (`1:3,5,7:9`). */
export function sequenceSetString(nums: Iterable<number>): string {
  const sorted = Float64Array.from(nums).sort();
  const parts: string[] = [];
  let start = Number.NaN;
  let prev = Number.NaN;
  const flush = (): void => {
    if (!Number.isNaN(start)) parts.push(start === prev ? `${start}` : `${start}:${prev}`);
  };
  for (const n of sorted) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_NUMBER)
      throw new RangeError(`Not an IMAP message number: ${n}`);
    if (n === prev || n === prev + 1) {
      prev = n;
      continue;
    }
    flush();
    start = n;
    prev = n;
  }
  flush();
  return parts.join(',');
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** date-time with its quotes, e.g. `"17-Jul-1996 02:44:25 -0700"`, in the zone given (minutes east of UTC). */
export function formatDateTime(ms: number, tzOffsetMinutes = 0): string {
  if (!Number.isInteger(tzOffsetMinutes) || Math.abs(tzOffsetMinutes) >= 24 * 60)
    throw new RangeError('Zone offset out of range');
  const d = new Date(ms + tzOffsetMinutes * 60_000);
  const year = d.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) throw new RangeError('Date out of range');
  const zone = Math.abs(tzOffsetMinutes);
  const sign = tzOffsetMinutes < 0 ? '-' : '+';
  const date = `${pad(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${pad(year, 4)}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `"${date} ${time} ${sign}${pad(Math.floor(zone / 60))}${pad(zone % 60)}"`;
}

/**
 * resp-text = ["[" resp-text-code "]" SP] text. CR, LF and NUL in the text become
 * spaces (text is 1*TEXT-CHAR); an empty text or a code with `]` or a line break is a bug.
 */
export function responseCodeText(code: string | undefined, text: string): string {
  const clean = text.replace(/[\r\n\0]/g, ' ');
  if (clean.length === 0) throw new RangeError('Response text must not be empty');
  if (code === undefined) return clean;
  if (code.length === 0 || /[\]\r\n\0]/.test(code)) throw new RangeError('Invalid response code');
  return `[${code}] ${clean}`;
}
