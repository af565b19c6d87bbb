// MTA-STS policy discovery with a cache (RFC 8461 §3, §5.1): which policy is in force for a
// recipient domain right now.
//
// Flow for lookup(domain):
//   TXT _mta-sts.DOMAIN → a valid record with an id?
//     yes: a cached, unexpired policy with that id → use it (no fetch).
//          otherwise fetch → success: cache it (max_age) and use it;
//                            failure: keep using an unexpired cached policy (§5.1), else none.
//     no (absent, invalid, several records, or a DNS error): an unexpired cached policy stays in
//          force (§5.1: the TXT record is only a hint that the policy changed), else none.
//
// Invariants:
// - A policy that failed to fetch or parse never replaces a cached valid one.
// - Cache entries expire max_age seconds after the fetch; a refresh (same id) is never needed to
//   keep using them until then. The cache is behind an interface so it can move into the store.
// - Concurrent lookups of one domain share one discovery.

import type { DnsResolver } from '../net/dns.ts';
import { fetchStsPolicy, type StsFailureType, type StsFetchOptions } from './mta-sts-fetch.ts';
import { type MtaStsPolicy, parseStsTxt } from './mta-sts-policy.ts';

export interface CachedStsPolicy {
  domain: string;
  id: string;
  policy: MtaStsPolicy;
  /** Milliseconds since the epoch. */
  fetchedAt: number;
  expiresAt: number;
}

/** Where policies are kept between lookups (in memory now; the store later). */
export interface MtaStsCache {
  get(domain: string): Promise<CachedStsPolicy | undefined>;
  set(entry: CachedStsPolicy): Promise<void>;
  delete(domain: string): Promise<void>;
}

/** A bounded in-memory cache, least recently used first out. */
export class MemoryMtaStsCache implements MtaStsCache {
  readonly #entries = new Map<string, CachedStsPolicy>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  async get(domain: string): Promise<CachedStsPolicy | undefined> {
    const entry = this.#entries.get(domain);
    if (entry) {
      this.#entries.delete(domain);
      this.#entries.set(domain, entry);
    }
    return entry;
  }

  async set(entry: CachedStsPolicy): Promise<void> {
    this.#entries.delete(entry.domain);
    this.#entries.set(entry.domain, entry);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  async delete(domain: string): Promise<void> {
    this.#entries.delete(domain);
  }
}

export type StsProblemType = StsFailureType | 'sts-txt-missing' | 'sts-txt-invalid' | 'sts-txt-error';

export interface StsLookup {
  domain: string;
  /** The policy in force, if any. */
  policy: MtaStsPolicy | undefined;
  /** The policy id (from the TXT record it was fetched under). */
  id: string | undefined;
  source: 'fetched' | 'cache' | 'none';
  /**
   * What went wrong during this discovery (also when a cached policy was kept). A fetch-side
   * type (sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid) belongs in TLS-RPT.
   */
  problem?: { type: StsProblemType; reason: string };
}

export interface MtaStsOptions extends Omit<StsFetchOptions, 'resolver'> {
  resolver: DnsResolver;
  /** Default: a new MemoryMtaStsCache. */
  cache?: MtaStsCache;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
}

type TxtState = { kind: 'id'; id: string } | { kind: 'absent' | 'invalid' | 'error'; reason: string };

export class MtaSts {
  readonly #opts: MtaStsOptions;
  readonly #cache: MtaStsCache;
  readonly #now: () => number;
  readonly #inFlight = new Map<string, Promise<StsLookup>>();

  constructor(opts: MtaStsOptions) {
    this.#opts = opts;
    this.#cache = opts.cache ?? new MemoryMtaStsCache();
    this.#now = opts.now ?? Date.now;
  }

  /** The policy in force for `domain` (see the header for the flow). Never throws on DNS/HTTP errors. */
  lookup(domain: string): Promise<StsLookup> {
    const key = domain.toLowerCase().replace(/\.$/, '');
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#discover(key).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  async #txt(domain: string): Promise<TxtState> {
    let records: string[][];
    try {
      records = await this.#opts.resolver.resolve(`_mta-sts.${domain}`, 'TXT');
    } catch (err) {
      const code = String((err as { code?: unknown } | null)?.code ?? 'EUNKNOWN');
      if (code === 'ENOTFOUND' || code === 'ENODATA')
        return { kind: 'absent', reason: `no _mta-sts TXT record (${code})` };
      return { kind: 'error', reason: `_mta-sts TXT lookup failed (${code})` };
    }
    const parsed = parseStsTxt(records);
    if (parsed.ok) return { kind: 'id', id: parsed.value.id };
    return { kind: records.length === 0 ? 'absent' : 'invalid', reason: parsed.reason };
  }

  async #discover(domain: string): Promise<StsLookup> {
    const [txt, stored] = await Promise.all([this.#txt(domain), this.#cache.get(domain)]);
    const cached = stored && stored.expiresAt > this.#now() ? stored : undefined;
    const fromCache = (problem?: StsLookup['problem']): StsLookup => ({
      domain,
      policy: cached?.policy,
      id: cached?.id,
      source: cached ? 'cache' : 'none',
      ...(problem ? { problem } : {}),
    });
    if (txt.kind !== 'id') {
      const type =
        txt.kind === 'absent'
          ? 'sts-txt-missing'
          : txt.kind === 'invalid'
            ? 'sts-txt-invalid'
            : 'sts-txt-error';
      return fromCache({ type, reason: txt.reason });
    }
    if (cached && cached.id === txt.id) return fromCache();
    const fetched = await fetchStsPolicy(domain, { ...this.#opts });
    if (!fetched.ok) return fromCache({ type: fetched.failure, reason: fetched.reason });
    const fetchedAt = this.#now();
    await this.#cache.set({
      domain,
      id: txt.id,
      policy: fetched.policy,
      fetchedAt,
      expiresAt: fetchedAt + fetched.policy.maxAge * 1000,
    });
    return { domain, policy: fetched.policy, id: txt.id, source: 'fetched' };
  }
}
