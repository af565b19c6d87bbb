// The bytes of RETR and TOP (RFC 1939 §3 multi-line responses, §7 TOP): the message
// split into CRLF lines, every line that starts with "." given one more "."
// (byte-stuffing), in bounded chunks the connection writes with back-pressure. The
// caller adds the terminating ".\r\n".
//
// Invariants:
// - Every line the client receives ends in CRLF: a bare LF in a stored message
//   becomes CRLF, and a last line without a line ending gets one, so the
//   terminator always stands on a line of its own.
// - No chunk is much larger than `chunkSize` unless a single line is.

import { OUTPUT_CHUNK } from './limits.ts';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const DOT_BUF = Buffer.from('.');

/** The message, dot-stuffed with CRLF line endings, in chunks of about chunkSize bytes. */
export function* dotStuffed(raw: Buffer, chunkSize = OUTPUT_CHUNK): Generator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  let pos = 0;
  while (pos < raw.length) {
    const lf = raw.indexOf(LF, pos);
    const end = lf < 0 ? raw.length : lf;
    const textEnd = end > pos && raw[end - 1] === CR ? end - 1 : end;
    if (raw[pos] === DOT) {
      parts.push(DOT_BUF);
      size++;
    }
    parts.push(raw.subarray(pos, textEnd), CRLF);
    size += textEnd - pos + 2;
    pos = lf < 0 ? raw.length : lf + 1;
    if (size >= chunkSize) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

/**
 * RFC 1939 §7 TOP: the header section, the blank line after it, and the first
 * `lines` lines of the body (all of them if there are fewer). A message without a
 * blank line is all header and is returned whole.
 */
export function topOf(raw: Buffer, lines: number): Buffer {
  let pos = 0;
  let inBody = false;
  let bodyLines = 0;
  while (pos < raw.length) {
    if (inBody && bodyLines >= lines) return raw.subarray(0, pos);
    const lf = raw.indexOf(LF, pos);
    const next = lf < 0 ? raw.length : lf + 1;
    if (inBody) bodyLines++;
    else if (isBlank(raw, pos, next)) inBody = true;
    pos = next;
  }
  return raw;
}

function isBlank(raw: Buffer, start: number, next: number): boolean {
  const len = next - start;
  if (len === 1) return raw[start] === LF;
  return len === 2 && raw[start] === CR && raw[start + 1] === LF;
}
