// A test certificate authority and a real HTTPS server for tests that fetch over HTTPS with
// certificate validation (MTA-STS, RFC 8461 §3.3) or match certificates (DANE, RFC 7672).
//
// - createTestCa(): a self-signed ECDSA P-256 root (basicConstraints CA:true, keyCertSign) that
//   issues leaf certificates for DNS names (serverAuth, SAN only) and intermediate CAs, so a
//   test can build leaf → intermediate → root chains. Dates are injectable to make expired ones.
// - startHttpsServer(): node:https on 127.0.0.1, port 0, with a per-test request handler; every
//   open socket is destroyed on close() so a handler that never answers cannot hang a test.

import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import type { RequestListener } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { installReflectMetadataShim } from '../../src/tls/reflect-shim.ts';

const DAY = 86_400_000;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' };

let library: Promise<typeof X509> | undefined;
function loadX509(): Promise<typeof X509> {
  library ??= (async () => {
    installReflectMetadataShim();
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return library;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** DER of the certificate. */
  der: Buffer;
}

export interface IssueOptions {
  notBefore?: Date;
  notAfter?: Date;
}

export interface TestCa extends IssuedCertificate {
  /** A leaf certificate for these DNS names, signed by this CA. */
  issue(hostnames: string[], opts?: IssueOptions): Promise<IssuedCertificate>;
  /** An intermediate CA signed by this CA. */
  intermediate(name: string): Promise<TestCa>;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function pemOf(cert: X509.X509Certificate, key: webcrypto.CryptoKey): IssuedCertificate {
  return {
    certPem: `${cert.toString('pem')}\n`,
    keyPem: KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString(),
    der: Buffer.from(cert.rawData),
  };
}

async function makeCa(
  x509: typeof X509,
  name: string,
  issuer?: { cert: X509.X509Certificate; key: webcrypto.CryptoKey },
): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const extensions = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${name}`,
        issuer: issuer.cert.subject,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + 30 * DAY),
        signingAlgorithm: SIGNING,
        publicKey: keys.publicKey,
        signingKey: issuer.key,
        extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(issuer.cert)],
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(),
        name: `CN=${name}`,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + 30 * DAY),
        signingAlgorithm: SIGNING,
        keys,
        extensions,
      });
  const self = { cert, key: keys.privateKey };
  return {
    ...pemOf(cert, keys.privateKey),
    async issue(hostnames, opts = {}) {
      const leafKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${hostnames[0] ?? 'leaf'}`,
        issuer: cert.subject,
        notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
        notAfter: opts.notAfter ?? new Date(Date.now() + 30 * DAY),
        signingAlgorithm: SIGNING,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
          new x509.SubjectAlternativeNameExtension(
            hostnames.map((value) => ({ type: 'dns' as const, value })),
          ),
          await x509.AuthorityKeyIdentifierExtension.create(cert),
        ],
      });
      return pemOf(leaf, leafKeys.privateKey);
    },
    intermediate: (sub) => makeCa(x509, sub, self),
  };
}

/** A new self-signed root CA. */
export async function createTestCa(name = 'Sealpost Test Root'): Promise<TestCa> {
  return makeCa(await loadX509(), name);
}

/** A self-signed leaf (not issued by any CA), as a misconfigured server would present. */
export async function selfSignedCertificate(hostnames: string[]): Promise<IssuedCertificate> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${hostnames[0] ?? 'self'}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(hostnames.map((value) => ({ type: 'dns' as const, value }))),
    ],
  });
  return pemOf(cert, keys.privateKey);
}

export interface HttpsTestServer {
  port: number;
  address: string;
  /** Replaces the request handler. */
  handle(handler: RequestListener): void;
  /** Replaces the certificate (PEM chain, leaf first) and key for new connections. */
  setCertificate(certPem: string, keyPem: string): void;
  /** Request paths and Host headers seen, in order. */
  requests: { path: string; host: string | undefined; servername: string | undefined }[];
  close(): Promise<void>;
}

export async function startHttpsServer(certPem: string, keyPem: string): Promise<HttpsTestServer> {
  let handler: RequestListener = (_req, res) => {
    res.writeHead(404).end();
  };
  const requests: HttpsTestServer['requests'] = [];
  const server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const servername = (req.socket as Socket & { servername?: string | false }).servername;
    requests.push({
      path: req.url ?? '',
      host: req.headers.host,
      servername: typeof servername === 'string' ? servername : undefined,
    });
    handler(req, res);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    address: '127.0.0.1',
    requests,
    handle(next) {
      handler = next;
    },
    setCertificate(cert, key) {
      server.setSecureContext({ cert, key });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
