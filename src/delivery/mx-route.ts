// Where to deliver mail for a domain: MX resolution per RFC 5321 §5.1, null MX (RFC 7505),
// address resolution of each MX host and the caps on what is tried.
//
// Invariants:
// - MX hosts are ordered by preference, ties shuffled (RFC 5321 §5.1: "randomize") with the
//   injectable `random`; addresses keep their host's order, IPv4 before IPv6 unless `families`
//   says otherwise; an address appears once, under its first host.
// - No MX records: only NODATA (ENODATA) leads to the implicit MX (the domain itself,
//   preference 0), and only when the domain has A/AAAA records. NXDOMAIN is permanent.
// - A null MX (exactly one MX, ".", preference 0) is a permanent failure, 5.1.10 (RFC 7505 §3-4).
//   A "." among other MX records is ignored (RFC 7505 §3 forbids the mix; the others still work).
// - Temporary DNS failures (SERVFAIL, timeouts, refused) are never turned into permanent ones.
// - Every address passes the caller's `addressFilter` before it is returned (production refuses
//   private and loopback ranges there; tests deliver on 127.0.0.x, so it is a caller's choice).
// - An MX whose exchange is an address literal is not an RFC 5321 §5.1 domain name: it is
//   skipped with a reason (as Postfix and Exim do by default). A CNAME is followed by the
//   resolver for the A/AAAA lookups (RFC 5321 §5.1 asks senders to cope).

import net from 'node:net';
import type { DnsResolver } from '../net/dns.ts';

export interface MxHost {
  /** Lower case, no trailing dot. For the implicit MX, the domain itself. */
  name: string;
  preference: number;
  /** Addresses to try, in order, already filtered and capped. */
  addresses: string[];
  /** True for the implicit MX of RFC 5321 §5.1 (no MX records, the domain has addresses). */
  implicit: boolean;
}

export interface SkippedMxHost {
  name: string;
  preference: number;
  reason: string;
  /** True when retrying later could help (a temporary DNS failure). */
  temporary: boolean;
}

export type MxRoute =
  | { kind: 'hosts'; domain: string; hosts: MxHost[]; skipped: SkippedMxHost[] }
  | { kind: 'permanent'; domain: string; status: string; reason: string; skipped: SkippedMxHost[] }
  | { kind: 'temporary'; domain: string; status: string; reason: string; skipped: SkippedMxHost[] };

export interface MxRouteOptions {
  /** Most MX hosts tried, after sorting. Default 10. */
  maxHosts?: number;
  /** Most addresses over all hosts. Default 20. */
  maxAddresses?: number;
  /** Returns false for an address that must not be connected to. Default: every address allowed. */
  addressFilter?: (address: string) => boolean;
  /** Address families in the order they are tried. Default ['ipv4', 'ipv6']. */
  families?: ReadonlyArray<'ipv4' | 'ipv6'>;
  /**
   * Our own host names: when one is an MX host, only hosts of a lower preference are used
   * (RFC 5321 §5.1), and none left means the mail would loop (permanent, 5.4.6).
   */
  localHostnames?: readonly string[];
  /** Random number in [0, 1) for shuffling equal preferences. Default Math.random. */
  random?: () => number;
}

const DEFAULT_MAX_HOSTS = 10;
const DEFAULT_MAX_ADDRESSES = 20;
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/** Shuffle within runs of equal preference (Fisher-Yates on each run), after a stable sort. */
export function orderMx<T extends { preference: number }>(records: readonly T[], random = Math.random): T[] {
  const sorted = [...records].sort((a, b) => a.preference - b.preference);
  let start = 0;
  while (start < sorted.length) {
    let end = start + 1;
    while (end < sorted.length && sorted[end]?.preference === sorted[start]?.preference) end++;
    for (let i = end - 1; i > start; i--) {
      const j = start + Math.floor(random() * (i - start + 1));
      [sorted[i], sorted[j]] = [sorted[j] as T, sorted[i] as T];
    }
    start = end;
  }
  return sorted;
}

type AddressLookup = { addresses: string[] } | { reason: string; temporary: boolean };

async function lookupAddresses(
  name: string,
  resolver: DnsResolver,
  families: ReadonlyArray<'ipv4' | 'ipv6'>,
): Promise<AddressLookup> {
  const results = await Promise.allSettled(
    families.map((f) => resolver.resolve(name, f === 'ipv4' ? 'A' : 'AAAA')),
  );
  const addresses: string[] = [];
  const codes: string[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') addresses.push(...r.value);
    else codes.push(errorCode(r.reason));
  }
  if (addresses.length > 0) return { addresses };
  const temporary = codes.some((c) => !NEGATIVE.has(c));
  if (temporary) return { reason: `address lookup for ${name} failed (${codes.join(', ')})`, temporary };
  const nx = codes.includes('ENOTFOUND');
  return { reason: nx ? `${name} does not exist` : `${name} has no address records`, temporary: false };
}

/** Resolves the route for `domain` (a domain name, or an address literal like `[192.0.2.1]`). */
export async function resolveMxRoute(
  domain: string,
  resolver: DnsResolver,
  opts: MxRouteOptions = {},
): Promise<MxRoute> {
  const target = normalize(domain);
  const literal = /^\[(?:ipv6:)?([^\]]+)\]$/i.exec(target)?.[1];
  if (literal !== undefined) return literalRoute(target, literal, opts);

  let records: { exchange: string; priority: number }[];
  try {
    records = await resolver.resolve(target, 'MX');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOTFOUND') {
      return {
        kind: 'permanent',
        domain: target,
        status: '5.1.2',
        reason: `${target} does not exist (NXDOMAIN)`,
        skipped: [],
      };
    }
    if (code !== 'ENODATA') {
      return {
        kind: 'temporary',
        domain: target,
        status: '4.4.3',
        reason: `MX lookup for ${target} failed (${code})`,
        skipped: [],
      };
    }
    return implicitRoute(target, resolver, opts);
  }
  // RFC 7505 §3: a single "." MX of preference 0 says the domain accepts no mail
  const exchanges = records.map((r) => ({ name: normalize(r.exchange), preference: r.priority }));
  if (exchanges.length === 1 && exchanges[0]?.name === '' && exchanges[0].preference === 0) {
    return {
      kind: 'permanent',
      domain: target,
      status: '5.1.10',
      reason: `${target} accepts no mail (null MX, RFC 7505)`,
      skipped: [],
    };
  }
  const usable = exchanges.filter((e) => e.name !== '');
  if (usable.length === 0) return implicitRoute(target, resolver, opts);
  return hostsRoute(target, orderMx(usable, opts.random), resolver, opts);
}

async function implicitRoute(domain: string, resolver: DnsResolver, opts: MxRouteOptions): Promise<MxRoute> {
  // RFC 5321 §5.1: no MX records, the domain itself is the MX with preference 0 (if it has addresses)
  const route = await hostsRoute(domain, [{ name: domain, preference: 0 }], resolver, opts, true);
  if (route.kind !== 'permanent' || route.status === '5.4.6') return route;
  return { ...route, status: '5.1.2', reason: `${domain} has no MX records and no address records` };
}

/** RFC 5321 §5.1: when we are an MX of the domain, only hosts more preferred than us are used. */
function belowLocal<T extends { name: string; preference: number }>(
  ordered: readonly T[],
  opts: MxRouteOptions,
): readonly T[] {
  const local = new Set((opts.localHostnames ?? []).map(normalize));
  const ours = ordered.filter((h) => local.has(h.name)).map((h) => h.preference);
  if (ours.length === 0) return ordered;
  const ceiling = Math.min(...ours);
  return ordered.filter((h) => h.preference < ceiling);
}

/** Gives each host its allowed, not yet seen addresses, up to the overall cap. */
function assignAddresses(
  candidates: readonly { name: string; preference: number }[],
  lookups: readonly AddressLookup[],
  opts: MxRouteOptions,
  implicit: boolean,
): { hosts: MxHost[]; skipped: SkippedMxHost[] } {
  const maxAddresses = opts.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  const allow = opts.addressFilter ?? (() => true);
  const hosts: MxHost[] = [];
  const skipped: SkippedMxHost[] = [];
  const seen = new Set<string>();
  candidates.forEach((h, i) => {
    const found = lookups[i];
    if (!found) return;
    const skip = (reason: string, temporary = false): void => {
      skipped.push({ name: h.name, preference: h.preference, reason, temporary });
    };
    if ('reason' in found) {
      skip(found.reason, found.temporary);
      return;
    }
    const addresses: string[] = [];
    const refused: string[] = [];
    for (const address of found.addresses) {
      if (seen.has(address) || seen.size >= maxAddresses) continue;
      if (!allow(address)) {
        refused.push(address);
        continue;
      }
      seen.add(address);
      addresses.push(address);
    }
    if (addresses.length > 0) hosts.push({ name: h.name, preference: h.preference, addresses, implicit });
    else if (refused.length > 0) skip(`address ${refused.join(', ')} of ${h.name} is not allowed`);
    else if (seen.size >= maxAddresses) skip(`address limit (${maxAddresses}) reached`);
  });
  return { hosts, skipped };
}

async function hostsRoute(
  domain: string,
  ordered: readonly { name: string; preference: number }[],
  resolver: DnsResolver,
  opts: MxRouteOptions,
  implicit = false,
): Promise<MxRoute> {
  const families = opts.families ?? ['ipv4', 'ipv6'];
  const allowed = belowLocal(ordered, opts);
  if (allowed.length === 0) {
    const reason = `mail for ${domain} loops back to this server (it is the best MX)`;
    return { kind: 'permanent', domain, status: '5.4.6', reason, skipped: [] };
  }
  const candidates = allowed.slice(0, opts.maxHosts ?? DEFAULT_MAX_HOSTS);
  const lookups = await Promise.all(
    candidates.map((h) =>
      net.isIP(h.name) !== 0
        ? Promise.resolve<AddressLookup>({
            reason: `MX ${h.name} is an address literal, not a host name (RFC 5321 §5.1)`,
            temporary: false,
          })
        : lookupAddresses(h.name, resolver, families),
    ),
  );
  const { hosts, skipped } = assignAddresses(candidates, lookups, opts, implicit);
  if (hosts.length > 0) return { kind: 'hosts', domain, hosts, skipped };
  const reasons = skipped.map((s) => s.reason).join('; ');
  if (skipped.some((s) => s.temporary)) {
    const reason = `no MX host of ${domain} could be resolved: ${reasons}`;
    return { kind: 'temporary', domain, status: '4.4.3', reason, skipped };
  }
  return {
    kind: 'permanent',
    domain,
    status: '5.4.4',
    reason: `no usable MX host for ${domain}: ${reasons}`,
    skipped,
  };
}

function literalRoute(domain: string, address: string, opts: MxRouteOptions): MxRoute {
  if (net.isIP(address) === 0) {
    return {
      kind: 'permanent',
      domain,
      status: '5.1.2',
      reason: `${domain} is not a valid address literal`,
      skipped: [],
    };
  }
  if (opts.addressFilter && !opts.addressFilter(address)) {
    return {
      kind: 'permanent',
      domain,
      status: '5.4.4',
      reason: `address ${address} is not allowed`,
      skipped: [],
    };
  }
  return {
    kind: 'hosts',
    domain,
    hosts: [{ name: domain, preference: 0, addresses: [address], implicit: true }],
    skipped: [],
  };
}
