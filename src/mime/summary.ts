// The message summary computed once at delivery and sealed with the message: the
// decoded header fields mail clients list (RFC 5322 §3.6; RFC 2047 encoded words
// decoded), threading keys (Message-ID, In-Reply-To, References) and a short text
// preview. Derived from the one structure parse (structure.ts): no second parse.
// Invariants: never throws on malformed mail (absent fields are empty); bounded
// work (the preview reads at most PREVIEW_SOURCE_BYTES of one part).

import { scanHeader } from './structure-headers.ts';
import type { EnvelopeAddress, MessageStructure, MimePart } from './structure-types.ts';
import { htmlToText } from './text.ts';
import { decodeCharset, decodeEncodedWords, decodeTransfer } from './transfer-decoding.ts';

export interface SummaryAddress {
  readonly name: string;
  readonly address: string;
}

export interface MessageSummary {
  readonly subject: string;
  readonly from: readonly SummaryAddress[];
  readonly sender: readonly SummaryAddress[];
  readonly replyTo: readonly SummaryAddress[];
  readonly to: readonly SummaryAddress[];
  readonly cc: readonly SummaryAddress[];
  readonly date: number | null;
  readonly messageId: string | null;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
  readonly preview: string;
  readonly hasAttachments: boolean;
}

export const PREVIEW_CHARS = 256;
const PREVIEW_SOURCE_BYTES = 64 * 1024;
const MAX_REFERENCES = 100;
const NO_BOUNDARIES = { match: () => null, next: () => null };

function addresses(list: readonly EnvelopeAddress[] | null): SummaryAddress[] {
  const out: SummaryAddress[] = [];
  for (const a of list ?? []) {
    if (a.host === null) continue; // group start or end marker
    const name = a.name === null ? '' : decodeEncodedWords(a.name);
    out.push({ name, address: a.mailbox === null ? '' : `${a.mailbox}@${a.host}` });
  }
  return out;
}

function firstText(p: MimePart, subtype: 'plain' | 'html'): MimePart | null {
  if (p.type === 'multipart') {
    for (const c of p.children) {
      const t = firstText(c, subtype);
      if (t !== null) return t;
    }
    return null;
  }
  const attached = p.disposition?.type.toLowerCase() === 'attachment';
  return p.type === 'text' && p.subtype === subtype && !attached ? p : null;
}

function previewOf(raw: Buffer, s: MessageStructure): string {
  const part = firstText(s.body, 'plain') ?? firstText(s.body, 'html');
  if (part === null) return '';
  const body = raw.subarray(part.bodyStart, Math.min(part.bodyEnd, part.bodyStart + PREVIEW_SOURCE_BYTES));
  const charset = part.params.find(([n]) => n === 'charset')?.[1] ?? null;
  const text = decodeCharset(decodeTransfer(body, part.encoding) ?? body, charset);
  const plain = part.subtype === 'html' ? htmlToText(text) : text;
  return plain.replace(/\s+/g, ' ').trim().slice(0, PREVIEW_CHARS);
}

function hasAttachments(p: MimePart): boolean {
  if (p.type === 'multipart') return p.children.some(hasAttachments);
  if (p.disposition?.type.toLowerCase() === 'attachment') return true;
  return p.type !== 'text' && p.type !== 'message' && p.disposition?.type.toLowerCase() !== 'inline';
}

function references(raw: Buffer, s: MessageStructure): string[] {
  const header = raw.subarray(0, s.body.bodyStart);
  const value = scanHeader(header, 0, NO_BOUNDARIES, new Set(['references']), 10_000).fields.get(
    'references',
  );
  return (value?.match(/<[^<>\s]+>/g) ?? []).slice(0, MAX_REFERENCES);
}

export function summarise(raw: Buffer, s: MessageStructure): MessageSummary {
  const e = s.envelope;
  const date = e.date === null ? Number.NaN : Date.parse(e.date.replace(/\s*\([^)]*\)\s*$/, ''));
  return {
    subject: e.subject === null ? '' : decodeEncodedWords(e.subject).trim(),
    from: addresses(e.from),
    // (ENVELOPE defaults Sender and Reply-To to From; the summary keeps only what was written.)
    sender: e.sender === e.from ? [] : addresses(e.sender),
    replyTo: e.replyTo === e.from ? [] : addresses(e.replyTo),
    to: addresses(e.to),
    cc: addresses(e.cc),
    date: Number.isNaN(date) ? null : date,
    messageId: e.messageId?.trim() || null,
    inReplyTo: e.inReplyTo?.trim() || null,
    references: references(raw, s),
    preview: previewOf(raw, s),
    hasAttachments: hasAttachments(s.body),
  };
}
