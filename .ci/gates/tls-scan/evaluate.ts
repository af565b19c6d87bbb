// The TLS gate's verdict over one testssl.sh 3.0.8 flat JSON report (--jsonfile): a
// list of { id, severity, finding }. Pure: no I/O. A listener fails on
//   - any finding rated MEDIUM, HIGH or CRITICAL, unless its id is in EXCLUSIONS below,
//     and any of testssl's own scan problems (WARN/FATAL), unless TOLERATED_SCAN_PROBLEMS
//     names it (checks that rate INFO only);
//   - any protocol below TLS 1.2 offered (RFC 8996), or a protocol result missing;
//   - any offered cipher without forward secrecy (key exchange not (EC)DHE) or without
//     AEAD (RFC 9325 §4.2, DESIGN invariant 2), or a cipher list missing;
//   - client-initiated renegotiation accepted (CVE-2011-1473), even when testssl calls it
//     "mitigated" (accepted, then rate-limited), or its result missing.
// Invariants: an unknown or missing result is a failure, never a pass (a scan that did
// not run must not look clean). EXCLUSIONS lists certificate-trust findings only, each
// with the reason the test's own CA and a correct subjectAltName cannot remove it.

export interface Finding {
  readonly id: string;
  readonly severity: string;
  readonly finding: string;
}

/** Rule classes; the control scan must trigger each of them. */
export type RuleClass =
  | 'severity'
  | 'protocol'
  | 'cipher-fs'
  | 'cipher-aead'
  | 'client-renegotiation'
  | 'missing';

export interface Failure {
  readonly rule: RuleClass;
  readonly id: string;
  readonly detail: string;
}

export interface Verdict {
  readonly failures: readonly Failure[];
  /** Findings at MEDIUM or worse that EXCLUSIONS waived, and tolerated scan problems, with the reason. */
  readonly excluded: readonly { id: string; severity: string; finding: string; reason: string }[];
  /** Count of findings per testssl severity (OK, INFO, LOW, MEDIUM, ...), exclusions included. */
  readonly counts: Readonly<Record<string, number>>;
  readonly protocols: readonly string[];
  readonly ciphers: readonly string[];
}

/**
 * Certificate-trust findings that --add-ca and a correct SAN cannot remove. Keep this
 * list short; every entry needs a reason a reviewer can check.
 */
export const EXCLUSIONS: Readonly<Record<string, string>> = Object.freeze({
  cert_revocation:
    'HIGH "Neither CRL nor OCSP URI provided": the throwaway scan CA has no CRL or OCSP ' +
    'responder, and a fake URI would only hide the check; a production certificate comes ' +
    'from a public CA (ACME) that publishes revocation information.',
});

/**
 * testssl's own scan problems (severity WARN, not a rating of the server) on checks that
 * only ever rate INFO, so a failed check cannot hide a finding. Everything else that
 * testssl could not check fails the gate.
 */
export const TOLERATED_SCAN_PROBLEMS: Readonly<Record<string, string>> = Object.freeze({
  sessionresumption_ticket:
    'testssl 3.0.8 runs `openssl s_client -sess_out` with stdin at EOF, so s_client often exits ' +
    "before a TLS 1.3 server's NewSessionTicket arrives and the resumption step has no session " +
    'file (a bare Node.js server shows the same: 8 of 12 connections); the check rates INFO only.',
});

const FAILING_SEVERITIES = new Set(['MEDIUM', 'HIGH', 'CRITICAL', 'WARN', 'FATAL']);
const OLD_PROTOCOLS = ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1'] as const;
const REQUIRED_PROTOCOLS = [...OLD_PROTOCOLS, 'TLS1_2', 'TLS1_3'] as const;
/** testssl's "Encryption" column for AEAD ciphers (GCM, CCM, ChaCha20-Poly1305). */
const AEAD_ENCRYPTION = /^(AESGCM|AESCCM8?|ChaCha20|ARIAGCM|CamelliaGCM)$/i;
/** testssl's "KeyExch." column for ephemeral (EC)DH key exchange (TLS 1.3 shows "ECDH 253"). */
const FS_KEY_EXCHANGE = /^(ECDH|DH|X25519|X448)/i;

/**
 * testssl -e prints each offered cipher as
 * "xc02b   ECDHE-ECDSA-AES128-GCM-SHA256  ECDH 253   AESGCM  128  TLS_ECDHE_...":
 * hexcode, OpenSSL name, key exchange (one or two words), encryption, bits, IANA name.
 */
export function parseCipher(finding: string): { name: string; kx: string; enc: string } | null {
  const m = /^x[0-9a-f]+\s+(\S+)\s+(\S+(?: \d+)?)\s+(\S+)\s+\d+\s+\S+/i.exec(finding.trim());
  if (m === null) return null;
  return { name: m[1]!, kx: m[2]!, enc: m[3]! };
}

export function evaluate(findings: readonly Finding[]): Verdict {
  const failures: Failure[] = [];
  const excluded: { id: string; severity: string; finding: string; reason: string }[] = [];
  const counts: Record<string, number> = {};
  const byId = new Map<string, Finding>();
  for (const f of findings) {
    counts[f.severity] = (counts[f.severity] ?? 0) + 1;
    byId.set(f.id, f);
    if (!FAILING_SEVERITIES.has(f.severity)) continue;
    const tolerated = f.severity === 'WARN' ? TOLERATED_SCAN_PROBLEMS[f.id] : undefined;
    const reason = tolerated ?? EXCLUSIONS[f.id];
    if (reason !== undefined) excluded.push({ id: f.id, severity: f.severity, finding: f.finding, reason });
    else failures.push({ rule: 'severity', id: f.id, detail: `${f.severity}: ${f.finding}` });
  }

  const protocols: string[] = [];
  for (const id of REQUIRED_PROTOCOLS) {
    const f = byId.get(id);
    if (f === undefined) {
      failures.push({ rule: 'missing', id, detail: 'no protocol result in the scan' });
      continue;
    }
    const offered = !/^not offered/i.test(f.finding);
    if (offered) protocols.push(id);
    if (offered && (OLD_PROTOCOLS as readonly string[]).includes(id))
      failures.push({ rule: 'protocol', id, detail: `below TLS 1.2: ${f.finding}` });
  }
  if (!protocols.includes('TLS1_2') && !protocols.includes('TLS1_3'))
    failures.push({ rule: 'missing', id: 'TLS1_2', detail: 'neither TLS 1.2 nor TLS 1.3 offered' });

  const ciphers: string[] = [];
  for (const f of findings) {
    if (!/^cipher_x[0-9a-f]+$/i.test(f.id)) continue;
    const c = parseCipher(f.finding);
    if (c === null) {
      failures.push({ rule: 'missing', id: f.id, detail: `unparsable cipher line: ${f.finding}` });
      continue;
    }
    ciphers.push(c.name);
    if (!FS_KEY_EXCHANGE.test(c.kx))
      failures.push({
        rule: 'cipher-fs',
        id: f.id,
        detail: `${c.name}: key exchange ${c.kx}, no forward secrecy`,
      });
    if (!AEAD_ENCRYPTION.test(c.enc))
      failures.push({ rule: 'cipher-aead', id: f.id, detail: `${c.name}: encryption ${c.enc}, not AEAD` });
  }
  if (ciphers.length === 0)
    failures.push({ rule: 'missing', id: 'cipher_*', detail: 'no offered cipher listed (was -e run?)' });

  const reneg = byId.get('secure_client_renego');
  if (reneg === undefined)
    failures.push({ rule: 'missing', id: 'secure_client_renego', detail: 'no renegotiation result' });
  // "not vulnerable, mitigated" (HTTP services) means renegotiation was accepted until
  // Node's rate limit cut the connection: DESIGN invariant 2 allows none, so it fails.
  else if (!/^not vulnerable$/i.test(reneg.finding.trim()))
    failures.push({
      rule: 'client-renegotiation',
      id: reneg.id,
      detail: `${reneg.severity}: ${reneg.finding}`,
    });

  return { failures, excluded, counts, protocols, ciphers };
}
