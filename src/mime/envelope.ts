// ENVELOPE (RFC 9051 §7.5.2) from a message's header fields, and a lenient RFC 5322
// §3.4 address-list parser producing IMAP addresses [name, adl, mailbox, host].
// Decisions: values are raw (unfolded, trimmed, encoded words NOT decoded); an
// empty address list is NIL; Sender and Reply-To default to From; a group is a
// start (mailbox = group name, host NIL) and an end (all NIL); an address without
// '@' gets host "MISSING_DOMAIN" and a phrase without address gets mailbox
// "MISSING_MAILBOX" (Dovecot's convention: a NIL host would read as a group start);
// a quoted local part is kept with its quotes; a comment is the name when there is
// no display name. Invariants: never throws; at most MAX_ADDRESSES per field.

import { scanHeader } from './structure-headers.ts';
import type { Envelope, EnvelopeAddress } from './structure-types.ts';

export const MAX_ADDRESSES = 1000;

export const ENVELOPE_FIELDS: readonly string[] = [
  'date',
  'subject',
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'bcc',
  'in-reply-to',
  'message-id',
];

interface Token {
  readonly kind: 'atom' | 'quoted' | 'comment' | 'special';
  readonly text: string;
}

function tokenizeAddresses(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '"' || c === '(') {
      const close = c === '"' ? '"' : ')';
      let depth = 1;
      let text = '';
      for (i++; i < s.length; i++) {
        const d = s[i]!;
        if (d === '\\' && i + 1 < s.length) text += s[++i];
        else if (c === '(' && d === '(') {
          depth++;
          text += d;
        } else if (d === close && --depth === 0) break;
        else text += d;
      }
      i++;
      out.push({ kind: c === '"' ? 'quoted' : 'comment', text });
    } else if ('<>,:;@'.includes(c)) {
      out.push({ kind: 'special', text: c });
      i++;
    } else {
      let j = i;
      while (j < s.length && !' \t\r\n"(<>,:;@'.includes(s[j]!)) j++;
      out.push({ kind: 'atom', text: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

const MISSING_MAILBOX = 'MISSING_MAILBOX';
const MISSING_DOMAIN = 'MISSING_DOMAIN';

function addr(
  name: string | null,
  adl: string | null,
  mailbox: string | null,
  host: string | null,
): EnvelopeAddress {
  return { name, adl, mailbox, host };
}

function phrase(tokens: readonly Token[]): string | null {
  const words = tokens.filter((t) => t.kind === 'atom' || t.kind === 'quoted').map((t) => t.text);
  const s = words.join(' ').trim();
  return s === '' ? null : s;
}

/** "local@host" from tokens (quoted local parts keep their quotes). */
function addrSpec(tokens: readonly Token[]): { mailbox: string | null; host: string | null } {
  let at = -1;
  for (let i = tokens.length - 1; i >= 0; i--)
    if (tokens[i]!.kind === 'special' && tokens[i]!.text === '@') at = i;
  const text = (ts: readonly Token[]): string =>
    ts
      .filter((t) => t.kind !== 'comment')
      .map((t) => (t.kind === 'quoted' ? `"${t.text.replace(/(["\\])/g, '\\$1')}"` : t.text))
      .join('');
  if (at === -1) {
    const local = text(tokens);
    return { mailbox: local === '' ? null : local, host: null };
  }
  const local = text(tokens.slice(0, at));
  const host = text(tokens.slice(at + 1).filter((t) => t.text !== '@'));
  return { mailbox: local === '' ? null : local, host: host === '' ? null : host };
}

/** One mailbox (name-addr or addr-spec), or null for an empty chunk. */
function mailbox(tokens: readonly Token[]): EnvelopeAddress | null {
  if (tokens.length === 0) return null;
  const lt = tokens.findIndex((t) => t.kind === 'special' && t.text === '<');
  const comment = tokens.findLast((t) => t.kind === 'comment')?.text.trim() || null;
  if (lt !== -1) {
    let gt = tokens.findIndex((t, i) => i > lt && t.kind === 'special' && t.text === '>');
    if (gt === -1) gt = tokens.length;
    let inner = tokens.slice(lt + 1, gt);
    let adl: string | null = null;
    const colon = inner.findIndex((t) => t.kind === 'special' && t.text === ':');
    if (colon !== -1) {
      adl = inner
        .slice(0, colon)
        .map((t) => t.text)
        .join('');
      inner = inner.slice(colon + 1);
    }
    const spec = addrSpec(inner);
    const name = phrase(tokens.slice(0, lt)) ?? comment;
    if (spec.mailbox === null && spec.host === null && name === null) return null;
    return addr(name, adl || null, spec.mailbox ?? MISSING_MAILBOX, spec.host ?? MISSING_DOMAIN);
  }
  const hasAt = tokens.some((t) => t.kind === 'special' && t.text === '@');
  const words = tokens.filter((t) => t.kind !== 'comment');
  if (words.length === 0) return null;
  if (!hasAt && words.length > 1) {
    // A bare phrase ("Undisclosed recipients") has no address.
    return addr(phrase(words), null, MISSING_MAILBOX, MISSING_DOMAIN);
  }
  const spec = addrSpec(words);
  return addr(comment, null, spec.mailbox ?? MISSING_MAILBOX, spec.host ?? MISSING_DOMAIN);
}

/** Parse an address-list header value; empty result → null (NIL). */
export function parseAddressList(value: string | null | undefined): EnvelopeAddress[] | null {
  if (value == null) return null;
  const tokens = tokenizeAddresses(value);
  const out: EnvelopeAddress[] = [];
  let chunk: Token[] = [];
  let inGroup = false;
  let angle = false;
  const emit = (): void => {
    const a = mailbox(chunk);
    if (a !== null && out.length < MAX_ADDRESSES) out.push(a);
    chunk = [];
  };
  for (const t of tokens) {
    if (t.kind === 'special' && t.text === '<') angle = true;
    else if (t.kind === 'special' && t.text === '>') angle = false;
    if (t.kind === 'special' && !angle) {
      if (t.text === ',') {
        emit();
        continue;
      }
      if (t.text === ':' && !inGroup) {
        const name = phrase(chunk) ?? '';
        if (out.length < MAX_ADDRESSES) out.push(addr(null, null, name, null));
        chunk = [];
        inGroup = true;
        continue;
      }
      if (t.text === ';' && inGroup) {
        emit();
        if (out.length < MAX_ADDRESSES) out.push(addr(null, null, null, null));
        inGroup = false;
        continue;
      }
      if (t.text === ';') continue;
    }
    chunk.push(t);
  }
  emit();
  if (inGroup && out.length < MAX_ADDRESSES) out.push(addr(null, null, null, null)); // unterminated group
  return out.length === 0 ? null : out;
}

/** Build the ENVELOPE from header fields (lower-case name → raw unfolded value). */
export function envelopeFromFields(fields: ReadonlyMap<string, string>): Envelope {
  const text = (name: string): string | null => fields.get(name) ?? null;
  const from = parseAddressList(fields.get('from'));
  return {
    date: text('date'),
    subject: text('subject'),
    from,
    sender: parseAddressList(fields.get('sender')) ?? from,
    replyTo: parseAddressList(fields.get('reply-to')) ?? from,
    to: parseAddressList(fields.get('to')),
    cc: parseAddressList(fields.get('cc')),
    bcc: parseAddressList(fields.get('bcc')),
    inReplyTo: text('in-reply-to'),
    messageId: text('message-id'),
  };
}

const WANTED = new Set(ENVELOPE_FIELDS);
const NO_BOUNDARIES = { match: () => null, next: () => null };

/** RFC 9051 §7.5.2 ENVELOPE of a header block (the bytes up to and including the blank line). */
export function parseEnvelope(headerBlock: Buffer): Envelope {
  return envelopeFromFields(scanHeader(headerBlock, 0, NO_BOUNDARIES, WANTED, 100_000).fields);
}
