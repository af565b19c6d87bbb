// Certificate validation before a certificate is ever served (DESIGN invariants 2
// and 10): a listener opens only with a certificate that is currently valid
// (RFC 5280 §4.1.2.5), whose private key matches, whose key is strong enough and
// whose signatures — leaf and intermediates — use SHA-256 or better (see
// key-strength.ts). A PEM may hold a chain (leaf first, as certbot's fullchain.pem);
// every intermediate must be in date and must have issued the certificate before
// it (RFC 8446 §4.4.2: the sender's certificate MUST come first, each following
// certificate SHOULD directly certify the one preceding it). A self-signed root at
// the end is accepted without judging its self-signature (RFC 8446 §4.4.2.2).
// Invariant: errors name the problem but never carry key material.

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { SealpostError } from '../core/errors.ts';
import { weakKeyReason, weakSignatureReason } from './key-strength.ts';

export interface CertificateInfo {
  /** Subject DN as OpenSSL prints it (one attribute per line). */
  readonly subject: string;
  readonly issuer: string;
  /** DNS names and IP addresses from subjectAltName, without their `DNS:`/`IP Address:` prefixes. */
  readonly altNames: string[];
  readonly validFrom: Date;
  readonly validTo: Date;
  /** SHA-256 fingerprint of the leaf, colon-separated hex (as X509Certificate prints it). */
  readonly fingerprint256: string;
  /** Number of certificates in the PEM (leaf + intermediates). */
  readonly chainLength: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function invalid(message: string, detail: Record<string, unknown> = {}): SealpostError {
  return new SealpostError('tls.invalid-certificate', message, detail);
}

function parseChain(certPem: string): X509Certificate[] {
  const blocks = certPem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw invalid('no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw invalid(`certificate ${i + 1} in the chain cannot be parsed`);
    }
  });
}

function readKey(keyPem: string): KeyObject {
  try {
    return createPrivateKey(keyPem);
  } catch {
    throw invalid('private key cannot be read (expected an unencrypted PEM key, PKCS#8, SEC1 or PKCS#1)');
  }
}

function label(index: number): string {
  return index === 0 ? 'certificate' : `intermediate certificate ${index}`;
}

function checkDates(cert: X509Certificate, index: number, now: Date): void {
  if (now < cert.validFromDate) {
    throw invalid(`${label(index)} is not yet valid (valid from ${cert.validFromDate.toISOString()})`, {
      validFrom: cert.validFromDate.toISOString(),
    });
  }
  if (now > cert.validToDate) {
    throw invalid(`${label(index)} expired on ${cert.validToDate.toISOString()}`, {
      validTo: cert.validToDate.toISOString(),
    });
  }
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/** Split X509Certificate.subjectAltName ("DNS:a, IP Address:1.2.3.4", values with commas quoted). */
export function parseAltNames(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) return [];
  const names: string[] = [];
  const entry = /(DNS|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of subjectAltName.matchAll(entry)) {
    const value = m[2]!;
    names.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
  }
  return names;
}

/**
 * Check a certificate (chain) and its key for serving under the TLS policy.
 * Throws SealpostError('tls.invalid-certificate') naming the first problem found.
 */
export function validateCertificate(
  certPem: string,
  keyPem: string,
  now: Date = new Date(),
): CertificateInfo {
  const chain = parseChain(certPem);
  const leaf = chain[0]!;
  const key = readKey(keyPem);
  if (!leaf.checkPrivateKey(key)) throw invalid('private key does not match the certificate');
  chain.forEach((cert, i) => {
    checkDates(cert, i, now);
    const weakKey = weakKeyReason(cert);
    if (weakKey !== undefined) throw invalid(`${label(i)} ${weakKey}`);
    // A trust anchor's self-signature is never checked by a client; everything else's is.
    const anchor = i > 0 && isSelfSigned(cert);
    const weakSig = anchor ? undefined : weakSignatureReason(cert);
    if (weakSig !== undefined) {
      throw invalid(`${label(i)} ${weakSig}`, { signatureAlgorithm: cert.signatureAlgorithm });
    }
    const issuer = chain[i + 1];
    if (issuer !== undefined && !(cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
      throw invalid(`certificate chain out of order: ${label(i)} was not issued by the certificate after it`);
    }
  });
  return {
    subject: leaf.subject,
    issuer: leaf.issuer,
    altNames: parseAltNames(leaf.subjectAltName),
    validFrom: leaf.validFromDate,
    validTo: leaf.validToDate,
    fingerprint256: leaf.fingerprint256,
    chainLength: chain.length,
  };
}
