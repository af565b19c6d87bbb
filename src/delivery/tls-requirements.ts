// The TLS requirements of each MX candidate of a destination, from its MTA-STS policy (RFC 8461)
// and the DANE state of each host (RFC 7672): whether to try the host at all, whether TLS is
// required, how the certificate is checked, and what a TLS failure means.
//
// Invariants:
// - DANE takes precedence over MTA-STS (RFC 8461 §2): a host with usable secure TLSA records is
//   authenticated by DANE only; a host whose TLSA lookup failed is not tried now (RFC 7672 §2.2).
// - MTA-STS enforce: a host that matches no mx pattern is never tried (§4.1, §5); a matching
//   host needs TLS with a PKIX-valid certificate for the host name (§4.2). Never a cleartext
//   fallback under enforce or DANE: the failure defers the host.
// - MTA-STS testing and no policy: opportunistic TLS, cleartext after a TLS failure allowed;
//   under testing the PKIX check still runs so its failures reach TLS-RPT (RFC 8460).
// - The certificate checks return { ok, reason, result } in the shape of the SMTP client's
//   `verify` hook, `result` being the RFC 8460 §4.3.2 result type for a report.

import type { TLSSocket } from 'node:tls';
import { daneVerifier, type Tlsa } from './dane.ts';
import type { DaneState } from './dane-lookup.ts';
import { type MtaStsPolicy, policyAllowsMx } from './mta-sts-policy.ts';

/** RFC 8460 §4.3.2.1 result types (negotiation, DANE and MTA-STS failures). */
export const TLS_RPT_RESULT_TYPES = [
  'starttls-not-supported',
  'certificate-host-mismatch',
  'certificate-expired',
  'certificate-not-trusted',
  'validation-failure',
  'tlsa-invalid',
  'dnssec-invalid',
  'dane-required',
  'sts-policy-fetch-error',
  'sts-policy-invalid',
  'sts-webpki-invalid',
] as const;
export type TlsRptResultType = (typeof TLS_RPT_RESULT_TYPES)[number];

/** A verify result that names one of the RFC 8460 result types, or undefined. */
export function asTlsRptResult(value: string | null | undefined): TlsRptResultType | undefined {
  return (TLS_RPT_RESULT_TYPES as readonly string[]).includes(value ?? '')
    ? (value as TlsRptResultType)
    : undefined;
}

/** RFC 8460 §4.3: the kind of policy a report is about. */
export type TlsRptPolicyType = 'tlsa' | 'sts' | 'no-policy-found';

export type CertificateCheck =
  | { kind: 'dane'; records: Tlsa[]; names: string[] }
  | { kind: 'pkix'; names: string[] }
  | { kind: 'none' };

export type MxTlsPlan =
  | {
      host: string;
      action: 'skip';
      reason: string;
      /** True when the destination should be retried later (deferral), not bounced. */
      temporary: boolean;
      policy: TlsRptPolicyType;
      /** The failure to record in TLS-RPT for this host. */
      failure?: TlsRptResultType;
    }
  | {
      host: string;
      action: 'try';
      /** 'required': no mail without TLS; 'opportunistic': STARTTLS when offered. */
      tls: 'required' | 'opportunistic';
      check: CertificateCheck;
      /** True: a failed check aborts the connection; false: it is only reported. */
      enforceCheck: boolean;
      /** True: after a TLS failure the host may be retried in cleartext. */
      cleartextFallback: boolean;
      policy: TlsRptPolicyType;
      /** A failure known before connecting (MX outside a testing policy), for TLS-RPT. */
      failure?: TlsRptResultType;
      reason: string;
    };

export interface TlsRequirementsInput {
  /** MX host names, in the order they will be tried. */
  hosts: readonly string[];
  /** The MTA-STS policy in force for the domain, if any. */
  sts: MtaStsPolicy | undefined;
  /** DANE state per host (lower case); a missing host means no DANE. */
  dane?: ReadonlyMap<string, DaneState>;
}

const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

function planFor(host: string, sts: MtaStsPolicy | undefined, dane: DaneState | undefined): MxTlsPlan {
  const enforce = sts?.mode === 'enforce';
  const testing = sts?.mode === 'testing';
  const stsMatches = sts !== undefined && policyAllowsMx(sts, host);
  if (dane?.kind === 'failed') {
    return {
      host,
      action: 'skip',
      reason: `DANE: ${dane.reason}`,
      temporary: true,
      policy: 'tlsa',
      failure: 'dnssec-invalid',
    };
  }
  if (dane?.kind === 'usable') {
    return {
      host,
      action: 'try',
      tls: 'required',
      check: { kind: 'dane', records: dane.records, names: dane.names },
      enforceCheck: true,
      cleartextFallback: false,
      policy: 'tlsa',
      reason: `DANE: ${dane.reason}`,
    };
  }
  if (enforce && !stsMatches) {
    return {
      host,
      action: 'skip',
      reason: `MTA-STS enforce: ${host} matches no mx pattern of the policy`,
      temporary: true,
      policy: 'sts',
      failure: 'validation-failure',
    };
  }
  if (dane?.kind === 'unusable') {
    // RFC 7672 §2.2: TLS is still mandatory; MTA-STS enforce adds its PKIX check
    return {
      host,
      action: 'try',
      tls: 'required',
      check: enforce ? { kind: 'pkix', names: [host] } : { kind: 'none' },
      enforceCheck: enforce,
      cleartextFallback: false,
      policy: 'tlsa',
      reason: `DANE: ${dane.reason}`,
    };
  }
  if (enforce) {
    return {
      host,
      action: 'try',
      tls: 'required',
      check: { kind: 'pkix', names: [host] },
      enforceCheck: true,
      cleartextFallback: false,
      policy: 'sts',
      reason: 'MTA-STS enforce',
    };
  }
  if (testing) {
    return {
      host,
      action: 'try',
      tls: 'opportunistic',
      check: { kind: 'pkix', names: [host] },
      enforceCheck: false,
      cleartextFallback: true,
      policy: 'sts',
      ...(stsMatches ? {} : { failure: 'validation-failure' as const }),
      reason: stsMatches
        ? 'MTA-STS testing'
        : `MTA-STS testing: ${host} matches no mx pattern (reported only)`,
    };
  }
  return {
    host,
    action: 'try',
    tls: 'opportunistic',
    check: { kind: 'none' },
    enforceCheck: false,
    cleartextFallback: true,
    policy: 'no-policy-found',
    reason: sts ? 'MTA-STS mode none' : 'no TLS policy',
  };
}

/** One plan per host, in the given order. */
export function decideTlsRequirements(input: TlsRequirementsInput): MxTlsPlan[] {
  return input.hosts.map((h) => planFor(normalize(h), input.sts, input.dane?.get(normalize(h))));
}

export interface CheckResult {
  ok: boolean;
  reason?: string;
  /** RFC 8460 result type of a failure. */
  result?: TlsRptResultType;
}

function pkixFailure(socket: TLSSocket, names: readonly string[]): CheckResult | undefined {
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'certificate not trusted');
    if (code === 'CERT_HAS_EXPIRED') return { ok: false, reason: code, result: 'certificate-expired' };
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
      return { ok: false, reason: code, result: 'certificate-host-mismatch' };
    }
    return { ok: false, reason: code, result: 'certificate-not-trusted' };
  }
  const leaf = socket.getPeerX509Certificate();
  const named = names.some(
    (n) => leaf?.checkHost(normalize(n), { subject: 'never', partialWildcards: false }) !== undefined,
  );
  if (!named) {
    return {
      ok: false,
      reason: `certificate is not for ${names.join(' or ')}`,
      result: 'certificate-host-mismatch',
    };
  }
  return undefined;
}

/**
 * The certificate decision for a plan's check, for the SMTP client's `verify` hook. The PKIX
 * check relies on the handshake's chain verification (node's `authorized`, against the system
 * roots or the client's `ca`) and then checks the names itself.
 */
export function certificateVerifier(
  check: CertificateCheck,
  now: () => Date = () => new Date(),
): (socket: TLSSocket) => CheckResult {
  switch (check.kind) {
    case 'none':
      return () => ({ ok: true, reason: 'no certificate check (opportunistic TLS)' });
    case 'pkix':
      return (socket) =>
        pkixFailure(socket, check.names) ?? { ok: true, reason: 'PKIX-valid for the MX host' };
    case 'dane': {
      const dane = daneVerifier(check.records, check.names, now);
      return (socket) => {
        const r = dane(socket);
        return r.ok ? r : { ...r, result: 'validation-failure' };
      };
    }
  }
}

export type TlsFailureKind = 'starttls-not-supported' | 'handshake' | 'certificate';

export interface TlsFailureDecision {
  /** 'defer': do not send to this host now; 'cleartext': the host may be retried without TLS. */
  next: 'defer' | 'cleartext' | 'continue';
  result: TlsRptResultType;
}

/**
 * What a TLS failure on a host means. A certificate failure under a non-enforcing check is
 * reported and the session continues; otherwise enforce/DANE defer, opportunistic falls back.
 */
export function onTlsFailure(
  plan: Extract<MxTlsPlan, { action: 'try' }>,
  kind: TlsFailureKind,
  certificateResult: TlsRptResultType = 'certificate-not-trusted',
): TlsFailureDecision {
  const result: TlsRptResultType =
    kind === 'starttls-not-supported'
      ? 'starttls-not-supported'
      : kind === 'handshake'
        ? 'validation-failure'
        : certificateResult;
  if (kind === 'certificate' && !plan.enforceCheck) return { next: 'continue', result };
  return { next: plan.cleartextFallback ? 'cleartext' : 'defer', result };
}

/** When every plan skips its host: why, and whether to retry later. */
export function allHostsSkipped(
  plans: readonly MxTlsPlan[],
): { temporary: boolean; reason: string } | undefined {
  if (plans.length === 0 || plans.some((p) => p.action === 'try')) return undefined;
  const skips = plans.filter((p) => p.action === 'skip');
  return { temporary: skips.some((p) => p.temporary), reason: skips.map((p) => p.reason).join('; ') };
}
