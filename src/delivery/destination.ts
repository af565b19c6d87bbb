// One call for the delivery runner: where mail for a domain goes and under which TLS terms.
// MX route (mx-route.ts) and MTA-STS policy (mta-sts.ts) are looked up together, then DANE
// (dane-lookup.ts) for the hosts found, then the per-host plan (tls-requirements.ts).
//
// Invariants:
// - A candidate is returned only with a plan whose action is 'try'; hosts the TLS policy refuses
//   are listed in `refused` and never connected to. If every host is refused the destination is
//   a temporary failure (4.7.5), so the queue defers and later bounces (RFC 8461 §5).
// - Without `mtaSts` no MTA-STS policy is used; without `dnssec` DANE is never in force.
// - Each candidate carries the TLS-RPT policy its sessions must be recorded under (RFC 8460).

import type { DnsResolver } from '../net/dns.ts';
import { type DaneState, lookupDane } from './dane-lookup.ts';
import type { DnssecQuery } from './dns-dnssec.ts';
import type { MtaSts, StsLookup } from './mta-sts.ts';
import { type MxHost, type MxRouteOptions, resolveMxRoute, type SkippedMxHost } from './mx-route.ts';
import { decideTlsRequirements, type MxTlsPlan } from './tls-requirements.ts';
import { type TlsRptPolicy, tlsaStrings } from './tls-rpt.ts';

export type TryPlan = Extract<MxTlsPlan, { action: 'try' }>;
export type SkipPlan = Extract<MxTlsPlan, { action: 'skip' }>;

export interface Candidate {
  host: MxHost;
  plan: TryPlan;
  /** The policy to record this host's TLS sessions under, for TLS-RPT. */
  rptPolicy: TlsRptPolicy;
}

export type Destination =
  | {
      kind: 'deliver';
      domain: string;
      /** In the order to try them. */
      candidates: Candidate[];
      /** Hosts of the MX list without a usable address. */
      unresolved: SkippedMxHost[];
      /** Hosts the TLS policy refuses (MTA-STS enforce mismatch, failed TLSA lookup). */
      refused: Array<{ host: MxHost; plan: SkipPlan; rptPolicy: TlsRptPolicy }>;
      sts: StsLookup | undefined;
    }
  | {
      kind: 'permanent' | 'temporary';
      domain: string;
      /** RFC 3463 enhanced status code. */
      status: string;
      reason: string;
      sts: StsLookup | undefined;
    };

export interface DestinationOptions {
  resolver: DnsResolver;
  /** MTA-STS discovery (with its cache); absent: no MTA-STS. */
  mtaSts?: MtaSts;
  /** Queries with the AD bit against a validating resolver; absent: no DANE. */
  dnssec?: DnssecQuery;
  route?: MxRouteOptions;
}

function rptPolicyFor(
  domain: string,
  plan: MxTlsPlan,
  sts: StsLookup | undefined,
  dane: DaneState | undefined,
): TlsRptPolicy {
  if (plan.policy === 'tlsa') {
    const records = dane?.kind === 'usable' ? tlsaStrings(dane.records) : [];
    return { type: 'tlsa', domain, strings: records, mxHosts: [plan.host] };
  }
  if (plan.policy === 'sts' && sts?.policy) {
    return { type: 'sts', domain, strings: sts.policy.lines, mxHosts: sts.policy.mx };
  }
  return { type: 'no-policy-found', domain };
}

/** Resolves the destination of `domain` (see the header). Never throws on DNS or HTTP errors. */
export async function resolveDestination(domain: string, opts: DestinationOptions): Promise<Destination> {
  // an address literal (user@[192.0.2.1]) has no MTA-STS policy and no TLSA base domain
  const literal = domain.trim().startsWith('[');
  const [route, sts] = await Promise.all([
    resolveMxRoute(domain, opts.resolver, opts.route),
    literal ? undefined : opts.mtaSts?.lookup(domain),
  ]);
  if (route.kind !== 'hosts') {
    return { kind: route.kind, domain: route.domain, status: route.status, reason: route.reason, sts };
  }
  const names = route.hosts.map((h) => h.name);
  const dane = opts.dnssec && !literal ? await lookupDane(route.domain, names, opts.dnssec) : undefined;
  const plans = decideTlsRequirements({ hosts: names, sts: sts?.policy, ...(dane ? { dane } : {}) });
  const candidates: Candidate[] = [];
  const refused: Array<{ host: MxHost; plan: SkipPlan; rptPolicy: TlsRptPolicy }> = [];
  route.hosts.forEach((host, i) => {
    const plan = plans[i];
    if (!plan) return;
    const rptPolicy = rptPolicyFor(route.domain, plan, sts, dane?.get(host.name));
    if (plan.action === 'try') candidates.push({ host, plan, rptPolicy });
    else refused.push({ host, plan, rptPolicy });
  });
  if (candidates.length === 0) {
    const reason = refused.map((r) => `${r.host.name}: ${r.plan.reason}`).join('; ');
    return {
      kind: 'temporary',
      domain: route.domain,
      status: '4.7.5',
      reason: `no MX host may be used: ${reason}`,
      sts,
    };
  }
  return { kind: 'deliver', domain: route.domain, candidates, unresolved: route.skipped, refused, sts };
}
