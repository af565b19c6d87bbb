// FETCH BODY[section]<partial> and BINARY[part] content (RFC 9051 §6.4.5, RFC 3516):
// slices of the raw message located by the parsed structure, never a re-parse.
// Part numbers: a multipart's children are 1..n; a message/rfc822 (or global)
// part's numbers are those of the enclosed message's body (the body itself when it
// is not multipart); the message itself is numbered like a message/rfc822 part, so
// part 1 of a non-multipart message is its body.
// Decisions: a part number that does not exist gives an empty Buffer (RFC 9051
// lets the server return an empty string; Dovecot does); HEADER, HEADER.FIELDS and
// TEXT after a part number that is not message/rfc822 give null (the caller answers
// NIL); a header block always ends with its blank line (CRLF added when the message
// lacks one); HEADER.FIELDS keeps each matching field as on the wire, folding
// included. BINARY of a part with an unknown Content-Transfer-Encoding is
// 'unknown-cte' (RFC 3516 §4.1: NO [UNKNOWN-CTE]).

import type { MessageStructure, MimePart } from '../../mime/structure-types.ts';
import { decodeTransfer } from '../../mime/transfer-decoding.ts';
import type { FetchPartial, Section } from '../protocol/section.ts';

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

/** Inside an encapsulated message (or the top message): part n of its body. */
function enter(body: MimePart, n: number): MimePart | null {
  if (body.type === 'multipart') return body.children[n - 1] ?? null;
  return n === 1 ? body : null;
}

/** The part a path names, or null. An empty path is null (the caller means the message). */
export function findPart(s: MessageStructure, path: readonly number[]): MimePart | null {
  let cur: MimePart | null = null;
  for (const n of path) {
    if (cur === null) cur = enter(s.body, n);
    else if (cur.type === 'multipart') cur = cur.children[n - 1] ?? null;
    else if (cur.message !== null) cur = enter(cur.message.body, n);
    else cur = null;
    if (cur === null) return null;
  }
  return cur;
}

function endsWithBlankLine(h: Buffer): boolean {
  const n = h.length;
  if (n === 0 || h[n - 1] !== 0x0a) return false;
  let i = n - 2;
  if (i >= 0 && h[i] === 0x0d) i--;
  return i < 0 || h[i] === 0x0a;
}

/** A header block ending with its blank line (added when the message has none). */
function headerBlock(raw: Buffer, start: number, end: number): Buffer {
  const h = raw.subarray(start, end);
  if (endsWithBlankLine(h)) return h;
  if (h.length === 0) return CRLF;
  return Buffer.concat([h, h[h.length - 1] === 0x0a ? CRLF : Buffer.from('\r\n\r\n')]);
}

/** RFC 9051 §6.4.5 HEADER.FIELDS [.NOT]: the matching fields, then the blank line. */
export function headerFields(header: Buffer, names: readonly string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  let pos = 0;
  let keep = false;
  while (pos < header.length) {
    let eol = header.indexOf(0x0a, pos);
    const next = eol === -1 ? header.length : eol + 1;
    if (eol === -1) eol = header.length;
    const lineEnd = eol > pos && header[eol - 1] === 0x0d ? eol - 1 : eol;
    if (lineEnd === pos) break; // the blank line
    const c = header[pos];
    if (c !== 0x20 && c !== 0x09) {
      const colon = header.indexOf(0x3a, pos);
      const name =
        colon === -1 || colon > lineEnd ? null : header.toString('latin1', pos, colon).trim().toLowerCase();
      keep = name !== null && wanted.has(name) !== not;
    }
    if (keep) {
      out.push(header.subarray(pos, next));
      if (eol === header.length) out.push(CRLF);
    }
    pos = next;
  }
  out.push(CRLF);
  return Buffer.concat(out);
}

/** The bytes of BODY[section] (before any partial), or null when the section does not apply. */
export function extractSection(raw: Buffer, s: MessageStructure, section: Section): Buffer | null {
  const text = section.text;
  let msgHeaderStart: number;
  let msgBody: MimePart;
  if (section.part.length === 0) {
    if (text === undefined) return raw;
    msgHeaderStart = 0;
    msgBody = s.body;
  } else {
    const part = findPart(s, section.part);
    if (part === null) return EMPTY;
    if (text === undefined) return raw.subarray(part.bodyStart, part.bodyEnd);
    if (text.kind === 'mime') return headerBlock(raw, part.headerStart, part.bodyStart);
    if (part.message === null) return null;
    msgHeaderStart = part.message.body.headerStart;
    msgBody = part.message.body;
  }
  switch (text.kind) {
    case 'header':
      return headerBlock(raw, msgHeaderStart, msgBody.bodyStart);
    case 'header.fields':
      return headerFields(raw.subarray(msgHeaderStart, msgBody.bodyStart), text.fields, text.not);
    case 'text':
      return raw.subarray(msgBody.bodyStart, msgBody.bodyEnd);
    case 'mime':
      return null; // the grammar only allows MIME after a part number
  }
}

/** <offset.length>: the slice; an offset past the end gives an empty Buffer. */
export function applyPartial(buf: Buffer, partial: FetchPartial | undefined): Buffer {
  if (partial === undefined) return buf;
  if (partial.offset >= buf.length) return EMPTY;
  return buf.subarray(partial.offset, Math.min(buf.length, partial.offset + partial.length));
}

/** RFC 3516 BINARY[part]: the decoded content; [] is the whole message as stored. */
export function extractBinary(
  raw: Buffer,
  s: MessageStructure,
  part: readonly number[],
): Buffer | 'unknown-cte' {
  if (part.length === 0) return raw;
  const p = findPart(s, part);
  if (p === null) return EMPTY;
  return decodeTransfer(raw.subarray(p.bodyStart, p.bodyEnd), p.encoding) ?? 'unknown-cte';
}
