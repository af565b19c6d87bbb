// The parts of one message that SEARCH's content keys look at (RFC 9051 §6.4.4),
// computed lazily and at most once per message: decoded addresses and subject
// from the sealed summary, any header field from the raw header block (unfolded,
// RFC 2047 encoded words decoded), the sent date as written, and the text and
// tokens of the body (mime/text.ts, the same functions the blind index is built
// with, so a confirmed match agrees with the index at token granularity).
//
// Invariants:
// - Nothing here decrypts more than the key asked for needs: addresses, subject
//   and dates come from the summary/structure (meta); only HEADER, BODY and TEXT
//   read the raw message.
// - Comparisons are case-insensitive on NFC, lower-cased text (fold()).

import { scanHeaderBlock } from '../../mime/header-block.ts';
import type { Envelope, EnvelopeAddress, MessageStructure } from '../../mime/structure-types.ts';
import type { SummaryAddress } from '../../mime/summary.ts';
import { extractText, tokenize } from '../../mime/text.ts';
import { decodeCharset, decodeEncodedWords } from '../../mime/transfer-decoding.ts';
import type { StoredMeta } from '../message-data.ts';

/** What the evaluator needs of a stored message (LoadedMessage has it). */
export interface MessageSource {
  meta(): Promise<StoredMeta>;
  raw(): Promise<Buffer>;
  structure(): Promise<MessageStructure>;
}

export const DAY_MS = 86_400_000;

/** Case-insensitive comparison form. */
export function fold(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

/** A raw header value (latin1 string of the wire bytes): charset-decoded, encoded words decoded, white space collapsed. */
export function decodeHeaderValue(latin1: string): string {
  const text = decodeCharset(Buffer.from(latin1, 'latin1'), null);
  return decodeEncodedWords(text)
    .replace(/[ \t\r\n]+/g, ' ')
    .trim();
}

function summaryAddresses(list: readonly SummaryAddress[]): string {
  return list.map((a) => (a.name === '' ? `<${a.address}>` : `${a.name} <${a.address}>`)).join(', ');
}

function envelopeAddresses(list: readonly EnvelopeAddress[] | null): string {
  if (list === null) return '';
  const out: string[] = [];
  for (const a of list) {
    if (a.host === null) continue; // group start/end markers
    const name = a.name === null ? '' : decodeHeaderValue(a.name);
    const address = `${a.mailbox ?? ''}@${a.host}`;
    out.push(name === '' ? `<${address}>` : `${name} <${address}>`);
  }
  return out.join(', ');
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The day (UTC midnight, ms) of a Date: header "disregarding time and timezone"
 * (RFC 9051 §6.4.4 SENT*): the calendar date as written. Falls back to the UTC day
 * of the parsed date; null without a usable date.
 */
export function sentDay(envelopeDate: string | null, parsed: number | null): number | null {
  const m =
    envelopeDate === null ? null : /(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{2,4})\b/.exec(envelopeDate);
  if (m !== null) {
    const month = MONTHS.indexOf(m[2]!.toLowerCase());
    let year = Number(m[3]);
    if (m[3]!.length === 2)
      year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3 obs-year
    else if (m[3]!.length === 3) year += 1900;
    const day = Number(m[1]);
    if (month >= 0 && day >= 1 && day <= 31) return Date.UTC(year, month, day);
  }
  return parsed === null ? null : Math.floor(parsed / DAY_MS) * DAY_MS;
}

const NO_ENVELOPE: Envelope = {
  date: null,
  subject: null,
  from: null,
  sender: null,
  replyTo: null,
  to: null,
  cc: null,
  bcc: null,
  inReplyTo: null,
  messageId: null,
};

/** Lazy, memoised content of one message for the content search keys. */
export class MessageText {
  readonly #source: MessageSource;
  #headers: Promise<ReadonlyMap<string, readonly string[]>> | undefined;
  readonly #texts = new Map<'body' | 'text', Promise<string>>();
  readonly #tokens = new Map<'body' | 'text', Promise<ReadonlySet<string>>>();

  constructor(source: MessageSource) {
    this.#source = source;
  }

  /** Folded "Name <address>, …" of FROM/TO/CC (summary) or BCC (envelope). */
  async addresses(field: 'from' | 'to' | 'cc' | 'bcc'): Promise<string> {
    if (field === 'bcc') return fold(envelopeAddresses((await this.#source.structure()).envelope.bcc));
    return fold(summaryAddresses((await this.#source.meta())[field]));
  }

  async subject(): Promise<string> {
    return fold((await this.#source.meta()).subject);
  }

  async sentDay(): Promise<number | null> {
    const [meta, structure] = await Promise.all([this.#source.meta(), this.#source.structure()]);
    return sentDay(structure.envelope.date, meta.date);
  }

  /** Folded, decoded values of each top-level header field, by lower-case name. */
  headers(): Promise<ReadonlyMap<string, readonly string[]>> {
    this.#headers ??= (async () => {
      const [raw, structure] = await Promise.all([this.#source.raw(), this.#source.structure()]);
      const block = scanHeaderBlock(raw.subarray(0, structure.body.bodyStart));
      const out = new Map<string, string[]>();
      for (const f of block.fields) {
        const list = out.get(f.name) ?? [];
        list.push(fold(decodeHeaderValue(f.value)));
        out.set(f.name, list);
      }
      return out;
    })();
    return this.#headers;
  }

  /** BODY: the text parts only; TEXT: the indexed text (Subject, From, To, Cc and the text parts). */
  text(scope: 'body' | 'text'): Promise<string> {
    let t = this.#texts.get(scope);
    if (t === undefined) {
      t = (async () => {
        const [raw, structure] = await Promise.all([this.#source.raw(), this.#source.structure()]);
        return extractText(raw, scope === 'text' ? structure : { ...structure, envelope: NO_ENVELOPE });
      })();
      this.#texts.set(scope, t);
    }
    return t;
  }

  tokens(scope: 'body' | 'text'): Promise<ReadonlySet<string>> {
    let t = this.#tokens.get(scope);
    if (t === undefined) {
      t = this.text(scope).then((s) => new Set(tokenize(s)));
      this.#tokens.set(scope, t);
    }
    return t;
  }
}
