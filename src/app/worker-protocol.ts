// Messages between the supervisor (cluster.ts) and its worker processes (worker.ts),
// and the key both sides use to name one connection: the peer's address, normalised
// the way smtp-server reports it in a session, and its port.

import { normalizeIPv6 } from 'smtp-server/lib/ipv6-normalize.js';
import type { Role } from './start.ts';

export type ToWorker = { readonly type: 'connection'; readonly role: Role } | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'closed'; readonly key: string };

export function peerKey(address: string, port: number): string {
  let a = address.trim().replace(/^::ffff:/i, '');
  if (a.includes(':')) a = normalizeIPv6(a);
  return `${a.toLowerCase()}|${port}`;
}
