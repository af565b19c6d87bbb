// Message authentication for the inbound MX: SPF (RFC 7208), DKIM (RFC 6376, RFC 8301,
// RFC 8463), ARC (RFC 8617) and DMARC (RFC 7489 as revised by RFC 9989), through mailauth's
// authenticate(); the verdict and the Authentication-Results (RFC 8601) and Received-SPF
// (RFC 7208 §9.1) header fields to prepend.
//
// Invariants:
// - Every DNS query goes through the resolver given (no global DNS, testable).
// - rsa-sha1 signatures never count (RFC 8301 §3.1); keys under 1024 bits never count.
// - BIMI is off: a logo is no authentication result and costs HTTPS fetches.
// - Forged Authentication-Results claiming our authserv-id must be removed from the message
//   before it is stored (stripForgedAuthResults in auth-results.ts, RFC 8601 §5); this module
//   only reads the message.
// - The header strings are folded, CRLF-terminated and ready to prepend, in the order given.

import { type AuthenticateResult, authenticate, type DMARCResult, type DNSResolver } from 'mailauth';
import { type DnsResolver, resolveFunction } from '../net/dns.ts';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DmarcVerdict {
  /** pass, fail, none (no record, or not evaluable), temperror, permerror. */
  result: string;
  /** The policy that applies to this message: p=, or sp=/np= for an inherited record, one level
   * lower with t=y (RFC 9989 §4.7). null when no DMARC record applies. */
  policy: DmarcPolicy | null;
  /** The RFC5322.From domain DMARC evaluated (header.from), null if it could not be evaluated. */
  domain: string | null;
  /** Where the applied record was published: the From domain or an ancestor. */
  policyDomain: string | null;
  /** Why DMARC could not be evaluated: no From domain, several From fields or domains
   * (RFC 9989 §5.3.1; §11.5 suggests treating such mail as suspicious). */
  skipReason: string | null;
}

export interface AuthVerdict {
  /** "Authentication-Results: <hostname>; …\r\n", folded. */
  header: string;
  /** "Received-SPF: …\r\n", folded, or null when SPF was not evaluated. */
  receivedSpfHeader: string | null;
  spf: string;
  /** The best DKIM result among the signatures: pass if any passed; none if unsigned. */
  dkim: string;
  /** Signing domains (d=) of the signatures that passed. */
  dkimPassDomains: string[];
  dmarc: DmarcVerdict;
  arc: string;
}

export interface VerifyInput {
  message: Buffer;
  /** The connecting client's address. */
  ip: string;
  /** EHLO/HELO argument. */
  helo: string;
  /** MAIL FROM address without brackets; '' for the null reverse-path. */
  mailFrom: string;
  /** Our authserv-id: the MX host name. */
  hostname: string;
  resolver: DnsResolver;
}

// Most favourable first: what decides "best" when a message carries several signatures.
const DKIM_RANK = ['pass', 'temperror', 'fail', 'policy', 'neutral', 'permerror', 'none'];

export async function verifyMessage(input: VerifyInput): Promise<AuthVerdict> {
  const result = await authenticate(input.message, {
    ip: input.ip,
    helo: input.helo,
    sender: input.mailFrom,
    mta: input.hostname,
    resolver: resolveFunction(input.resolver) as DNSResolver,
    trustReceived: false, // the client's own Received lines are claims, not facts
    rejectRsaSha1: true,
    minBitLength: 1024,
    disableBimi: true,
  });
  const { authResults, receivedSpf } = splitHeaders(result.headers);
  if (!authResults) throw new Error('mailauth returned no Authentication-Results header');

  const passing = result.dkim.results.filter((r) => r.status.result === 'pass');
  return {
    header: authResults,
    receivedSpfHeader: receivedSpf,
    spf: result.spf ? result.spf.status.result : 'none',
    dkim: bestDkim(result),
    dkimPassDomains: [...new Set(passing.map((r) => r.signingDomain ?? '').filter(Boolean))],
    dmarc: dmarcVerdict(result.dmarc, result.dmarcSkipReason),
    arc: result.arc ? result.arc.status.result : 'none',
  };
}

function bestDkim(result: AuthenticateResult): string {
  let best = 'none';
  for (const row of result.dkim.results) {
    const rank = DKIM_RANK.indexOf(row.status.result);
    if (rank !== -1 && rank < DKIM_RANK.indexOf(best)) best = row.status.result;
  }
  return best;
}

function dmarcVerdict(dmarc: DMARCResult | false, skipReason: string | undefined): DmarcVerdict {
  if (!dmarc) {
    return { result: 'none', policy: null, domain: null, policyDomain: null, skipReason: skipReason ?? null };
  }
  const result = dmarc.status.result;
  // mailauth's `policy` is already the applied one (p, sp or np, lowered by t=y); with no
  // record (result none) it is absent. A record without a valid p= is "none" too.
  const policy = result === 'none' ? null : asPolicy(dmarc.policy);
  return {
    result,
    policy,
    domain: dmarc.status.header?.from ?? null,
    policyDomain: dmarc.policyDomain ?? null,
    skipReason: null,
  };
}

function asPolicy(value: unknown): DmarcPolicy | null {
  return value === 'none' || value === 'quarantine' || value === 'reject' ? value : null;
}

/** mailauth joins Received-SPF and Authentication-Results into one string; take them apart. */
function splitHeaders(headers: string): { authResults: string | null; receivedSpf: string | null } {
  let authResults: string | null = null;
  let receivedSpf: string | null = null;
  // a field ends at a CRLF not followed by WSP (RFC 5322 §2.2.3)
  for (const field of headers.split(/\r\n(?![ \t])/)) {
    if (field === '') continue;
    const name = field.slice(0, field.indexOf(':')).toLowerCase();
    if (name === 'authentication-results') authResults = `${field}\r\n`;
    else if (name === 'received-spf') receivedSpf = `${field}\r\n`;
  }
  return { authResults, receivedSpf };
}
