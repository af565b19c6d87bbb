// DKIM signing (RFC 6376 §5) with relaxed/relaxed canonicalisation: one DKIM-Signature
// per key, ed25519-sha256 (RFC 8463 §3) and rsa-sha256, prepended to the message.
//
// Oversigning (RFC 6376 §5.4.2, §8.15): a header name listed in h= once more than the
// message has it makes a verifier hash "nothing" for the extra entry, so a copy added
// later (a second From or Subject above ours) changes what it hashes and the signature
// fails. The header fields that carry meaning to the reader are always oversigned, even
// when absent; list and content fields are signed and oversigned when present; Resent-*
// fields are signed when present (a forwarder adds a new block legitimately).
//
// Invariants:
// - The message must have exactly one From field (RFC 5322 §3.6); anything else is
//   refused, never signed.
// - The returned message is the CRLF-normalised input (toCrlf) with the signatures in
//   front; deliver those very bytes.
// - b= is the last tag, so the signed form of the header (b= emptied, RFC 6376 §3.7) is
//   exactly the emitted header up to "b=".

import { createHash, sign } from 'node:crypto';
import { SealpostError } from '../../core/errors.ts';
import { type HeaderField, relaxedBodyHash, relaxedHeader, splitMessage, toCrlf } from './canonical.ts';
import type { DkimSigningKey } from './key-material.ts';

/** Signed and oversigned whether or not the message has them. */
export const OVERSIGN_ALWAYS = [
  'From',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'Reply-To',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
] as const;

/** Signed and oversigned when present (absent ones may be added by a mailing list). */
export const OVERSIGN_PRESENT = [
  'Sender',
  'List-Id',
  'List-Help',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'List-Subscribe',
  'List-Post',
  'List-Owner',
  'List-Archive',
  'Content-ID',
  'Content-Description',
  'Content-Disposition',
  'Autocrypt',
  'OpenPGP',
] as const;

/** Signed when present, not oversigned. */
export const SIGN_PRESENT = [
  'Resent-Date',
  'Resent-From',
  'Resent-Sender',
  'Resent-To',
  'Resent-Cc',
  'Resent-Message-ID',
] as const;

const LINE = 76;

export interface SignOptions {
  /** Signing time, ms since the epoch (t=). */
  readonly now?: number;
}

/** More copies of one signed field than this is not mail but an attack on the signer. */
export const MAX_SIGNED_FIELD_COPIES = 100;

/** Indexes of each field name's instances, bottom-most first. */
function instances(headers: readonly HeaderField[]): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  for (let i = headers.length - 1; i >= 0; i--) {
    const name = headers[i]?.name ?? '';
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [i]);
    else list.push(i);
  }
  return byName;
}

/**
 * The h= list for these header fields: each name as often as it occurs, plus one where
 * oversigned. 'input.invalid' for a signed name occurring over MAX_SIGNED_FIELD_COPIES times.
 */
export function signedHeaderNames(headers: readonly HeaderField[]): string[] {
  const byName = instances(headers);
  const count = (name: string) => {
    const n = byName.get(name.toLowerCase())?.length ?? 0;
    if (n > MAX_SIGNED_FIELD_COPIES) {
      throw new SealpostError('input.invalid', `a message to sign has ${n} ${name} header fields`);
    }
    return n;
  };
  const names: string[] = [];
  for (const name of OVERSIGN_ALWAYS) names.push(...Array<string>(count(name) + 1).fill(name));
  for (const name of OVERSIGN_PRESENT) {
    const n = count(name);
    if (n > 0) names.push(...Array<string>(n + 1).fill(name));
  }
  for (const name of SIGN_PRESENT) names.push(...Array<string>(count(name)).fill(name));
  return names;
}

/**
 * The relaxed header data for h= (RFC 6376 §5.4.2): each name takes the bottom-most
 * instance not yet used; a name with none left contributes nothing.
 */
function headerData(headers: readonly HeaderField[], names: readonly string[]): string {
  const unused = instances(headers);
  let out = '';
  for (const name of names) {
    const i = unused.get(name.toLowerCase())?.shift();
    const h = i === undefined ? undefined : headers[i];
    if (h !== undefined) out += `${relaxedHeader(h.raw)}\r\n`;
  }
  return out;
}

/** Join tags with "; ", folding before a tag (or inside h=, after a colon) past the line length. */
function foldTags(tags: readonly string[]): string {
  let out = 'DKIM-Signature:';
  let col = out.length;
  tags.forEach((tag, i) => {
    const piece = ` ${tag}${i < tags.length - 1 ? ';' : ''}`;
    if (col + piece.length > LINE && col > 1) {
      out += '\r\n';
      col = 0;
    }
    if (piece.length <= LINE || !tag.startsWith('h=')) {
      out += piece;
      col += piece.length;
      return;
    }
    // A long h= list folds after its colons (FWS is allowed there, RFC 6376 §3.5).
    const parts = piece.split(':');
    parts.forEach((part, j) => {
      const text = j < parts.length - 1 ? `${part}:` : part;
      if (col + text.length > LINE && col > 1) {
        out += '\r\n ';
        col = 1;
      }
      out += text;
      col += text.length;
    });
  });
  return out;
}

/** Base64 folded into lines (whitespace inside b= is ignored, RFC 6376 §3.5). */
function foldBase64(value: string, firstRoom: number): string {
  let out = value.slice(0, Math.max(firstRoom, 8));
  for (let i = out.length; i < value.length; i += LINE - 1) out += `\r\n ${value.slice(i, i + LINE - 1)}`;
  return out;
}

function oneSignature(
  key: DkimSigningKey,
  domain: string,
  headers: readonly HeaderField[],
  bodyHash: string,
  t: number,
): string {
  const names = signedHeaderNames(headers);
  const algorithm = key.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256';
  const tags = [
    'v=1',
    `a=${algorithm}`,
    'c=relaxed/relaxed',
    `d=${domain}`,
    `s=${key.selector}`,
    `t=${t}`,
    `h=${names.join(':')}`,
    `bh=${bodyHash}`,
    'b=',
  ];
  const unsigned = foldTags(tags);
  const data = Buffer.from(headerData(headers, names) + relaxedHeader(unsigned), 'latin1');
  // RFC 8463 §3: Ed25519 (PureEdDSA) signs the SHA-256 hash of the data; RSA signs the data with SHA-256.
  const b =
    key.algorithm === 'ed25519'
      ? sign(null, createHash('sha256').update(data).digest(), key.privateKey)
      : sign('sha256', data, key.privateKey);
  const lastLine = unsigned.slice(unsigned.lastIndexOf('\n') + 1);
  return `${unsigned}${foldBase64(b.toString('base64'), LINE - lastLine.length)}\r\n`;
}

/**
 * Sign `raw` for `domain` (d=) with each of `keys` whose domain it is (normally the
 * domain's active Ed25519 and RSA keys). Returns the CRLF-normalised message with one
 * DKIM-Signature per key prepended; with no such key, the normalised message unsigned.
 */
export function signMessage(
  raw: Buffer,
  domain: string,
  keys: readonly DkimSigningKey[],
  options: SignOptions = {},
): Buffer {
  const message = toCrlf(raw);
  const own = keys.filter((k) => k.domain === domain);
  if (own.length === 0) return message;
  const { headers, body } = splitMessage(message);
  const froms = headers.filter((h) => h.name === 'from').length;
  if (froms !== 1) {
    throw new SealpostError(
      'input.invalid',
      `a message to sign needs exactly one From header field, not ${froms}`,
    );
  }
  const bodyHash = relaxedBodyHash(body);
  const t = Math.floor((options.now ?? Date.now()) / 1000);
  const signatures = own.map((k) => oneSignature(k, domain, headers, bodyHash, t));
  return Buffer.concat([Buffer.from(signatures.join(''), 'latin1'), message]);
}
