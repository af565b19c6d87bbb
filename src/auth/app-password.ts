// App passwords for mail clients (IMAP, POP3, SMTP submission, CalDAV, CardDAV): random,
// shown once, named and scoped by the caller's record, checked with a keyed hash.
//
// Format: an 8-character public id then a 24-character secret, both lower-case RFC 4648
// base32 (40 + 120 bits), shown as `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`, so a mail
// client stores one string. The id finds the record; only the secret is secret.
//
// Invariants:
// - The secret is never stored: only HMAC-SHA256(key, domain ‖ id ‖ secret), so a
//   stolen table neither reveals secrets nor lets a hash be moved to another id. The
//   secrets carry 120 random bits, so a fast keyed hash is enough (no argon2id): a
//   check costs microseconds (see app-password.test.ts).
// - Comparisons are constant time; verifyAppSecret never throws on bad input.
// - The key comes from master key version 1 (appPasswordKey), like the audit key, so
//   rotating the master key does not invalidate every app password.
// - appPasswordAllows refuses unless every condition holds; a record's network list of
//   null allows any address, an empty list allows none.

import { randomBytes } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { SealpostError } from '../core/errors.ts';
import { deriveKey } from '../crypto/derive.ts';
import { constantTimeEqual, hmacHex } from '../crypto/hash.ts';
import type { MasterKeyRing } from '../crypto/master-key.ts';

export const APP_PASSWORD_KEY_INFO = 'sealpost app-password v1';
const HASH_DOMAIN = 'sealpost app-password v1\0';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const ID_CHARS = 8;
const SECRET_CHARS = 24;
const ID = /^[a-z2-7]{8}$/;
const SECRET = /^[a-z2-7]{24}$/;
// Eight groups of four, each boundary either nothing, one dash or one space.
const DISPLAY = /^[a-z2-7]{4}(?:[- ]?[a-z2-7]{4}){7}$/;

export type AppPasswordScope = 'imap' | 'pop3' | 'smtp' | 'caldav' | 'carddav';
export const APP_PASSWORD_SCOPES: readonly AppPasswordScope[] = ['imap', 'pop3', 'smtp', 'caldav', 'carddav'];

export interface AppPasswordRecord {
  readonly scopes: readonly AppPasswordScope[];
  /** Milliseconds since the epoch, or null for no expiry. */
  readonly expiresAt: number | null;
  /** CIDRs (IPv4 or IPv6) or single addresses; null allows any address. */
  readonly allowedNetworks: readonly string[] | null;
  /** Milliseconds since the epoch, or null while the password is live. */
  readonly revokedAt: number | null;
}

export type AppPasswordRefusal = 'scope' | 'expired' | 'revoked' | 'address';

/** `n` uniform base32 characters: each random byte gives 5 uniform bits (256 = 8 × 32). */
function base32Chars(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

/** A new app password. Show `display` once; store `id` and hashAppSecret(…) only. */
export function newAppPassword(): { id: string; secret: string; display: string } {
  const id = base32Chars(ID_CHARS);
  const secret = base32Chars(SECRET_CHARS);
  const display = (id + secret).match(/.{4}/g)?.join('-') ?? '';
  return { id, secret, display };
}

/**
 * The id and secret of a typed app password, or null when `input` is not one (so the
 * login path falls back to the account password). Case-insensitive; dashes or spaces
 * between the groups of four are optional.
 */
export function parseAppPassword(input: string): { id: string; secret: string } | null {
  if (typeof input !== 'string' || input.length > 64) return null;
  const s = input.trim().toLowerCase();
  if (!DISPLAY.test(s)) return null;
  const flat = s.replace(/[- ]/g, '');
  return { id: flat.slice(0, ID_CHARS), secret: flat.slice(ID_CHARS) };
}

/** The app-password hashing key: derived from master key v1 (stable across rotations). */
export function appPasswordKey(ring: MasterKeyRing): Buffer {
  return deriveKey(ring.get(1).key, APP_PASSWORD_KEY_INFO);
}

/** The stored form of a secret: HMAC-SHA256 over the id and the secret, hex. */
export function hashAppSecret(key: Buffer, id: string, secret: string): string {
  if (!ID.test(id) || !SECRET.test(secret)) {
    throw new SealpostError('input.invalid', 'not an app password id and secret');
  }
  return hmacHex(key, `${HASH_DOMAIN}${id}\0${secret}`);
}

/** Whether `secret` matches `storedHash` for `id`, in constant time. */
export function verifyAppSecret(key: Buffer, id: string, secret: string, storedHash: string): boolean {
  if (typeof id !== 'string' || typeof secret !== 'string' || typeof storedHash !== 'string') return false;
  const expected = Buffer.from(storedHash, 'latin1');
  // A malformed id or secret still costs one HMAC, so timing does not tell them apart.
  const ok = ID.test(id) && SECRET.test(secret);
  const actual = Buffer.from(hmacHex(key, `${HASH_DOMAIN}${ok ? id : '-'}\0${ok ? secret : '-'}`), 'latin1');
  return constantTimeEqual(actual, expected) && ok;
}

/** Whether `cidr` is a network appPasswordAllows understands (for validating input). */
export function isAppPasswordNetwork(cidr: string): boolean {
  return parseNetwork(cidr) !== null;
}

function parseNetwork(cidr: string): { net: string; prefix: number; type: 'ipv4' | 'ipv6' } | null {
  if (typeof cidr !== 'string') return null;
  const slash = cidr.indexOf('/');
  const net = slash < 0 ? cidr : cidr.slice(0, slash);
  const type = isIPv4(net) ? 'ipv4' : isIPv6(net) ? 'ipv6' : null;
  if (type === null) return null;
  const max = type === 'ipv4' ? 32 : 128;
  if (slash < 0) return { net, prefix: max, type };
  const p = cidr.slice(slash + 1);
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) return null;
  return { net, prefix: Number(p), type };
}

/** BlockLists made once per network list (records are immutable). */
const blockLists = new WeakMap<readonly string[], BlockList>();

function blockListOf(networks: readonly string[]): BlockList {
  let list = blockLists.get(networks);
  if (list === undefined) {
    list = new BlockList();
    for (const cidr of networks) {
      const n = parseNetwork(cidr);
      if (n !== null) list.addSubnet(n.net, n.prefix, n.type); // an invalid entry matches nothing
    }
    blockLists.set(networks, list);
  }
  return list;
}

/** An IPv4-mapped IPv6 address (a dual-stack socket's view) as plain IPv4. */
function normaliseAddress(address: string): { address: string; type: 'ipv4' | 'ipv6' } | null {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined && isIPv4(mapped[1])) return { address: mapped[1], type: 'ipv4' };
  if (isIPv4(address)) return { address, type: 'ipv4' };
  if (isIPv6(address)) return { address, type: 'ipv6' };
  return null;
}

/** Whether the record lets `protocol` log in from `address` at `now` (ms since the epoch). */
export function appPasswordAllows(
  record: AppPasswordRecord,
  protocol: AppPasswordScope,
  address: string,
  now: number,
): { ok: true } | { ok: false; reason: AppPasswordRefusal } {
  if (record.revokedAt !== null) return { ok: false, reason: 'revoked' };
  if (record.expiresAt !== null && now >= record.expiresAt) return { ok: false, reason: 'expired' };
  if (!record.scopes.includes(protocol)) return { ok: false, reason: 'scope' };
  if (record.allowedNetworks !== null) {
    const a = normaliseAddress(address);
    if (a === null || !blockListOf(record.allowedNetworks).check(a.address, a.type)) {
      return { ok: false, reason: 'address' };
    }
  }
  return { ok: true };
}
