// Self-signed certificates for development and first start (`sealpost start --dev`,
// `sealpost quickstart`): ECDSA P-256 signed with ecdsa-with-SHA256 (RFC 5758 §3.2),
// subjectAltName with every DNS name and IP (RFC 5280 §4.2.1.6; the CN is never used
// for matching, RFC 6125 §6.4.4), basicConstraints CA:false, keyUsage
// digitalSignature, extKeyUsage serverAuth, 397 days by default (the CA/Browser
// Forum maximum). Invariants: the private key is written with mode 0600 and fsync'd
// before the certificate is, and files are replaced atomically (write, fsync, rename)
// so a running CertificateSource never reads half a file.

import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import type * as X509 from '@peculiar/x509';
import { SealpostError } from '../core/errors.ts';
import { installReflectMetadataShim } from './reflect-shim.ts';

export interface DevCertificateOptions {
  hostnames: string[];
  ips?: string[];
  /** Validity in days; default 397. */
  days?: number;
  /** Injectable clock (tests); default now. */
  now?: Date;
}

export interface CertificatePem {
  certPem: string;
  keyPem: string;
}

const DEFAULT_DAYS = 397;
const DAY_MS = 86_400_000;
/** notBefore is backdated a little so a peer with a slightly slow clock accepts the certificate. */
const BACKDATE_MS = 5 * 60_000;
const HOSTNAME =
  /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const webCrypto = webcrypto;
let library: Promise<typeof X509> | undefined;

/** @peculiar/x509 is loaded on first use: production starts never pay for it, and the shim goes first. */
function loadX509(): Promise<typeof X509> {
  library ??= (async () => {
    installReflectMetadataShim();
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webCrypto);
    return x509;
  })();
  return library;
}

function checkOptions(options: DevCertificateOptions): { hostnames: string[]; ips: string[]; days: number } {
  const hostnames = options.hostnames.map((h) => h.toLowerCase());
  const ips = options.ips ?? [];
  const days = options.days ?? DEFAULT_DAYS;
  if (hostnames.length === 0 && ips.length === 0) {
    throw new SealpostError('input.invalid', 'a development certificate needs at least one hostname or IP');
  }
  for (const h of hostnames) {
    if (!HOSTNAME.test(h))
      throw new SealpostError('input.invalid', `not a valid hostname: ${JSON.stringify(h)}`);
  }
  for (const ip of ips) {
    if (isIP(ip) === 0)
      throw new SealpostError('input.invalid', `not a valid IP address: ${JSON.stringify(ip)}`);
  }
  if (!Number.isInteger(days) || days < 1 || days > DEFAULT_DAYS) {
    throw new SealpostError('input.invalid', `validity must be 1..${DEFAULT_DAYS} days, got ${days}`);
  }
  return { hostnames, ips, days };
}

/** A positive, random 128-bit serial number (RFC 5280 §4.1.2.2: ≤ 20 octets, non-negative). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export async function generateDevCertificate(options: DevCertificateOptions): Promise<CertificatePem> {
  const { hostnames, ips, days } = checkOptions(options);
  const now = options.now ?? new Date();
  const x509 = await loadX509();
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webCrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const commonName = hostnames[0] ?? ips[0]!;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }, { O: ['Sealpost development'] }],
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...hostnames.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { certPem: cert.toString('pem') + '\n', keyPem };
}

/** Write `data` to `file` atomically: a 0600/0644 temp file, fsync, rename, fsync the directory. */
async function writeAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode); // the umask may have narrowed or (never) widened it; be exact
    await handle.sync();
  } catch (e) {
    await handle.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  await rename(tmp, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Generate a development certificate and write `key.pem` (0600) and `cert.pem` (0644) into `dir`. */
export async function writeDevCertificate(
  dir: string,
  options: DevCertificateOptions,
): Promise<{ certFile: string; keyFile: string }> {
  const { certPem, keyPem } = await generateDevCertificate(options);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  // Key first: a watcher that sees the new certificate must find its key already in place.
  await writeAtomic(keyFile, keyPem, 0o600);
  await writeAtomic(certFile, certPem, 0o644);
  return { certFile, keyFile };
}
