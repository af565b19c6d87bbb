// Everything computed from a message's bytes once, when it is stored (SMTP
// delivery, IMAP APPEND): the summary clients list, the MIME structure IMAP
// serves ENVELOPE/BODYSTRUCTURE/sections from, and the search tokens the blind
// index is built from. Pure and key-free, so it can run on an analysis thread
// (threads never hold keys: tokens are hashed by the caller, see deliver.ts).

import { parseStructure } from '../mime/structure.ts';
import type { MessageStructure, MimePart } from '../mime/structure-types.ts';
import { type MessageSummary, summarise } from '../mime/summary.ts';
import { extractText, tokenize } from '../mime/text.ts';

export interface MessageContent {
  readonly summary: MessageSummary;
  readonly structure: MessageStructure;
  /** Unique normalised search tokens (mime/text.ts); never stored in the clear. */
  readonly tokens: readonly string[];
}

export async function analyseContent(raw: Buffer): Promise<MessageContent> {
  const structure = parseStructure(raw);
  const summary = summarise(raw, structure);
  const tokens = tokenize(extractText(raw, structure));
  return { summary, structure, tokens };
}

/**
 * The content of a message after `bytes` octets of header fields were put in front
 * of it (trace headers added at delivery): every offset moves, except where the
 * top-level header starts.
 */
export function prependedHeaders(content: MessageContent, bytes: number): MessageContent {
  if (bytes === 0) return content;
  const shift = (p: MimePart, top: boolean): MimePart => ({
    ...p,
    headerStart: top ? 0 : p.headerStart + bytes,
    bodyStart: p.bodyStart + bytes,
    bodyEnd: p.bodyEnd + bytes,
    children: p.children.map((c) => shift(c, false)),
    message: p.message === null ? null : { envelope: p.message.envelope, body: shift(p.message.body, false) },
  });
  return { ...content, structure: { ...content.structure, body: shift(content.structure.body, true) } };
}
