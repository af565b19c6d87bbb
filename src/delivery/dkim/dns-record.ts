// DKIM DNS: selector names, the key records a domain publishes (RFC 6376 §3.6.1, RFC
// 8463 §4) written as zone-file lines, and the check that a published record matches.
//
// Invariants:
// - An Ed25519 record's p= is the raw 32-byte public key (RFC 8463 §4.2), an RSA
//   record's p= the SubjectPublicKeyInfo DER (RFC 6376 §3.6.1); both base64.
// - A TXT character-string holds at most 255 bytes (RFC 1035 §3.3.14): longer values
//   are split into several strings of one record, which receivers concatenate
//   (RFC 6376 §3.6.2.2). Record values are ASCII, so bytes and characters agree.
// - A generation label is sp{YYYYMM} (UTC), then sp{YYYYMM}-2, -3, … when taken; its
//   selectors add 'e' (Ed25519) or 'r' (RSA).

import { createPublicKey } from 'node:crypto';
import type { DkimAlgorithm } from '../../store/types.ts';

const TXT_STRING_MAX = 255;

/** The next free generation label of a domain, from the generations it already has. */
export function nextGeneration(now: number, taken: Iterable<string>): string {
  const d = new Date(now);
  const base = `sp${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const label = `${base}-${n}`;
    if (!used.has(label)) return label;
  }
}

export function selectorOf(generation: string, algorithm: DkimAlgorithm): string {
  return `${generation}${algorithm === 'ed25519' ? 'e' : 'r'}`;
}

/** The name the key record lives at (RFC 6376 §3.6.2.1). */
export function recordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

/** The p= value: raw Ed25519 key, or RSA SubjectPublicKeyInfo; from the stored SPKI (base64). */
export function publicKeyTag(algorithm: DkimAlgorithm, spkiBase64: string): string {
  if (algorithm === 'rsa') return spkiBase64;
  const key = createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new TypeError('not an Ed25519 public key');
  return Buffer.from(x, 'base64url').toString('base64');
}

/** The TXT record value, e.g. `v=DKIM1; k=ed25519; p=...`. */
export function txtValue(algorithm: DkimAlgorithm, spkiBase64: string): string {
  return `v=DKIM1; k=${algorithm}; p=${publicKeyTag(algorithm, spkiBase64)}`;
}

/** Split a record value into character-strings of at most 255 bytes. */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += TXT_STRING_MAX) out.push(value.slice(i, i + TXT_STRING_MAX));
  return out;
}

/** One zone-file line: `sel._domainkey.example.org. IN TXT ( "..." "..." )`. */
export function zoneLine(selector: string, domain: string, value: string): string {
  const strings = txtStrings(value).map((s) => `"${s}"`);
  return `${recordName(selector, domain)}. IN TXT ( ${strings.join(' ')} )`;
}

/** Tags of a DKIM key record (RFC 6376 §3.2 tag-list); whitespace around and inside p= dropped. */
export function parseKeyRecord(value: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (name !== '' && !tags.has(name)) tags.set(name, name === 'p' ? v.replace(/\s+/g, '') : v);
  }
  return tags;
}

/**
 * Why the TXT answer for a key's name does not publish the key, or null if it does:
 * exactly one DKIM key record, whose k= (default rsa) and p= are ours.
 */
export function publishedMismatch(
  answer: readonly (readonly string[])[],
  algorithm: DkimAlgorithm,
  spkiBase64: string,
): string | null {
  const records = answer
    .map((strings) => strings.join(''))
    .filter((v) => /^\s*v\s*=\s*DKIM1\s*(;|$)/.test(v));
  if (records.length === 0) return 'no DKIM key record (v=DKIM1) there';
  if (records.length > 1) return `${records.length} DKIM key records there; publish exactly one`;
  const tags = parseKeyRecord(records[0] ?? '');
  const k = (tags.get('k') ?? 'rsa').toLowerCase();
  if (k !== algorithm) return `the record has k=${k}, expected k=${algorithm}`;
  if (tags.get('p') !== publicKeyTag(algorithm, spkiBase64))
    return 'the record publishes another public key (p=)';
  return null;
}
