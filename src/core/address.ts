// Mail addresses: the one parser and normaliser every layer uses, so the address a
// policy checks is byte for byte the address mail is routed to (no parser
// differentials between SMTP, aliases and the store).
//
// RFC 5321 §4.1.2 (Mailbox, Local-part, Dot-string, Quoted-string), §4.5.3.1 (sizes),
// RFC 6531 §3.3 (UTF-8 local parts and U-label domains with SMTPUTF8).
// Rules chosen on purpose:
// - Local parts compare case-insensitively: stored and routed in lower case.
// - A quoted local part whose content is a valid dot-string is the same mailbox
//   unquoted ("john"@x == john@x, RFC 5321 §4.1.2); any other quoted form is refused,
//   because no account here can have such a name and accepting it invites ambiguity.
// - Domains are stored in lower-case A-label (punycode) form; IP literals are refused
//   for local delivery (we host names, not addresses).

import { domainToASCII } from 'node:url';

export interface Address {
  readonly local: string;
  readonly domain: string; // A-label, lower case
  readonly address: string; // local@domain
}

export type AddressResult = { ok: true; value: Address } | { ok: false; reason: string };

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const LIMITS = { localPart: 64, domain: 255, path: 256 } as const;

function isDotString(s: string): boolean {
  if (s.length === 0) return false;
  return s.split('.').every((atom) => atom.length > 0 && ATEXT.test(atom));
}

/** Normalise a domain to lower-case A-label form, or null if it is not a valid host name. */
export function normaliseDomain(input: string): string | null {
  if (input.length === 0 || input.length > LIMITS.domain) return null;
  if (input.startsWith('[')) return null; // address literal
  if (/[\u0000-\u0020\u007f]/.test(input)) return null;
  const trimmed = input.endsWith('.') ? input.slice(0, -1) : input;
  const ascii = domainToASCII(trimmed.normalize('NFC')).toLowerCase();
  if (ascii === '' || ascii.length > LIMITS.domain) return null;
  const labels = ascii.split('.');
  if (labels.length < 1 || !labels.every((l) => LABEL.test(l))) return null;
  return ascii;
}

/**
 * Parse a bare address (no angle brackets). `utf8` allows UTF-8 in the local part
 * (SMTPUTF8 was negotiated); otherwise only ASCII is accepted.
 */
export function parseAddress(input: string, options: { utf8?: boolean } = {}): AddressResult {
  if (input.length === 0) return { ok: false, reason: 'empty address' };
  if (input.length > LIMITS.path) return { ok: false, reason: 'address too long' };
  if (/[\u0000-\u001f\u007f]/.test(input)) return { ok: false, reason: 'control character in address' };
  if (!options.utf8 && /[^\u0000-\u007f]/.test(input)) {
    return { ok: false, reason: 'non-ASCII address without SMTPUTF8' };
  }
  const at = input.lastIndexOf('@');
  if (at <= 0 || at === input.length - 1) return { ok: false, reason: 'address needs local@domain' };
  let local = input.slice(0, at);
  const domainPart = input.slice(at + 1);
  if (local.startsWith('"')) {
    if (!local.endsWith('"') || local.length < 2) return { ok: false, reason: 'unbalanced quotes' };
    const inner = local.slice(1, -1);
    if (/["\\]/.test(inner) || !isDotString(inner)) {
      return { ok: false, reason: 'quoted local part with special characters is not accepted' };
    }
    local = inner;
  } else if (local.includes('@') || local.includes('"')) {
    return { ok: false, reason: 'ambiguous address: more than one @ or stray quote' };
  }
  if (!isDotString(local)) return { ok: false, reason: 'invalid local part' };
  if (Buffer.byteLength(local) > LIMITS.localPart) return { ok: false, reason: 'local part too long' };
  const domain = normaliseDomain(domainPart);
  if (domain === null) return { ok: false, reason: 'invalid domain' };
  const lower = local.normalize('NFC').toLowerCase();
  const address = `${lower}@${domain}`;
  // §4.5.3.1 limits are octets of what is stored and routed: checked again after
  // normalisation (lower-casing, NFC and punycode can make the address longer).
  if (Buffer.byteLength(lower) > LIMITS.localPart) return { ok: false, reason: 'local part too long' };
  if (Buffer.byteLength(address) > LIMITS.path) return { ok: false, reason: 'address too long' };
  return { ok: true, value: { local: lower, domain, address } };
}

/** Parse or throw with the reason; for CLI and config input. */
export function requireAddress(input: string): Address {
  const r = parseAddress(input.trim(), { utf8: true });
  if (!r.ok) throw new TypeError(`${JSON.stringify(input)} is not a valid address: ${r.reason}`);
  return r.value;
}

/** `user+tag@domain` -> `user@domain`; null when there is no sub-address. */
export function withoutSubaddress(a: Address, separator = '+'): Address | null {
  const i = a.local.indexOf(separator);
  if (i <= 0) return null;
  const local = a.local.slice(0, i);
  return { local, domain: a.domain, address: `${local}@${a.domain}` };
}
