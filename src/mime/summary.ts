// The message summary computed once at delivery and sealed with the message: the
// decoded header fields mail clients list (RFC 5322 §3.6), threading keys
// (Message-ID, In-Reply-To, References) and a short text preview. Parsing uses
// mailparser; this module only shapes its output and applies Sealpost's limits.

import { type AddressObject, simpleParser } from 'mailparser';

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

function flatten(obj: AddressObject | AddressObject[] | undefined): SummaryAddress[] {
  if (obj === undefined) return [];
  const out: SummaryAddress[] = [];
  for (const group of Array.isArray(obj) ? obj : [obj]) {
    for (const a of group.value) {
      if (a.group) for (const g of a.group) out.push({ name: g.name ?? '', address: g.address ?? '' });
      else out.push({ name: a.name ?? '', address: a.address ?? '' });
    }
  }
  return out;
}

export async function summarise(raw: Buffer): Promise<MessageSummary> {
  // Only a short preview is needed: no HTML-to-text or text-to-HTML conversion, no
  // link rewriting (each costs more than the rest of the parse on an HTML message).
  const parsed = await simpleParser(raw, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  });
  const text = previewText(parsed.text, typeof parsed.html === 'string' ? parsed.html : '');
  const refs =
    parsed.references === undefined
      ? []
      : Array.isArray(parsed.references)
        ? parsed.references
        : [parsed.references];
  return {
    subject: parsed.subject ?? '',
    from: flatten(parsed.from),
    sender: flatten(parsed.headers.get('sender') as AddressObject | undefined),
    replyTo: flatten(parsed.replyTo),
    to: flatten(parsed.to),
    cc: flatten(parsed.cc),
    date: parsed.date instanceof Date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.getTime() : null,
    messageId: parsed.messageId ?? null,
    inReplyTo: parsed.inReplyTo ?? null,
    references: refs,
    preview: text,
    hasAttachments: parsed.attachments.length > 0,
  };
}

/** The first PREVIEW_CHARS of the text part, or of the HTML with tags and entities dropped. */
function previewText(text: string | undefined, html: string): string {
  const source = text?.trim()
    ? text
    : html
        .slice(0, 64 * 1024)
        .replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
        .replace(/<[^>]*>/g, ' ')
        .replace(/&[a-z#0-9]+;/gi, ' ');
  return source.replace(/\s+/g, ' ').trim().slice(0, PREVIEW_CHARS);
}
