// Text of a message for the search index (DESIGN.md "Search"): the decoded
// Subject/From/To/Cc (RFC 2047 encoded words) and every text/plain and text/html
// part (RFC 2045 §6 transfer encodings, charsets via TextDecoder, HTML reduced to
// its text), recursing into message/rfc822 parts; and tokenize(), which turns text
// (a message's or a query's) into the unique search tokens.
// Invariants: extractText returns at most maxChars characters and decodes at most
// ~4 bytes per wanted character of any part; tokenize is NFKC, lower-case,
// diacritics-free (ß → ss), splits on anything that is not a letter or a digit, keeps
// tokens of MIN_TOKEN..MAX_TOKEN characters and at most MAX_TOKENS unique ones.
// CJK text is not segmented: a run of ideographs is one token (dropped past 64).

import type { Envelope, EnvelopeAddress, MessageStructure, MimePart } from './structure-types.ts';
import { decodeCharset, decodeEncodedWords, decodeTransfer } from './transfer-decoding.ts';

export const MIN_TOKEN = 2;
export const MAX_TOKEN = 64;
export const MAX_TOKENS = 10_000;

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  laquo: '«',
  raquo: '»',
  euro: '€',
  rsquo: '’',
  lsquo: '‘',
  rdquo: '”',
  ldquo: '“',
};

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/g, (m, e: string) => {
    if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
    const code =
      e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
  });
}

/** HTML → text: drop script/style/head-less markup, comments and tags; decode entities. Linear. */
export function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  let out = '';
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    let end: number;
    if (lower.startsWith('<!--', lt)) {
      end = lower.indexOf('-->', lt + 4);
      end = end === -1 ? html.length : end + 3;
    } else if (lower.startsWith('<script', lt) || lower.startsWith('<style', lt)) {
      const tag = lower.startsWith('<script', lt) ? '</script' : '</style';
      const close = lower.indexOf(tag, lt);
      const gt = close === -1 ? -1 : lower.indexOf('>', close);
      end = gt === -1 ? html.length : gt + 1;
    } else {
      const gt = html.indexOf('>', lt);
      end = gt === -1 ? html.length : gt + 1;
    }
    out += ' ';
    i = end;
  }
  return decodeEntities(out);
}

function addressText(list: readonly EnvelopeAddress[] | null): string {
  if (list === null) return '';
  return list
    .map((a) => {
      const name = a.name === null ? '' : decodeEncodedWords(a.name);
      const email = a.mailbox !== null && a.host !== null ? `${a.mailbox}@${a.host}` : (a.mailbox ?? '');
      return `${name} ${email}`;
    })
    .join(' ');
}

function headerText(e: Envelope): string {
  const subject = e.subject === null ? '' : decodeEncodedWords(e.subject);
  return [subject, addressText(e.from), addressText(e.to), addressText(e.cc)].join('\n');
}

function partText(raw: Buffer, p: MimePart, budget: number): string {
  const body = raw.subarray(p.bodyStart, Math.min(p.bodyEnd, p.bodyStart + budget * 8));
  const decoded = decodeTransfer(body, p.encoding) ?? body;
  const charset = p.params.find(([n]) => n === 'charset')?.[1] ?? null;
  const text = decodeCharset(decoded.subarray(0, budget * 4), charset);
  return p.subtype === 'html' ? htmlToText(text) : text;
}

/** The decoded text of a message for the search index, at most maxChars characters. */
export function extractText(raw: Buffer, s: MessageStructure, maxChars = 1_000_000): string {
  const chunks: string[] = [];
  let left = maxChars;
  const add = (t: string): void => {
    if (left <= 0 || t === '') return;
    const piece = t.length > left ? t.slice(0, left) : t;
    chunks.push(piece);
    left -= piece.length + 1;
  };
  const walk = (p: MimePart): void => {
    if (left <= 0) return;
    if (p.type === 'multipart') for (const c of p.children) walk(c);
    else if (p.message !== null) {
      add(headerText(p.message.envelope));
      walk(p.message.body);
    } else if (p.type === 'text' && (p.subtype === 'plain' || p.subtype === 'html'))
      add(partText(raw, p, left));
  };
  add(headerText(s.envelope));
  walk(s.body);
  return chunks.join('\n');
}

/** Unique search tokens of a text (the same function serves messages and queries). */
export function tokenize(text: string): string[] {
  // ß folds to "ss" as under RFC 5051 i;unicode-casemap (full case mapping).
  const folded = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .normalize('NFC');
  const seen = new Set<string>();
  for (const token of folded.split(/[^\p{L}\p{N}]+/u)) {
    if (token.length < MIN_TOKEN || seen.has(token)) continue;
    if (token.length < 2 * MIN_TOKEN && [...token].length < MIN_TOKEN) continue;
    if (token.length > MAX_TOKEN && [...token].length > MAX_TOKEN) continue;
    seen.add(token);
    if (seen.size >= MAX_TOKENS) break;
  }
  return [...seen];
}
