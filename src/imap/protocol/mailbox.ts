// Mailbox names: RFC 9051 §5.1 (INBOX is case-insensitive), RFC 3501 §5.1.3
// (modified UTF-7, "mUTF-7"), RFC 6855 §3 (UTF8=ACCEPT: names are plain UTF-8).
//
// Invariants: decoding is strict — a name that does not round-trip through
// encodeModifiedUtf7 is rejected, so two spellings can never name one mailbox.
// Names that look like paths ("../x", "a/../../b") parse as names: the grammar
// has no opinion on hierarchy; the mailbox layer above validates names against
// its own policy (and never maps them onto a file system path).

import { ImapBad } from './errors.ts';
import type { Cursor } from './tokens.ts';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';

/** Decode modified UTF-7; throws ImapBad on anything malformed or non-canonical. */
export function decodeModifiedUtf7(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new ImapBad('Mailbox name: invalid character (modified UTF-7 expected)');
    if (c !== 0x26) {
      out += name[i++];
      continue;
    }
    const end = name.indexOf('-', i + 1);
    if (end < 0) throw new ImapBad('Mailbox name: unterminated modified UTF-7 sequence');
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    out += decodeShift(name.slice(i + 1, end));
    i = end + 1;
  }
  if (encodeModifiedUtf7(out) !== name) throw new ImapBad('Mailbox name: non-canonical modified UTF-7');
  return out;
}

function decodeShift(b64: string): string {
  let bits = 0;
  let acc = 0;
  const units: number[] = [];
  for (const ch of b64) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new ImapBad('Mailbox name: invalid modified BASE64');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 16) {
      bits -= 16;
      units.push((acc >> bits) & 0xffff);
    }
  }
  if (bits >= 6 || (acc & ((1 << bits) - 1)) !== 0 || units.length === 0) {
    throw new ImapBad('Mailbox name: malformed modified BASE64');
  }
  let s = '';
  for (let k = 0; k < units.length; k++) {
    const u = units[k]!;
    if (u >= 0x20 && u <= 0x7e) throw new ImapBad('Mailbox name: ASCII must not be BASE64-encoded');
    if (u >= 0xd800 && u <= 0xdbff) {
      const lo = units[++k];
      if (lo === undefined || lo < 0xdc00 || lo > 0xdfff) throw new ImapBad('Mailbox name: broken surrogate');
      s += String.fromCharCode(u, lo);
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      throw new ImapBad('Mailbox name: broken surrogate');
    } else {
      s += String.fromCharCode(u);
    }
  }
  return s;
}

/** Encode a Unicode name as modified UTF-7 (for responses to non-UTF-8 clients). */
export function encodeModifiedUtf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const bytes = Buffer.alloc(pending.length * 2);
    for (const [k, u] of pending.entries()) bytes.writeUInt16BE(u, k * 2);
    out += '&' + bytes.toString('base64').replace(/=+$/, '').replaceAll('/', ',') + '-';
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u >= 0x20 && u <= 0x7e) {
      flush();
      out += u === 0x26 ? '&-' : name[i];
    } else {
      pending.push(u);
    }
  }
  flush();
  return out;
}

// list-mailbox = 1*list-char / string; list-char = ATOM-CHAR / list-wildcards / resp-specials
const LIST_CHARS = /[^\x00-\x20\x7f-\xff(){"\\]+/y;

/** LIST reference (may be empty) or pattern, mUTF-7 decoded unless in UTF-8 mode; no INBOX folding. */
export function listMailbox(c: Cursor, isReference: boolean): string {
  const p = c.peek();
  const raw = p === '"' || p === '{' ? c.string() : c.token(LIST_CHARS, 'a mailbox pattern');
  if (raw === '' && !isReference) return raw;
  const name = c.options.utf8 ? raw : decodeModifiedUtf7(raw);
  if (/[\x00-\x1f\x7f]/.test(name)) throw new ImapBad('Mailbox name: control characters are not allowed');
  return name;
}

/** RFC 9051 mailbox = "INBOX" / astring, normalised: INBOX upper-cased, mUTF-7 decoded unless UTF-8 mode. */
export function mailbox(c: Cursor): string {
  const raw = c.astring();
  if (raw.toUpperCase() === 'INBOX') return 'INBOX';
  if (raw.length === 0) throw new ImapBad('Empty mailbox name');
  const name = c.options.utf8 ? raw : decodeModifiedUtf7(raw);
  if (/[\x00-\x1f\x7f]/.test(name)) throw new ImapBad('Mailbox name: control characters are not allowed');
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}
