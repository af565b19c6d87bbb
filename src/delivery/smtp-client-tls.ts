// STARTTLS for the outbound SMTP client (RFC 3207 §4, §4.2): the TLS handshake over
// the cleartext socket under the one TLS policy (src/tls/policy.ts: TLS 1.2+, ECDHE +
// AEAD, no renegotiation), and the certificate decision.
//
// Invariants:
// - The handshake never rejects on certificate grounds by itself
//   (rejectUnauthorized: false); the decision is the caller's `verify` (MTA-STS wants
//   PKIX with the MX name, DANE wants TLSA matching, RFC 7672 §3.1), or, without one,
//   PKIX against `servername` (chain and name, as Node computes `authorized`).
//   smtp-client.ts enforces the decision in 'required' mode and only reports it in
//   'opportunistic' mode (RFC 7435 §1.1: unauthenticated encryption beats cleartext).
// - SNI carries the servername unless it is an IP literal (RFC 6066 §3 forbids those).

import net from 'node:net';
import tls from 'node:tls';
import { tlsClientPolicyOptions } from '../tls/policy.ts';

export type TlsMode = 'opportunistic' | 'required' | 'none';

export interface VerifyResult {
  readonly ok: boolean;
  readonly reason?: string;
  /** The caller's own classification of a refusal (e.g. a TLS-RPT result type), passed back as is. */
  readonly result?: string;
}

export interface TlsSettings {
  readonly mode: TlsMode;
  /** Certificate decision (MTA-STS, DANE); default: PKIX chain + name of `servername`. */
  readonly verify?: (socket: tls.TLSSocket) => VerifyResult;
  /** Trust anchors for the default PKIX check (tests; a private relay); default: Node's roots. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

/** What the connection learned about its TLS session; reported, never secret. */
export interface TlsSession {
  readonly protocol: string;
  readonly cipher: string;
  /** The verify decision (enforced in 'required' mode, reported in 'opportunistic'). */
  readonly verified: boolean;
  readonly verifyReason: string | null;
  /** The verify callback's `result` for a refusal, else null. */
  readonly verifyResult: string | null;
}

export function pkixVerify(socket: tls.TLSSocket): VerifyResult {
  if (socket.authorized) return { ok: true };
  return { ok: false, reason: String(socket.authorizationError ?? 'certificate not trusted') };
}

let defaultContext: tls.SecureContext | undefined;

/** The policy's client context; the one without extra trust anchors is built once per process. */
function contextFor(ca: TlsSettings['ca']): tls.SecureContext {
  if (ca === undefined) {
    defaultContext ??= tls.createSecureContext(tlsClientPolicyOptions());
    return defaultContext;
  }
  return tls.createSecureContext({
    ...tlsClientPolicyOptions(),
    ca: ca as string | Buffer | (string | Buffer)[],
  });
}

/** TLS client handshake over `raw`; rejects with the handshake error (the socket is then destroyed). */
export function handshake(
  raw: net.Socket,
  o: { servername: string; ca?: TlsSettings['ca']; timeoutMs: number },
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket: raw,
      secureContext: contextFor(o.ca),
      ...(net.isIP(o.servername) === 0 ? { servername: o.servername } : {}),
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${o.timeoutMs} ms`)), o.timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      secure.destroy();
      raw.destroy();
      reject(e);
    };
    secure.once('error', fail);
    secure.once('close', () => fail(new Error('connection closed during the TLS handshake')));
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.removeAllListeners('error');
      secure.removeAllListeners('close');
      resolve(secure);
    });
  });
}

export function describeSession(socket: tls.TLSSocket, decision: VerifyResult): TlsSession {
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher()?.standardName ?? 'unknown',
    verified: decision.ok,
    verifyReason: decision.ok ? null : (decision.reason ?? 'refused by the verify callback'),
    verifyResult: decision.ok ? null : (decision.result ?? null),
  };
}
