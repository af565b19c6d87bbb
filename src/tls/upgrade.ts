// STARTTLS / STLS on the server side (RFC 9051 §6.2.1, RFC 2595 §4, RFC 3207):
// wrap an accepted cleartext socket in TLS under the one policy. The caller must
// already have discarded every byte received before this point (DESIGN invariant
// 3): the TLS socket reads only what arrives after it exists.

import type net from 'node:net';
import tls from 'node:tls';
import type { CertificateSource } from './certificates.ts';

export function upgradeServerSocket(raw: net.Socket, certificates: CertificateSource): tls.TLSSocket {
  return new tls.TLSSocket(raw, {
    isServer: true,
    secureContext: certificates.current().context,
    SNICallback: certificates.SNICallback(),
  });
}
