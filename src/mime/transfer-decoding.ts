// Content decoding for IMAP BINARY (RFC 3516) and the search index:
// Content-Transfer-Encoding (RFC 2045 §6.7 quoted-printable, §6.8 base64),
// charsets via the WHATWG TextDecoder, and RFC 2047 encoded words.
// Invariants: lenient (never throws on malformed input: bad base64 characters are
// skipped, a stray "=" in quoted-printable is kept literally); output size is at
// most the input size; an unknown charset label falls back to latin1.

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Identity encodings; anything else but base64/quoted-printable is unknown. */
const IDENTITY = new Set(['7BIT', '8BIT', 'BINARY', '']);

/** Decode a body by its (upper-case) Content-Transfer-Encoding, or null if unknown. */
export function decodeTransfer(body: Buffer, encoding: string): Buffer | null {
  const enc = encoding.toUpperCase();
  if (IDENTITY.has(enc)) return body;
  if (enc === 'BASE64') return Buffer.from(body.toString('latin1'), 'base64'); // skips non-alphabet bytes
  if (enc === 'QUOTED-PRINTABLE') return decodeQuotedPrintable(body);
  return null;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** RFC 2045 §6.7: "=XX" octets and "=" soft line breaks (trailing white space allowed). */
export function decodeQuotedPrintable(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.length);
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    const h = hexValue(body[i + 1] ?? -1);
    const l = hexValue(body[i + 2] ?? -1);
    if (h !== -1 && l !== -1) {
      out[o++] = (h << 4) | l;
      i += 2;
      continue;
    }
    // Soft line break: "=" then optional white space then CRLF/LF.
    let j = i + 1;
    while (body[j] === 0x20 || body[j] === 0x09) j++;
    if (body[j] === 0x0d && body[j + 1] === 0x0a) i = j + 1;
    else if (body[j] === 0x0a) i = j;
    else if (j >= body.length) i = j;
    else out[o++] = c;
  }
  return out.subarray(0, o);
}

/** Bytes → text in `charset`; null/unknown charsets: UTF-8 if valid, else windows-1252/latin1. */
export function decodeCharset(bytes: Uint8Array, charset: string | null): string {
  const label = charset?.trim().toLowerCase() ?? '';
  if (label !== '' && label !== 'us-ascii' && label !== 'ascii') {
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    }
  }
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/**
 * RFC 2047: decode "=?charset?B|Q?text?=" words. White space between adjacent words
 * is dropped, and adjacent words in one charset are joined as bytes before decoding
 * (senders split multi-byte characters across words).
 */
export function decodeEncodedWords(s: string): string {
  if (!s.includes('=?')) return s;
  const re = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
  let out = '';
  let last = 0;
  let pending: Buffer[] = [];
  let pendingCharset = '';
  const flush = (): void => {
    if (pending.length > 0) out += decodeCharset(Buffer.concat(pending), pendingCharset);
    pending = [];
  };
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const between = s.slice(last, m.index);
    const charset = m[1]!.replace(/\*.*$/, '').toLowerCase(); // RFC 2231 §5 language suffix
    if (!(pending.length > 0 && /^[ \t\r\n]*$/.test(between))) {
      flush();
      out += between;
    } else if (charset !== pendingCharset) flush();
    const text = m[3]!;
    pending.push(
      m[2]!.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : decodeQuotedPrintable(Buffer.from(text.replace(/_/g, ' '), 'latin1')),
    );
    pendingCharset = charset;
    last = re.lastIndex;
  }
  flush();
  return out + s.slice(last);
}
