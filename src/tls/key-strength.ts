// What a certificate must be signed with and what key it may carry (DESIGN
// invariant 2: "certificates signed with SHA-256 or better"). Signatures are judged
// by OID against an allow-list, never by parsing algorithm names: SHA-2 (256/384/512)
// with RSA PKCS#1 v1.5 (RFC 4055 §5), RSASSA-PSS with a SHA-2 hash in its
// parameters (RFC 4055 §3.1 — an absent hash means SHA-1, so it is refused),
// ECDSA with SHA-2 (RFC 5758 §3.2), Ed25519/Ed448 (RFC 8410). Keys: RSA ≥ 2048 bits
// (NIST SP 800-131A), ECDSA only on the curves TLS 1.3 can use (P-256, P-384, P-521;
// RFC 8446 §4.2.3), Ed25519, Ed448. Everything else (SHA-1, MD5, SHA-224, DSA, small
// RSA, other curves) is refused with a reason. ML-DSA joins both lists when
// policy.ts offers its signature schemes, not before: a key the handshake cannot
// use must fail here, at startup, not in every client's handshake.

import type { X509Certificate } from 'node:crypto';

const RSASSA_PSS = '1.2.840.113549.1.1.10';
const STRONG_SIGNATURES = new Map<string, string>([
  ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption'],
  ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption'],
  ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption'],
  ['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256'],
  ['1.2.840.10045.4.3.3', 'ecdsa-with-SHA384'],
  ['1.2.840.10045.4.3.4', 'ecdsa-with-SHA512'],
  ['1.3.101.112', 'Ed25519'],
  ['1.3.101.113', 'Ed448'],
]);

/** DER of the SHA-256/384/512 OIDs (2.16.840.1.101.3.4.2.1..3), as they appear in PSS parameters. */
const SHA2_OID_DER = [1, 2, 3].map((n) => Buffer.from([6, 9, 0x60, 0x86, 0x48, 1, 0x65, 3, 4, 2, n]));

const MIN_RSA_BITS = 2048;
const EC_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const OTHER_KEY_TYPES = new Set(['ed25519', 'ed448']);

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

/** One DER TLV at `offset` (definite lengths only, as DER requires). */
function readTlv(der: Buffer, offset: number): Tlv {
  const tag = der[offset]!;
  let len = der[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

/**
 * The hash OID of an RSASSA-PSS signatureAlgorithm (Certificate ::= SEQUENCE {
 * tbsCertificate, signatureAlgorithm, signatureValue }; RSASSA-PSS-params has
 * hashAlgorithm [0] EXPLICIT AlgorithmIdentifier DEFAULT sha1). Returns true if SHA-2.
 */
function pssHashIsSha2(raw: Buffer): boolean {
  const cert = readTlv(raw, 0);
  const tbs = readTlv(raw, cert.start);
  const sigAlg = readTlv(raw, tbs.end);
  const oid = readTlv(raw, sigAlg.start);
  if (oid.end >= sigAlg.end) return false; // no parameters: every default is SHA-1
  const params = readTlv(raw, oid.end);
  if (params.start >= params.end) return false;
  const first = readTlv(raw, params.start);
  if (first.tag !== 0xa0) return false; // hashAlgorithm absent: SHA-1
  const hashAlg = readTlv(raw, first.start);
  const hashOid = readTlv(raw, hashAlg.start);
  const hashOidDer = raw.subarray(hashOid.start - 2, hashOid.end);
  return SHA2_OID_DER.some((d) => d.equals(hashOidDer));
}

/** Why the certificate's signature is too weak, or undefined if it is SHA-256 or better. */
export function weakSignatureReason(cert: X509Certificate): string | undefined {
  const oid = cert.signatureAlgorithmOid;
  const name = cert.signatureAlgorithm ?? oid;
  if (STRONG_SIGNATURES.has(oid)) return undefined;
  if (oid === RSASSA_PSS) {
    let ok = false;
    try {
      ok = pssHashIsSha2(cert.raw);
    } catch {
      ok = false;
    }
    return ok
      ? undefined
      : 'is signed with RSASSA-PSS over SHA-1 or an unknown hash; SHA-256 or better is required';
  }
  return `is signed with ${name}; a signature with SHA-256 or better is required`;
}

/** Why the certificate's public key is too weak, or undefined if it is acceptable. */
export function weakKeyReason(cert: X509Certificate): string | undefined {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    return bits >= MIN_RSA_BITS
      ? undefined
      : `has a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`;
  }
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    return EC_CURVES.has(curve) ? undefined : `has an EC key on ${curve}; P-256, P-384 or P-521 is required`;
  }
  return OTHER_KEY_TYPES.has(type) ? undefined : `has a ${type} key, which TLS cannot use here`;
}
