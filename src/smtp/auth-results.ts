// Removal of forged Authentication-Results header fields (RFC 8601 §5): a message arriving
// from outside must not carry results that claim to come from us, or a client reading our
// header would trust a sender's own verdict. Every Authentication-Results field in the
// top-level header block whose authserv-id (RFC 8601 §2.2; the first `value` after optional
// CFWS) equals ours, compared case-insensitively, is removed with its continuation lines.
//
// Invariants:
// - Pure: bytes in, bytes out; every byte that is kept is copied unchanged.
// - Nothing after the first empty line (the header/body separator) is ever looked at.
// - A field whose authserv-id cannot be parsed (empty, unterminated comment or quote) is
//   removed as well: it is valid for no one, and a lenient reader might take it for ours.
// - Fields claiming other authserv-ids stay, and so do ARC-Authentication-Results fields
//   (they are part of ARC sets, RFC 8617 §4.1.1; removing one would break the chain).
// - A field name followed by WSP before the colon (obs-optional, RFC 5322 §4.5.3) is still
//   that field, so the obsolete syntax cannot smuggle a forged header past us.

const FIELD_NAME = /^authentication-results[ \t]*:/i;

/** Returns the message without Authentication-Results fields that claim `authservId`
 * (the same Buffer when there is nothing to remove). */
export function stripForgedAuthResults(message: Buffer, authservId: string): Buffer {
  const ours = normalizeId(authservId);
  const kept: Buffer[] = [];
  let removed = false;
  let pos = 0;
  while (pos < message.length) {
    const lineEnd = endOfLine(message, pos);
    if (isBlankLine(message, pos, lineEnd)) break; // header/body separator
    // one field: this line and every following line that starts with WSP (RFC 5322 §2.2.3)
    let fieldEnd = lineEnd;
    while (fieldEnd < message.length && (message[fieldEnd] === 0x20 || message[fieldEnd] === 0x09)) {
      fieldEnd = endOfLine(message, fieldEnd);
    }
    const field = message.subarray(pos, fieldEnd);
    if (claimsAuthservId(field, ours)) removed = true;
    else kept.push(field);
    pos = fieldEnd;
  }
  if (!removed) return message;
  kept.push(message.subarray(pos));
  return Buffer.concat(kept);
}

/** Index just past the LF ending the line that starts at `start` (or the end of the buffer). */
function endOfLine(buf: Buffer, start: number): number {
  const lf = buf.indexOf(0x0a, start);
  return lf === -1 ? buf.length : lf + 1;
}

function isBlankLine(buf: Buffer, start: number, end: number): boolean {
  const length = end - start;
  if (length === 1) return buf[start] === 0x0a;
  return length === 2 && buf[start] === 0x0d && buf[start + 1] === 0x0a;
}

function claimsAuthservId(field: Buffer, ours: string): boolean {
  // latin1 maps each byte to one code unit, so the header name and any ASCII id compare exactly
  const text = field.toString('latin1');
  const name = FIELD_NAME.exec(text);
  if (!name) return false;
  const id = readAuthservId(text, name[0].length);
  // a field whose authserv-id cannot be read is no one's valid result; a lenient reader
  // might still take it for ours, so it goes too
  return id === null || normalizeId(Buffer.from(id, 'latin1').toString('utf8')) === ours;
}

function normalizeId(id: string): string {
  return id.toLowerCase().replace(/\.$/, '');
}

/** Reads the authserv-id (`value` = token / quoted-string, RFC 2045 §5.1) after CFWS. */
function readAuthservId(text: string, start: number): string | null {
  const pos = skipCfws(text, start);
  if (pos === -1 || pos >= text.length) return null;
  if (text[pos] === '"') return readQuotedString(text, pos);
  const token = /^[^\x00-\x20\x7f()<>@,;:\\"/[\]?=]+/.exec(text.slice(pos));
  return token ? token[0] : null;
}

/** Skips whitespace, line folds and (nested) comments; -1 for an unterminated comment. */
function skipCfws(text: string, start: number): number {
  let pos = start;
  let depth = 0;
  while (pos < text.length) {
    const c = text[pos];
    if (depth > 0 && c === '\\') pos += 2;
    else if (c === '(') {
      depth++;
      pos++;
    } else if (depth > 0 && c === ')') {
      depth--;
      pos++;
    } else if (depth > 0 || c === ' ' || c === '\t' || c === '\r' || c === '\n') pos++;
    else return pos;
  }
  return depth > 0 ? -1 : pos;
}

function readQuotedString(text: string, start: number): string | null {
  let out = '';
  for (let pos = start + 1; pos < text.length; pos++) {
    const c = text[pos];
    if (c === '"') return out;
    if (c === '\\') {
      pos++;
      out += text[pos] ?? '';
    } else if (c !== '\r' && c !== '\n') out += c;
  }
  return null;
}
