// DKIM canonicalisation for signing (RFC 6376 §3.4): splitting a message into header
// fields and body, and the "relaxed" algorithms for both. Pure functions on bytes.
//
// Why our own and not mailauth's signer: mailauth 7.1.0 builds h= from the header
// fields present in the message (one name per field), so it cannot list a name once
// more than it occurs — the oversigning of RFC 6376 §8.15 this signer needs. Its
// verifier checks what we produce in the tests (manage/sign tests), an independent
// implementation of the same canonicalisation.
//
// Invariants:
// - Work is done on bytes held as latin1 strings (one char per byte), so 8-bit header
//   content passes through unchanged; only SP and HTAB count as whitespace (WSP), never
//   what JavaScript's trim() would remove (U+00A0 is byte 0xA0 here).
// - Line ends are CRLF: toCrlf turns a bare LF or bare CR into CRLF first, and the
//   signed message is that normalised form (what is signed is what is sent).

import { createHash } from 'node:crypto';

export interface HeaderField {
  /** Lower-case field name. */
  readonly name: string;
  /** The whole field as it appears, folded lines included, without the final CRLF (latin1). */
  readonly raw: string;
}

export interface SplitMessage {
  /** Header fields in message order (top first). */
  readonly headers: readonly HeaderField[];
  /** Everything after the empty line ending the header section (latin1); '' without one. */
  readonly body: string;
}

/** The message with every bare LF and bare CR made CRLF (RFC 5322 §2.3 allows no other). */
export function toCrlf(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  if (!/\r(?!\n)|(?<!\r)\n/.test(text)) return raw;
  return Buffer.from(text.replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
}

/** Split a CRLF message (see toCrlf) into header fields and body (RFC 5322 §2.1, §2.2.3). */
export function splitMessage(crlf: Buffer): SplitMessage {
  const text = crlf.toString('latin1');
  let headerEnd: number;
  let body: string;
  if (text.startsWith('\r\n')) {
    headerEnd = 0;
    body = text.slice(2);
  } else {
    const blank = text.indexOf('\r\n\r\n');
    headerEnd = blank < 0 ? text.length : blank;
    body = blank < 0 ? '' : text.slice(blank + 4);
  }
  const headers: HeaderField[] = [];
  const block = text.slice(0, headerEnd);
  const lines = block === '' ? [] : block.split('\r\n');
  for (const line of lines) {
    const last = headers.at(-1);
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[headers.length - 1] = { name: last.name, raw: `${last.raw}\r\n${line}` };
      continue;
    }
    const colon = line.indexOf(':');
    const name = (colon < 0 ? line : line.slice(0, colon)).replace(/[ \t]+$/, '').toLowerCase();
    headers.push({ name, raw: line });
  }
  return { headers, body };
}

/** One header field in relaxed form, `name:value` with no CRLF (RFC 6376 §3.4.2). */
export function relaxedHeader(raw: string): string {
  const unfolded = raw.replace(/\r\n/g, '');
  const colon = unfolded.indexOf(':');
  const name = (colon < 0 ? unfolded : unfolded.slice(0, colon))
    .replace(/^[ \t]+|[ \t]+$/g, '')
    .toLowerCase();
  const value = colon < 0 ? '' : unfolded.slice(colon + 1);
  return `${name}:${value.replace(/[ \t]+/g, ' ').replace(/^ | $/g, '')}`;
}

/**
 * The body hash (bh=) of a CRLF body in relaxed form (RFC 6376 §3.4.4): WSP at line ends
 * removed, other WSP runs made one SP, empty lines at the end dropped; a non-empty body
 * ends with CRLF, an empty one hashes as nothing (RFC 6376 erratum 1384, as verifiers do).
 */
export function relaxedBodyHash(body: string): string {
  const hash = createHash('sha256');
  let pendingEmpty = 0;
  let start = 0;
  while (start < body.length) {
    const end = body.indexOf('\r\n', start);
    const line = body.slice(start, end < 0 ? body.length : end);
    start = end < 0 ? body.length : end + 2;
    const canonical = line.replace(/[ \t]+$/, '').replace(/[ \t]+/g, ' ');
    if (canonical === '') {
      pendingEmpty++;
      continue;
    }
    if (pendingEmpty > 0) hash.update('\r\n'.repeat(pendingEmpty), 'latin1');
    pendingEmpty = 0;
    hash.update(`${canonical}\r\n`, 'latin1');
  }
  return hash.digest('base64');
}
