// Grammar for the outbound SMTP client, no I/O: the EHLO capability list, and the
// MAIL/RCPT command lines of one transaction with the downgrade rules applied.
//
// - EHLO keywords (RFC 5321 §4.1.1.1): SIZE (RFC 1870), PIPELINING (RFC 2920),
//   8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), STARTTLS (RFC 3207),
//   ENHANCEDSTATUSCODES (RFC 2034), DSN (RFC 3461). CHUNKING is not used.
// - Downgrade rules, decided before anything is sent:
//   * the message needs SMTPUTF8 (the caller says so, or the sender's local part is
//     not ASCII) and the server lacks it: permanent failure 5.6.7 (RFC 6531 §3.2); a
//     recipient with a non-ASCII local part is refused alone (5.6.7); a non-ASCII
//     domain goes as its A-label;
//   * 8-bit content and no 8BITMIME: permanent failure 5.6.3 (RFC 6152 §3 forbids
//     sending 8-bit data to a server that did not offer it; no conversion is tried);
//   * a message larger than the server's SIZE: permanent failure 5.3.4 (RFC 1870 §6).
// - An envelope address that could break the command line (CR, LF, NUL, "<", ">",
//   space outside a quoted local part) is refused locally — it is never written.

import { domainToASCII } from 'node:url';
import type { SmtpReply } from './smtp-client-reply.ts';

export interface Capabilities {
  /** RFC 1870 limit in octets; 0 = SIZE offered without a limit; null = not offered. */
  readonly size: number | null;
  readonly pipelining: boolean;
  readonly eightBitMime: boolean;
  readonly smtpUtf8: boolean;
  readonly startTls: boolean;
  readonly enhancedStatusCodes: boolean;
  readonly dsn: boolean;
}

/** What HELO (RFC 5321 §4.1.1.1 fallback) leaves us: no extensions at all. */
export const NO_CAPABILITIES: Capabilities = Object.freeze({
  size: null,
  pipelining: false,
  eightBitMime: false,
  smtpUtf8: false,
  startTls: false,
  enhancedStatusCodes: false,
  dsn: false,
});

/** Capabilities from a 250 EHLO reply; the first line is the server's name, not a keyword. */
export function parseEhlo(reply: SmtpReply): Capabilities {
  const caps = { ...NO_CAPABILITIES } as { -readonly [K in keyof Capabilities]: Capabilities[K] };
  for (const line of reply.lines.slice(1)) {
    const [keyword = '', ...params] = line.trim().split(/\s+/);
    switch (keyword.toUpperCase()) {
      case 'SIZE': {
        const n = params[0] === undefined ? 0 : Number(params[0]);
        caps.size = Number.isSafeInteger(n) && n >= 0 ? n : 0;
        break;
      }
      case 'PIPELINING':
        caps.pipelining = true;
        break;
      case '8BITMIME':
        caps.eightBitMime = true;
        break;
      case 'SMTPUTF8':
        caps.smtpUtf8 = true;
        break;
      case 'STARTTLS':
        caps.startTls = true;
        break;
      case 'ENHANCEDSTATUSCODES':
        caps.enhancedStatusCodes = true;
        break;
      case 'DSN':
        caps.dsn = true;
        break;
    }
  }
  return Object.freeze(caps);
}

export type DsnNotify = 'NEVER' | readonly ('SUCCESS' | 'FAILURE' | 'DELAY')[];

export interface Recipient {
  readonly address: string;
  /** RFC 3461 §4.1 NOTIFY; sent only when the server offers DSN. */
  readonly notify?: DsnNotify;
  /** RFC 3461 §4.2 ORCPT as "rfc822;addr"; sent only when the server offers DSN. */
  readonly orcpt?: string;
}

export interface Envelope {
  /** Reverse-path; '' for the null sender of bounces (RFC 5321 §4.5.5). */
  readonly mailFrom: string;
  readonly rcptTo: readonly (string | Recipient)[];
  readonly requireUtf8: boolean;
  readonly eightBit: boolean;
  /** RFC 3461 §4.4 ENVID and §4.3 RET; sent only when the server offers DSN. */
  readonly envid?: string;
  readonly ret?: 'FULL' | 'HDRS';
}

/** A failure decided here, in the shape of a reply (never sent by the server). */
export interface LocalRefusal {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
}

/** Either a local refusal of the whole message, or the MAIL line and per recipient a RCPT line or a refusal. */
export type Plan =
  | { readonly ok: true; readonly mail: string; readonly rcpts: readonly (string | LocalRefusal)[] }
  | { readonly ok: false; readonly refusal: LocalRefusal };

// Printable ASCII and UTF-8, no space/controls/angle brackets (quoted local parts may hold spaces).
const UNSAFE = /[\u0000-\u001f\u007f<>]/;
const NON_ASCII = /[^\u0000-\u007f]/;

function addressProblem(address: string): string | null {
  if (address.length > 320) return 'address too long';
  if (UNSAFE.test(address)) return 'address holds a control character or an angle bracket';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'address is not local@domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (/\s/.test(domain)) return 'domain holds a space';
  if (/\s/.test(local) && !(local.startsWith('"') && local.endsWith('"')))
    return 'unquoted space in local part';
  return null;
}

/** RFC 3461 §4 xtext: "+" and "=" and anything outside 33..126 as "+HH". */
export function xtext(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out +=
      byte < 33 || byte > 126 || byte === 0x2b || byte === 0x3d
        ? `+${byte.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(byte);
  }
  return out;
}

export interface PlanInput {
  readonly envelope: Envelope;
  /** RFC 1870 size of the content as it will be sent. */
  readonly size: number;
  /** The content holds 8-bit octets (the caller's flag or-ed with a scan). */
  readonly eightBit: boolean;
  readonly caps: Capabilities;
}

/**
 * The address as written on the wire. Without SMTPUTF8 a non-ASCII domain goes as
 * its A-label (IDNA, RFC 5890; always equivalent) and a non-ASCII local part cannot go
 * at all (RFC 6531 §3.2): null then.
 */
export function wireAddress(address: string, utf8: boolean): string | null {
  if (utf8 || !NON_ASCII.test(address)) return address;
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at <= 0 || NON_ASCII.test(local)) return null;
  const domain = domainToASCII(address.slice(at + 1));
  return domain === '' ? null : `${local}@${domain}`;
}

const UTF8_REFUSAL: LocalRefusal = {
  code: 553,
  enhanced: '5.6.7',
  text: 'the message needs SMTPUTF8 and the next hop does not offer it (RFC 6531 §3.2)',
};

/** Decide whether and how to send: the MAIL line and one RCPT line (or a local refusal) per recipient. */
export function planTransaction({ envelope, size, eightBit, caps }: PlanInput): Plan {
  const rcpts = envelope.rcptTo.map((r) => (typeof r === 'string' ? { address: r } : r));
  const utf8 =
    caps.smtpUtf8 &&
    (envelope.requireUtf8 ||
      [envelope.mailFrom, ...rcpts.map((r) => r.address)].some((a) => NON_ASCII.test(a)));
  const mailFrom = wireAddress(envelope.mailFrom, utf8);
  if ((envelope.requireUtf8 && !caps.smtpUtf8) || mailFrom === null)
    return { ok: false, refusal: UTF8_REFUSAL };
  if (eightBit && !caps.eightBitMime) {
    return refuse(
      554,
      '5.6.3',
      'the message has 8-bit content and the next hop does not offer 8BITMIME (RFC 6152 §3)',
    );
  }
  if (caps.size !== null && caps.size > 0 && size > caps.size) {
    return refuse(
      552,
      '5.3.4',
      `the message (${size} octets) exceeds the next hop's SIZE limit of ${caps.size} octets`,
    );
  }
  if (mailFrom !== '') {
    const problem = addressProblem(mailFrom);
    if (problem !== null) return refuse(553, '5.1.7', `bad sender address: ${problem}`);
  }
  const params: string[] = [];
  if (caps.size !== null) params.push(`SIZE=${size}`);
  if (eightBit && caps.eightBitMime) params.push('BODY=8BITMIME');
  if (utf8) params.push('SMTPUTF8');
  if (caps.dsn && envelope.ret !== undefined) params.push(`RET=${envelope.ret}`);
  if (caps.dsn && envelope.envid !== undefined) params.push(`ENVID=${xtext(envelope.envid)}`);
  const mail = [`MAIL FROM:<${mailFrom}>`, ...params].join(' ');
  const lines = rcpts.map((r): string | LocalRefusal => {
    const address = wireAddress(r.address, utf8);
    if (address === null) return UTF8_REFUSAL;
    const problem = addressProblem(address);
    if (problem !== null) return { code: 553, enhanced: '5.1.3', text: `bad recipient address: ${problem}` };
    const p: string[] = [];
    if (caps.dsn && r.notify !== undefined)
      p.push(`NOTIFY=${r.notify === 'NEVER' ? 'NEVER' : r.notify.join(',')}`);
    if (caps.dsn && r.orcpt !== undefined) p.push(`ORCPT=${xtext(r.orcpt)}`);
    return [`RCPT TO:<${address}>`, ...p].join(' ');
  });
  return { ok: true, mail, rcpts: lines };
}

function refuse(code: number, enhanced: string, text: string): Plan {
  return { ok: false, refusal: { code, enhanced, text } };
}
