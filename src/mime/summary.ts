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
  const parsed = await simpleParser(raw, {
    skipHtmlToText: false,
    skipTextLinks: true,
    skipImageLinks: true,
  });
  const text = (parsed.text ?? '').replace(/\s+/g, ' ').trim();
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
    preview: text.slice(0, PREVIEW_CHARS),
    hasAttachments: parsed.attachments.length > 0,
  };
}
