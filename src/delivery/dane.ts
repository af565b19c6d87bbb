// DANE for SMTP (RFC 7672, RFC 6698, RFC 7671): which TLSA records are usable and whether the
// certificate chain a server presented matches them. Pure functions over DER; no DNS here
// (dane-lookup.ts decides when the records may be trusted).
//
// Invariants:
// - Only DANE-TA(2) and DANE-EE(3) are usable for SMTP (RFC 7672 §3.1.3: PKIX-TA(0)/PKIX-EE(1)
//   are unusable); selectors 0 (full certificate) and 1 (SubjectPublicKeyInfo); matching types
//   0 (exact), 1 (SHA-256), 2 (SHA-512), with the digest length checked (RFC 7671 §10.1.2).
// - DANE-EE matches the leaf only, and ignores names and validity dates (RFC 7672 §3.1.1).
// - DANE-TA matches a certificate of the chain above the leaf; the leaf must then chain to it by
//   issuer name and signature, every certificate below the trust anchor must be in date and
//   every issuer a CA, and the leaf must carry one of the reference names (RFC 7672 §3.1.2,
//   §3.2.2, §3.2.3: a wildcard only as the whole leftmost label).
// - The chain comes from getPeerCertificate(true); node may complete it from the local trust
//   store, which cannot widen a match: every anchor must still match a DNSSEC-validated record.

import { createHash, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

export interface Tlsa {
  usage: number;
  selector: number;
  matchingType: number;
  data: Buffer;
}

export type DaneMatch = { ok: true; usage: 2 | 3; reason: string } | { ok: false; reason: string };

const DIGEST_LENGTH: Record<number, number> = { 1: 32, 2: 64 };

/** RFC 7672 §3.1.3 and RFC 7671 §10.1.2: the records an SMTP client may use. */
export function isUsableTlsa(r: Tlsa): boolean {
  if (r.usage !== 2 && r.usage !== 3) return false;
  if (r.selector !== 0 && r.selector !== 1) return false;
  if (r.matchingType === 0) return r.data.length > 0;
  return DIGEST_LENGTH[r.matchingType] === r.data.length;
}

function selected(cert: X509Certificate, selector: number): Buffer {
  if (selector === 0) return cert.raw;
  return cert.publicKey.export({ type: 'spki', format: 'der' });
}

function digest(data: Buffer, matchingType: number): Buffer {
  if (matchingType === 1) return createHash('sha256').update(data).digest();
  if (matchingType === 2) return createHash('sha512').update(data).digest();
  return data;
}

/** True if the certificate matches the record's selector and matching type. */
export function tlsaMatches(record: Tlsa, cert: X509Certificate): boolean {
  return digest(selected(cert, record.selector), record.matchingType).equals(record.data);
}

function describe(r: Tlsa): string {
  return `${r.usage} ${r.selector} ${r.matchingType}`;
}

function inDate(cert: X509Certificate, now: Date): boolean {
  return cert.validFromDate <= now && now <= cert.validToDate;
}

/** The leaf carries one of the names (SAN dNSName, RFC 6125; "*." only as the leftmost label). */
function nameMatches(leaf: X509Certificate, names: readonly string[]): boolean {
  return names.some(
    (n) =>
      leaf.checkHost(n.toLowerCase().replace(/\.$/, ''), {
        wildcards: true,
        partialWildcards: false,
        subject: 'never',
      }) !== undefined,
  );
}

/** Verifies that chain[0..anchor-1] chains to chain[anchor] (RFC 7672 §3.1.2). */
function chainsTo(chain: readonly X509Certificate[], anchor: number, now: Date): string | undefined {
  for (let i = 0; i < anchor; i++) {
    const cert = chain[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    if (!inDate(cert, now)) return `certificate ${i} of the chain is not valid at ${now.toISOString()}`;
    if (!issuer.ca) return `certificate ${i + 1} of the chain is not a CA`;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      return `certificate ${i} is not signed by certificate ${i + 1}`;
    }
  }
  return undefined;
}

/**
 * Matches a presented chain (DER, leaf first, each certificate followed by its issuer) against
 * the usable TLSA records of an MX host. `names` are the reference identifiers for DANE-TA:
 * the TLSA base domain (and the original MX name when a CNAME was followed).
 */
export function matchDane(
  chainDer: readonly Buffer[],
  records: readonly Tlsa[],
  names: readonly string[],
  now: Date = new Date(),
): DaneMatch {
  const usable = records.filter(isUsableTlsa);
  if (usable.length === 0) return { ok: false, reason: 'no usable TLSA records' };
  let chain: X509Certificate[];
  try {
    chain = chainDer.map((der) => new X509Certificate(der));
  } catch {
    return { ok: false, reason: 'the presented certificate chain cannot be parsed' };
  }
  const leaf = chain[0];
  if (!leaf) return { ok: false, reason: 'no certificate presented' };

  for (const r of usable) {
    if (r.usage === 3 && tlsaMatches(r, leaf)) {
      return { ok: true, usage: 3, reason: `DANE-EE(${describe(r)}) matches the server certificate` };
    }
  }
  const problems: string[] = [];
  for (const r of usable) {
    if (r.usage !== 2) continue;
    for (let i = 1; i < chain.length; i++) {
      if (!tlsaMatches(r, chain[i] as X509Certificate)) continue;
      const broken = chainsTo(chain, i, now);
      if (broken) {
        problems.push(`DANE-TA(${describe(r)}) matches certificate ${i}, but ${broken}`);
        continue;
      }
      if (!nameMatches(leaf, names)) {
        problems.push(
          `DANE-TA(${describe(r)}) matches, but the certificate is not for ${names.join(' or ')}`,
        );
        continue;
      }
      return { ok: true, usage: 2, reason: `DANE-TA(${describe(r)}) matches certificate ${i} of the chain` };
    }
  }
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return {
    ok: false,
    reason: `no TLSA record (${usable.map(describe).join(', ')}) matches the presented chain`,
  };
}

/** The peer's chain as DER, leaf first, following issuerCertificate links. */
export function peerChain(socket: TLSSocket): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let cert = socket.getPeerCertificate(true);
  while (cert?.raw && !seen.has(cert.fingerprint256) && chain.length < 16) {
    seen.add(cert.fingerprint256);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** A certificate decision for the SMTP client's TLS `verify` hook: `{ ok, reason }`. */
export function daneVerifier(
  records: readonly Tlsa[],
  names: readonly string[],
  now: () => Date = () => new Date(),
): (socket: TLSSocket) => { ok: boolean; reason?: string } {
  return (socket) => {
    const result = matchDane(peerChain(socket), records, names, now());
    return { ok: result.ok, reason: result.reason };
  };
}
