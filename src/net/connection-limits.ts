// Connection limits per client and in total (DESIGN invariant 11: connections per
// address is a limit like any other, enforced and tested).
// Addresses are normalised before counting:
// - IPv4-mapped IPv6 (::ffff:192.0.2.1, RFC 4291 §2.5.5.2), which a dual-stack
//   socket reports for IPv4 clients, counts as the IPv4 address itself, so one
//   client cannot get two budgets by arriving on both stacks.
// - Other IPv6 addresses count per /64 prefix. A /64 is the smallest block
//   handed to an end site or even a single host (RFC 4291 §2.5.4 fixes 64-bit
//   interface identifiers; RFC 6177 recommends /48–/64 per site), and one host
//   can draw any number of addresses from it (privacy addresses, RFC 8981), so
//   counting single IPv6 addresses would give an attacker 2^64 budgets.
// - Zone ids (fe80::1%eth0) are dropped; anything that is not an IP (a Unix socket
//   path, undefined remoteAddress mapped to '') is counted under its own text.

import { isIPv4, isIPv6 } from 'node:net';

/** Expand an IPv6 address (no zone, already validated) into eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  // Dotted IPv4 in the last 32 bits (::ffff:1.2.3.4) becomes two hex groups.
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
    [((+a << 8) | +b).toString(16), ((+c << 8) | +d).toString(16)].join(':'),
  );
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const [head = '', rest] = text.split('::');
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The key under which an address is counted (see the header for the rules). */
export function addressKey(address: string): string {
  const bare = address.split('%')[0]!.toLowerCase();
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return address;
  const g = ipv6Groups(bare);
  const mapped = g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
  if (mapped) return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  return `${g
    .slice(0, 4)
    .map((n) => n.toString(16))
    .join(':')}::/64`;
}

export interface ConnectionLimits {
  /** Most connections from one address (one /64 for IPv6). */
  maxPerAddress: number;
  /** Most connections in total on the listener. */
  maxTotal: number;
}

export class ConnectionLimiter {
  readonly #limits: ConnectionLimits;
  readonly #counts = new Map<string, number>();
  #total = 0;

  constructor(opts: ConnectionLimits) {
    for (const [k, v] of Object.entries(opts)) {
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`ConnectionLimiter: ${k} must be a positive integer`);
    }
    this.#limits = { maxPerAddress: opts.maxPerAddress, maxTotal: opts.maxTotal };
  }

  /** Count a new connection if both limits allow it; false means refuse it (and do not release). */
  tryAcquire(address: string): boolean {
    const key = addressKey(address);
    const current = this.#counts.get(key) ?? 0;
    if (this.#total >= this.#limits.maxTotal || current >= this.#limits.maxPerAddress) return false;
    this.#counts.set(key, current + 1);
    this.#total++;
    return true;
  }

  /** Release a connection counted by tryAcquire; releasing more than was acquired is ignored. */
  release(address: string): void {
    const key = addressKey(address);
    const current = this.#counts.get(key);
    if (current === undefined) return;
    if (current <= 1) this.#counts.delete(key);
    else this.#counts.set(key, current - 1);
    this.#total--;
  }

  /** Connections counted for this address's key (its /64 for IPv6). */
  count(address: string): number {
    return this.#counts.get(addressKey(address)) ?? 0;
  }

  get total(): number {
    return this.#total;
  }
}
