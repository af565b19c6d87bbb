// Identifiers: random, URL- and filename-safe, prefixed by kind so a log line or a
// support ticket shows what an id names. 128 bits of randomness; never derived from
// user data, so an id reveals nothing about its object.

import { randomBytes } from 'node:crypto';

export type IdKind = 'dom' | 'acc' | 'mbx' | 'msg' | 'thr' | 'inc' | 'que';

export function newId(kind: IdKind): string {
  return `${kind}_${randomBytes(16).toString('base64url')}`;
}

/** A random non-zero 32-bit UIDVALIDITY (RFC 9051 §2.3.1.1). */
export function newUidValidity(): number {
  return (randomBytes(4).readUInt32BE(0) % 0xfffffffe) + 1;
}
