// The DATA encoder for outbound mail: message content to the exact bytes sent after
// "354" (RFC 5321 §4.1.1.4, §4.5.2).
//
// Invariants (each has a test):
// - Every bare CR and every bare LF becomes CRLF, so the only line end the next hop
//   ever sees is CRLF and nothing in the content can form an end-of-data sequence
//   (CR LF . CR LF, or LF . LF / CR . CR at a lenient receiver) — the SMTP-smuggling
//   defence on the sending side.
// - A line that starts with "." gets one more "." (RFC 5321 §4.5.2 transparency).
// - The output ends with CRLF before the terminating ".\r\n", whatever the content's
//   last byte was.
// - Linear time and memory per chunk: runs between line ends are copied once, by
//   Buffer.concat, never re-sliced or re-joined.
//
// Also here: the RFC 1870 size of the content (CRLF line ends counted, stuffing dots
// not), and the 8-bit scan used by the downgrade rules.

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const DOT_BYTE = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');

/** Output chunk size for `encodeData`: big enough for few writes, small enough to stream. */
export const DATA_CHUNK = 64 * 1024;

/**
 * Stateful encoder: feed chunks in order, then `end()`. State crosses chunk
 * boundaries (a CR at the end of one chunk and an LF at the start of the next are one
 * line end; a "." after a line end in the previous chunk is still at a line start).
 */
export class DataEncoder {
  #lineStart = true;
  #pendingCR = false;

  encode(chunk: Uint8Array): Buffer {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let pos = 0;
    if (this.#pendingCR && buf.length > 0) {
      out.push(CRLF); // CR LF split across chunks, or a bare CR: either way one CRLF
      this.#pendingCR = false;
      this.#lineStart = true;
      if (buf[0] === LF) pos = 1;
    }
    let nextCR = buf.indexOf(CR, pos);
    let nextLF = buf.indexOf(LF, pos);
    while (pos < buf.length) {
      if (this.#lineStart && buf[pos] === DOT) out.push(DOT_BYTE);
      if (nextCR !== -1 && nextCR < pos) nextCR = buf.indexOf(CR, pos);
      if (nextLF !== -1 && nextLF < pos) nextLF = buf.indexOf(LF, pos);
      const eol = nextCR === -1 ? nextLF : nextLF === -1 ? nextCR : Math.min(nextCR, nextLF);
      if (eol === -1) {
        out.push(buf.subarray(pos));
        this.#lineStart = false;
        break;
      }
      if (eol > pos) out.push(buf.subarray(pos, eol));
      if (buf[eol] === LF) {
        out.push(CRLF); // bare LF
        pos = eol + 1;
      } else if (eol + 1 < buf.length) {
        out.push(CRLF); // CRLF, or a bare CR
        pos = buf[eol + 1] === LF ? eol + 2 : eol + 1;
      } else {
        this.#pendingCR = true; // decided by the next chunk or by end()
        pos = eol + 1;
      }
      this.#lineStart = true;
    }
    return Buffer.concat(out);
  }

  /** The closing bytes: a pending line end, CRLF if the content did not end with one, then ".\r\n". */
  end(): Buffer {
    const parts: Buffer[] = [];
    if (this.#pendingCR) parts.push(CRLF);
    else if (!this.#lineStart) parts.push(CRLF);
    parts.push(TERMINATOR);
    this.#pendingCR = false;
    this.#lineStart = true;
    return Buffer.concat(parts);
  }
}

/** The whole message as a sequence of encoded chunks of about `chunkSize` input octets, ending with ".\r\n". */
export function* encodeData(content: Uint8Array, chunkSize = DATA_CHUNK): Generator<Buffer> {
  const encoder = new DataEncoder();
  for (let pos = 0; pos < content.byteLength; pos += chunkSize) {
    const piece = encoder.encode(content.subarray(pos, Math.min(pos + chunkSize, content.byteLength)));
    if (piece.length > 0) yield piece;
  }
  yield encoder.end();
}

/**
 * RFC 1870 §3 message size: octets with every line end counted as CRLF (bare CR and
 * bare LF as sent, two octets), a final CRLF if missing, stuffing dots not counted.
 */
export function wireSize(content: Uint8Array): number {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  let size = buf.length;
  for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) {
    if (i === 0 || buf[i - 1] !== CR) size += 1; // bare LF -> CRLF
  }
  for (let i = buf.indexOf(CR); i !== -1; i = buf.indexOf(CR, i + 1)) {
    if (buf[i + 1] !== LF) size += 1; // bare CR -> CRLF
  }
  const last = buf[buf.length - 1];
  if (buf.length > 0 && last !== LF && last !== CR) size += 2;
  return size;
}

/** True if any octet has the high bit set (8-bit content, RFC 6152). */
export function hasEightBit(content: Uint8Array): boolean {
  // Eight octets at a time through a BigUint64 view would be faster; a byte loop is
  // about 1 ms per MB, small beside the network.
  for (let i = 0; i < content.byteLength; i++) if (content[i]! >= 0x80) return true;
  return false;
}
