// The DNS resolver every DNS-using function takes as an argument (SPF, DKIM, DMARC, ARC, MX,
// MTA-STS, DANE), so tests can point it at a local server and nothing global is touched.
//
// Shape: `resolve(name, rrtype)` answers exactly like node:dns `resolve()`, which is also what
// mailauth's `resolver` option expects (wrap it with `resolveFunction()`): A/AAAA/CNAME/NS/PTR
// → string[], TXT → string[][] (one array of character-strings per record), MX →
// { exchange, priority }[], TLSA → { certUsage, selector, match, data }[]. Failures reject with
// an Error whose `code` is node's: ENOTFOUND (NXDOMAIN), ENODATA (NOERROR but no records of the
// type), ETIMEOUT, ESERVFAIL, ECONNREFUSED, … mailauth tells "no record" (SPF void lookup,
// DMARC/DKIM "none") from a temporary error by exactly ENOTFOUND/ENODATA, so the codes must stay.
//
// Invariants:
// - Positive answers are cached for their TTL (A/AAAA report it; other types get
//   `defaultTtlSeconds`, since node:dns does not expose it), NXDOMAIN/NODATA for
//   `negativeTtlSeconds` (RFC 2308 §5, without the SOA minimum). Temporary errors are never cached.
// - The cache is a bounded LRU; identical in-flight queries share one lookup.
// - Every lookup settles within `timeoutMs` (ETIMEOUT otherwise).
// - Callers get their own copy of an answer: mailauth sorts MX lists in place.

import { Resolver } from 'node:dns/promises';

export interface MxRecord {
  exchange: string;
  priority: number;
}

export interface TlsaRecord {
  certUsage: number;
  selector: number;
  match: number;
  data: ArrayBuffer;
}

export interface DnsResolver {
  resolve(name: string, rrtype: 'A' | 'AAAA' | 'CNAME' | 'NS' | 'PTR'): Promise<string[]>;
  resolve(name: string, rrtype: 'TXT'): Promise<string[][]>;
  resolve(name: string, rrtype: 'MX'): Promise<MxRecord[]>;
  resolve(name: string, rrtype: 'TLSA'): Promise<TlsaRecord[]>;
  resolve(name: string, rrtype: string): Promise<unknown[]>;
}

/** A DNS failure, with node's error code (ENOTFOUND, ENODATA, ETIMEOUT, …). */
export class DnsError extends Error {
  readonly code: string;
  readonly hostname: string;
  readonly rrtype: string;

  constructor(code: string, hostname: string, rrtype: string, message: string) {
    super(message);
    this.name = 'DnsError';
    this.code = code;
    this.hostname = hostname;
    this.rrtype = rrtype;
  }
}

export interface DnsResolverOptions {
  /** 'ip', 'ip:port' or '[ipv6]:port'; the system resolvers when absent. */
  servers?: string[];
  /** Upper bound for one lookup, retries included. Default 5000. */
  timeoutMs?: number;
  /** Default 10000. */
  cacheMaxEntries?: number;
  /** TTL for answers whose TTL node:dns does not report. Default 300. */
  defaultTtlSeconds?: number;
  /** TTL for NXDOMAIN/NODATA. Default 60. */
  negativeTtlSeconds?: number;
  /** Upper bound on any cached TTL. Default 3600. */
  maxTtlSeconds?: number;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
}

const NEGATIVE_CODES = new Set(['ENOTFOUND', 'ENODATA']);

type CacheEntry = { expires: number; answer: unknown[] } | { expires: number; errorCode: string };

/** A function of the shape mailauth's `resolver` option takes. */
export function resolveFunction(resolver: DnsResolver): (name: string, rrtype: string) => Promise<unknown[]> {
  return (name, rrtype) => resolver.resolve(name, rrtype);
}

export function createDnsResolver(opts: DnsResolverOptions = {}): DnsResolver {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxEntries = opts.cacheMaxEntries ?? 10_000;
  const defaultTtl = opts.defaultTtlSeconds ?? 300;
  const negativeTtl = opts.negativeTtlSeconds ?? 60;
  const maxTtl = opts.maxTtlSeconds ?? 3600;
  const now = opts.now ?? Date.now;

  // Two tries of half the budget each, so c-ares gives up by itself before our own timer fires.
  const tryMs = Math.max(50, Math.floor(timeoutMs / 2));
  const resolver = new Resolver({ timeout: tryMs, tries: 2, maxTimeout: tryMs });
  if (opts.servers?.length) resolver.setServers(opts.servers);

  const cache = new Map<string, CacheEntry>(); // insertion order = LRU order
  const inFlight = new Map<string, Promise<unknown[]>>();

  const remember = (key: string, entry: CacheEntry): void => {
    if (entry.expires <= now() || maxEntries <= 0) return;
    cache.delete(key);
    cache.set(key, entry);
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
  };

  const lookup = async (name: string, rrtype: string, key: string): Promise<unknown[]> => {
    try {
      const { answer, ttl } = await withTimeout(query(resolver, name, rrtype), timeoutMs, name, rrtype);
      remember(key, { expires: now() + Math.min(ttl ?? defaultTtl, maxTtl) * 1000, answer });
      return answer;
    } catch (err) {
      const error = toDnsError(err, name, rrtype);
      if (NEGATIVE_CODES.has(error.code)) {
        remember(key, { expires: now() + Math.min(negativeTtl, maxTtl) * 1000, errorCode: error.code });
      }
      throw error;
    }
  };

  const resolve = async (name: string, rrtype: string): Promise<unknown[]> => {
    const type = rrtype.toUpperCase();
    const host = name.toLowerCase().replace(/\.$/, '');
    const key = `${type} ${host}`;
    const hit = cache.get(key);
    if (hit && hit.expires > now()) {
      cache.delete(key); // refresh LRU position
      cache.set(key, hit);
      if ('errorCode' in hit) throw negativeError(hit.errorCode, host, type);
      return structuredClone(hit.answer);
    }
    if (hit) cache.delete(key);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = lookup(host, type, key).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    try {
      return structuredClone(await pending);
    } catch (err) {
      // every waiter gets its own error object: mailauth writes onto the errors it is given
      const e = err as DnsError;
      throw new DnsError(e.code, e.hostname, e.rrtype, e.message);
    }
  };

  return { resolve } as DnsResolver;
}

async function query(
  resolver: Resolver,
  name: string,
  rrtype: string,
): Promise<{ answer: unknown[]; ttl?: number }> {
  if (rrtype === 'A' || rrtype === 'AAAA') {
    const records =
      rrtype === 'A'
        ? await resolver.resolve4(name, { ttl: true })
        : await resolver.resolve6(name, { ttl: true });
    const ttl = Math.min(...records.map((r) => r.ttl));
    return { answer: records.map((r) => r.address), ttl: Number.isFinite(ttl) ? ttl : 0 };
  }
  const answer = (await resolver.resolve(name, rrtype)) as unknown[];
  return { answer };
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string, rrtype: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DnsError('ETIMEOUT', name, rrtype, `DNS ${rrtype} lookup for ${name} timed out after ${ms} ms`),
        ),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function negativeError(code: string, name: string, rrtype: string): DnsError {
  const what = code === 'ENOTFOUND' ? 'no such domain' : `no ${rrtype} records`;
  return new DnsError(code, name, rrtype, `DNS ${rrtype} lookup for ${name}: ${what} (${code})`);
}

function toDnsError(err: unknown, name: string, rrtype: string): DnsError {
  if (err instanceof DnsError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') {
    return new DnsError('EBADQUERY', name, rrtype, `DNS ${rrtype} lookup for ${name} failed: ${String(err)}`);
  }
  if (NEGATIVE_CODES.has(code)) return negativeError(code, name, rrtype);
  if (code === 'ETIMEOUT') {
    return new DnsError(
      code,
      name,
      rrtype,
      `DNS ${rrtype} lookup for ${name} timed out (no answer from the server)`,
    );
  }
  return new DnsError(code, name, rrtype, `DNS ${rrtype} lookup for ${name} failed (${code})`);
}
