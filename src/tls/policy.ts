// The one TLS policy for every listener (DESIGN invariant 2) and for outbound
// connections: TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0/1.1), ECDHE key
// exchange with AEAD suites only (RFC 7525 / BCP 195 §4.2, RFC 9325), TLS 1.3
// preferred with the hybrid post-quantum group X25519MLKEM768 offered first
// (draft-ietf-tls-ecdhe-mlkem), no compression (CRIME), no renegotiation
// (RFC 5746 attacks, CVE-2011-1473 DoS), handshake signatures SHA-256 or better.
// Invariants: every server secure context is built from tlsPolicyOptions(); do not
// add a CBC, RSA-key-exchange or SHA-1 suite here, and do not add a listener
// that builds its own options. A group this OpenSSL does not know is dropped
// (logged once by the caller through unsupportedGroups()), never fatal.

import { constants } from 'node:crypto';
import tls from 'node:tls';

/** TLS 1.2 suites: ECDHE only, AEAD only, ECDSA and RSA auth (Mozilla "intermediate" order). */
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/** TLS 1.3 suites (RFC 8446 §B.4): all AEAD; the CCM suites are left out as OpenSSL does by default. */
const TLS13_CIPHERSUITES = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
] as const;

/** Key-exchange groups in preference order; the hybrid PQ group first. */
const GROUPS = ['X25519MLKEM768', 'X25519', 'P-256', 'P-384'] as const;

/**
 * Handshake signature schemes (RFC 8446 §4.2.3): no SHA-1, no SHA-224. The
 * rsa_pkcs1 schemes remain for TLS 1.2 peers and certificate chains.
 */
const SIGALGS = [
  'ecdsa_secp256r1_sha256',
  'ecdsa_secp384r1_sha384',
  'ecdsa_secp521r1_sha512',
  'ed25519',
  'ed448',
  'rsa_pss_rsae_sha256',
  'rsa_pss_rsae_sha384',
  'rsa_pss_rsae_sha512',
  'rsa_pss_pss_sha256',
  'rsa_pss_pss_sha384',
  'rsa_pss_pss_sha512',
  'rsa_pkcs1_sha256',
  'rsa_pkcs1_sha384',
  'rsa_pkcs1_sha512',
] as const;

/** SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE. */
const SERVER_SECURE_OPTIONS =
  constants.SSL_OP_NO_COMPRESSION |
  constants.SSL_OP_NO_RENEGOTIATION |
  constants.SSL_OP_CIPHER_SERVER_PREFERENCE;

/** A client refuses a server's renegotiation request too; it has no cipher preference of its own. */
const CLIENT_SECURE_OPTIONS = constants.SSL_OP_NO_COMPRESSION | constants.SSL_OP_NO_RENEGOTIATION;

export const TLS_POLICY = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  tls12Ciphers: Object.freeze([...TLS12_CIPHERS]),
  tls13Ciphersuites: Object.freeze([...TLS13_CIPHERSUITES]),
  groups: Object.freeze([...GROUPS]),
  sigalgs: Object.freeze([...SIGALGS]),
  /** OpenSSL security level 2: 112-bit security, no RSA/DH below 2048 bits, no SHA-1 signatures. */
  securityLevel: 2,
  serverSecureOptions: SERVER_SECURE_OPTIONS,
  clientSecureOptions: CLIENT_SECURE_OPTIONS,
} as const);

/** True if this OpenSSL accepts the group name (e.g. X25519MLKEM768 needs OpenSSL 3.5). */
function groupSupported(group: string): boolean {
  try {
    tls.createSecureContext({ ecdhCurve: group });
    return true;
  } catch {
    return false;
  }
}

let cachedGroups: { supported: string[]; unsupported: string[] } | undefined;

function probeGroups(): { supported: string[]; unsupported: string[] } {
  if (cachedGroups === undefined) {
    const supported: string[] = [];
    const unsupported: string[] = [];
    for (const g of TLS_POLICY.groups) (groupSupported(g) ? supported : unsupported).push(g);
    cachedGroups = { supported, unsupported };
  }
  return cachedGroups;
}

/** The policy's groups that this runtime's OpenSSL accepts, in preference order. */
export function supportedGroups(): readonly string[] {
  return probeGroups().supported;
}

/** The policy's groups this OpenSSL does not know (dropped from the offer); log these at startup. */
export function unsupportedGroups(): readonly string[] {
  return probeGroups().unsupported;
}

function cipherString(): string {
  return [
    ...TLS_POLICY.tls13Ciphersuites,
    ...TLS_POLICY.tls12Ciphers,
    `@SECLEVEL=${TLS_POLICY.securityLevel}`,
  ].join(':');
}

function commonOptions(): tls.SecureContextOptions {
  const groups = supportedGroups();
  return {
    minVersion: TLS_POLICY.minVersion,
    maxVersion: TLS_POLICY.maxVersion,
    ciphers: cipherString(),
    sigalgs: TLS_POLICY.sigalgs.join(':'),
    // With an empty list OpenSSL would fall back to its defaults; keep them explicit instead.
    ...(groups.length > 0 ? { ecdhCurve: groups.join(':') } : {}),
  };
}

/** Options for every server-side secure context (listeners, STARTTLS upgrades). */
export function tlsPolicyOptions(): tls.SecureContextOptions {
  return { ...commonOptions(), honorCipherOrder: true, secureOptions: TLS_POLICY.serverSecureOptions };
}

/** Options for outbound connections (delivery): same versions, suites and groups. */
export function tlsClientPolicyOptions(): tls.SecureContextOptions {
  return { ...commonOptions(), secureOptions: TLS_POLICY.clientSecureOptions };
}

/** A server secure context under the policy for one certificate (chain) and key. */
export function createServerSecureContext(cert: { certPem: string; keyPem: string }): tls.SecureContext {
  return tls.createSecureContext({ ...tlsPolicyOptions(), cert: cert.certPem, key: cert.keyPem });
}
