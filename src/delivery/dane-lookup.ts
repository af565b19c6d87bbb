// When DANE applies to an MX host (RFC 7672 §2.1-2.2): the DNS side, with the AD bit from the
// configured validating resolver (dns-dnssec.ts).
//
// Invariants:
// - DANE is in force for a host only if the MX RRset (or, for the implicit MX, the denial of MX
//   records) was secure (§2.2.1), the host's address records were secure (§2.2.2), and the
//   TLSA RRset at _25._tcp.HOST came back with AD=1.
// - A CNAME in a secure address lookup makes the expanded name the first TLSA base domain,
//   the original name the second (§2.2.2); both are reference names for DANE-TA.
// - Secure TLSA records of which none is usable → 'unusable': TLS stays mandatory but the
//   certificate is not authenticated (§2.2, RFC 7671 §4.1).
// - A TLSA (or MX / address) lookup that fails (SERVFAIL — bogus —, timeout) for a host that
//   could be DANE-protected → 'failed': the host must not be used now (§2.2: delivery to it is
//   deferred), never silently downgraded to "no DANE".

import type { Answer } from 'dns-packet';
import type { Tlsa } from './dane.ts';
import { isUsableTlsa } from './dane.ts';
import type { DnssecQuery } from './dns-dnssec.ts';

export type DaneState =
  | { kind: 'none'; reason: string }
  | { kind: 'usable'; records: Tlsa[]; names: string[]; reason: string }
  | { kind: 'unusable'; reason: string }
  | { kind: 'failed'; reason: string };

export type MxSecurity = { kind: 'secure' | 'insecure' } | { kind: 'failed'; reason: string };

const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

function failure(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  return `${String(e?.code ?? 'EUNKNOWN')}: ${String(e?.message ?? err)}`;
}

/** Whether the MX RRset of `domain` (or its authenticated absence) was DNSSEC-validated (§2.2.1). */
export async function mxSecurity(domain: string, query: DnssecQuery): Promise<MxSecurity> {
  try {
    const answer = await query(normalize(domain), 'MX');
    return { kind: answer.authentic ? 'secure' : 'insecure' };
  } catch (err) {
    return { kind: 'failed', reason: `MX lookup for ${domain} with DNSSEC failed (${failure(err)})` };
  }
}

/** The secure TLSA base domains of `host`: its CNAME expansion first, then itself (§2.2.2). */
async function baseDomains(host: string, query: DnssecQuery): Promise<string[] | DaneState> {
  for (const type of ['A', 'AAAA'] as const) {
    let answer: Awaited<ReturnType<DnssecQuery>>;
    try {
      answer = await query(host, type);
    } catch (err) {
      return { kind: 'failed', reason: `${type} lookup for ${host} with DNSSEC failed (${failure(err)})` };
    }
    if (!answer.authentic)
      return { kind: 'none', reason: `the address records of ${host} are not DNSSEC-signed` };
    const addresses = answer.answers.filter((a) => a.type === type);
    if (addresses.length === 0) continue;
    const last = normalize(addresses[0]?.name ?? host);
    return last === host ? [host] : [last, host];
  }
  return { kind: 'none', reason: `${host} has no address records` };
}

function toTlsa(answers: Answer[]): Tlsa[] {
  const out: Tlsa[] = [];
  for (const a of answers) {
    if (a.type !== 'TLSA') continue;
    out.push({
      usage: a.data.usage,
      selector: a.data.selector,
      matchingType: a.data.matchingType,
      data: a.data.certificate,
    });
  }
  return out;
}

/** DANE state for one MX host, given whether the MX lookup that named it was secure. */
export async function daneForHost(
  host: string,
  mx: MxSecurity,
  query: DnssecQuery,
  port = 25,
): Promise<DaneState> {
  const name = normalize(host);
  if (mx.kind === 'failed') return { kind: 'failed', reason: mx.reason };
  if (mx.kind === 'insecure') return { kind: 'none', reason: 'the MX records are not DNSSEC-signed' };
  const bases = await baseDomains(name, query);
  if (!Array.isArray(bases)) return bases;
  for (const base of bases) {
    const owner = `_${port}._tcp.${base}`;
    let answer: Awaited<ReturnType<DnssecQuery>>;
    try {
      answer = await query(owner, 'TLSA');
    } catch (err) {
      return { kind: 'failed', reason: `TLSA lookup for ${owner} failed (${failure(err)})` };
    }
    const records = toTlsa(answer.answers);
    if (records.length === 0) continue; // NXDOMAIN/NODATA: try the next base domain
    if (!answer.authentic)
      return { kind: 'none', reason: `the TLSA records at ${owner} are not DNSSEC-signed` };
    const usable = records.filter(isUsableTlsa);
    if (usable.length === 0) {
      return {
        kind: 'unusable',
        reason: `no usable TLSA record at ${owner}: TLS required, not authenticated`,
      };
    }
    return {
      kind: 'usable',
      records: usable,
      names: bases,
      reason: `${usable.length} usable TLSA record(s) at ${owner}`,
    };
  }
  return { kind: 'none', reason: `no TLSA records for ${name}` };
}

/** DANE state of every MX host of `domain`, keyed by lower-case host name. */
export async function lookupDane(
  domain: string,
  hosts: readonly string[],
  query: DnssecQuery,
): Promise<Map<string, DaneState>> {
  const mx = await mxSecurity(domain, query);
  const states = await Promise.all(hosts.map((h) => daneForHost(h, mx, query)));
  return new Map(hosts.map((h, i) => [normalize(h), states[i] as DaneState]));
}
