// SMTP TLS Reporting (RFC 8460): the `_smtp._tls` TXT record (§3), counting TLS session
// outcomes per policy over one UTC day, and the JSON report (§4). Sending the report (mail to a
// mailto: rua, POST to an https: rua, §5) is the caller's.
//
// Invariants:
// - Several v=TLSRPTv1 records mean no reporting (§3); rua URIs are only mailto: and https:,
//   separated by commas (a comma inside a URI must be %2C-encoded).
// - One report per policy domain and UTC day; a policy (type, strings, MX patterns) is one
//   entry with its success/failure totals; identical failure details are merged and counted.
// - Reports never carry message content or recipients: only hosts, IPs and result types.

import { randomUUID } from 'node:crypto';
import type { TlsRptPolicyType, TlsRptResultType } from './tls-requirements.ts';

export type RuaUri =
  | { kind: 'mailto'; address: string; uri: string }
  | { kind: 'https'; url: string; uri: string };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses the TXT answer of `_smtp._tls.DOMAIN` (RFC 8460 §3). */
export function parseTlsRptRecord(records: readonly (readonly string[])[]): ParseResult<{ rua: RuaUri[] }> {
  const candidates = records.map((r) => r.join('')).filter((r) => /^v=TLSRPTv1[ \t]*(;|$)/.test(r));
  if (candidates.length !== 1) {
    return {
      ok: false,
      reason: candidates.length === 0 ? 'no v=TLSRPTv1 record' : 'several v=TLSRPTv1 records',
    };
  }
  const fields = (candidates[0] ?? '').split(';').map((f) => f.trim());
  if (fields.at(-1) === '') fields.pop();
  let rua: RuaUri[] | undefined;
  for (const field of fields.slice(1)) {
    const eq = field.indexOf('=');
    if (eq <= 0) return { ok: false, reason: `malformed field ${JSON.stringify(field)}` };
    if (field.slice(0, eq) !== 'rua' || rua) continue; // extensions are ignored
    rua = [];
    for (const raw of field.slice(eq + 1).split(',')) {
      const uri = raw.trim();
      const parsed = parseRua(uri);
      if (!parsed) return { ok: false, reason: `unsupported rua URI ${JSON.stringify(uri)}` };
      rua.push(parsed);
    }
  }
  if (!rua || rua.length === 0) return { ok: false, reason: 'no rua' };
  return { ok: true, value: { rua } };
}

function parseRua(uri: string): RuaUri | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol === 'mailto:') {
    const address = decodeURIComponent(url.pathname);
    return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address) ? { kind: 'mailto', address, uri } : undefined;
  }
  if (url.protocol === 'https:' && url.hostname !== '') return { kind: 'https', url: url.href, uri };
  return undefined;
}

/** The policy a session was made under (RFC 8460 §4.4 "policy"). */
export interface TlsRptPolicy {
  type: TlsRptPolicyType;
  /** Policy domain: the recipient domain. */
  domain: string;
  /** sts: the policy lines; tlsa: the TLSA records in presentation form; none: empty. */
  strings?: readonly string[];
  /** sts: the mx patterns; tlsa: the MX host. */
  mxHosts?: readonly string[];
}

export interface TlsRptFailure {
  resultType: TlsRptResultType;
  sendingMtaIp?: string;
  receivingMxHostname?: string;
  receivingMxHelo?: string;
  receivingIp?: string;
  failureReasonCode?: string;
  additionalInformation?: string;
}

interface PolicyTally {
  policy: TlsRptPolicy;
  success: number;
  failure: number;
  details: Map<string, { detail: TlsRptFailure; count: number }>;
}

const DAY_MS = 86_400_000;
const utcDay = (at: Date): string => at.toISOString().slice(0, 10);
const policyKey = (p: TlsRptPolicy): string =>
  JSON.stringify([p.type, p.domain.toLowerCase(), p.strings ?? [], p.mxHosts ?? []]);

/** Counts session outcomes per day, policy domain and policy (in memory; a store may replace it). */
export class TlsRptRecorder {
  readonly #days = new Map<string, Map<string, Map<string, PolicyTally>>>();

  /** One TLS session (or attempt) outcome; a failure counts one failed session. */
  record(
    policy: TlsRptPolicy,
    outcome: { ok: true } | { ok: false; failure: TlsRptFailure },
    at = new Date(),
  ): void {
    const day = utcDay(at);
    const domain = policy.domain.toLowerCase();
    const domains = this.#days.get(day) ?? new Map<string, Map<string, PolicyTally>>();
    this.#days.set(day, domains);
    const policies = domains.get(domain) ?? new Map<string, PolicyTally>();
    domains.set(domain, policies);
    const key = policyKey(policy);
    const tally = policies.get(key) ?? {
      policy: { ...policy, domain },
      success: 0,
      failure: 0,
      details: new Map(),
    };
    policies.set(key, tally);
    if (outcome.ok) {
      tally.success++;
      return;
    }
    tally.failure++;
    const detailKey = JSON.stringify(Object.entries(outcome.failure).sort());
    const entry = tally.details.get(detailKey) ?? { detail: outcome.failure, count: 0 };
    entry.count++;
    tally.details.set(detailKey, entry);
  }

  /** The UTC days ('YYYY-MM-DD') with data, oldest first. */
  days(): string[] {
    return [...this.#days.keys()].sort();
  }

  /** The policy domains with data for a UTC day ('YYYY-MM-DD'). */
  domains(day: string): string[] {
    return [...(this.#days.get(day)?.keys() ?? [])];
  }

  /** The tallies of one domain and day (empty if none). */
  tallies(day: string, domain: string): PolicyTally[] {
    return [...(this.#days.get(day)?.get(domain.toLowerCase())?.values() ?? [])];
  }

  /** Forgets a day once its reports are sent. */
  forget(day: string): void {
    this.#days.delete(day);
  }
}

export interface ReportOptions {
  organizationName: string;
  /** An address or URI for questions about the report. */
  contactInfo: string;
  /** Default: a random UUID. */
  reportId?: string;
}

/** The RFC 8460 §4 JSON report of one policy domain for one UTC day. */
export function buildTlsRptReport(
  recorder: TlsRptRecorder,
  day: string,
  domain: string,
  opts: ReportOptions,
): Record<string, unknown> | undefined {
  const tallies = recorder.tallies(day, domain);
  if (tallies.length === 0) return undefined;
  const start = new Date(`${day}T00:00:00Z`);
  return {
    'organization-name': opts.organizationName,
    'date-range': {
      'start-datetime': start.toISOString().replace('.000Z', 'Z'),
      'end-datetime': new Date(start.getTime() + DAY_MS - 1000).toISOString().replace('.000Z', 'Z'),
    },
    'contact-info': opts.contactInfo,
    'report-id': opts.reportId ?? randomUUID(),
    policies: tallies.map((t) => ({
      policy: {
        'policy-type': t.policy.type,
        ...(t.policy.strings?.length ? { 'policy-string': [...t.policy.strings] } : {}),
        'policy-domain': t.policy.domain,
        ...(t.policy.mxHosts?.length ? { 'mx-host': [...t.policy.mxHosts] } : {}),
      },
      summary: { 'total-successful-session-count': t.success, 'total-failure-session-count': t.failure },
      ...(t.details.size > 0 ? { 'failure-details': [...t.details.values()].map(failureDetails) } : {}),
    })),
  };
}

function failureDetails({
  detail,
  count,
}: {
  detail: TlsRptFailure;
  count: number;
}): Record<string, unknown> {
  const out: Record<string, unknown> = { 'result-type': detail.resultType };
  if (detail.sendingMtaIp) out['sending-mta-ip'] = detail.sendingMtaIp;
  if (detail.receivingMxHostname) out['receiving-mx-hostname'] = detail.receivingMxHostname;
  if (detail.receivingMxHelo) out['receiving-mx-helo'] = detail.receivingMxHelo;
  if (detail.receivingIp) out['receiving-ip'] = detail.receivingIp;
  out['failed-session-count'] = count;
  if (detail.additionalInformation) out['additional-information'] = detail.additionalInformation;
  if (detail.failureReasonCode) out['failure-reason-code'] = detail.failureReasonCode;
  return out;
}

/** §5.1 file name: sender!policy-domain!begin!end!unique-id.json.gz (timestamps in seconds). */
export function tlsRptFilename(sender: string, domain: string, day: string, uniqueId: string): string {
  const begin = Date.parse(`${day}T00:00:00Z`) / 1000;
  return `${sender}!${domain}!${begin}!${begin + 86_399}!${uniqueId}.json.gz`;
}

/** §5.3 subject of a report sent by mail. */
export function tlsRptSubject(domain: string, submitter: string, reportId: string): string {
  return `Report Domain: ${domain} Submitter: ${submitter} Report-ID: <${reportId}>`;
}

/** TLSA records in presentation form for a tlsa policy-string ("3 1 1 <hex>"). */
export function tlsaStrings(
  records: readonly { usage: number; selector: number; matchingType: number; data: Buffer }[],
): string[] {
  return records.map((r) => `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString('hex')}`);
}
