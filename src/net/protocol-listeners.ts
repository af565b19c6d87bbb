// The two listeners of a mail-client protocol (IMAP, POP3): implicit TLS (RFC 8314
// §3.3) and cleartext that offers STARTTLS/STLS, with the per-address and total
// connection limits applied before a session starts.
// Invariants: the TLS server's secure context follows certificate reloads; a
// connection over a limit is told why (`refusal`) and closed before any command is
// read; `release` is called exactly once per admitted connection.

import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log/logger.ts';
import { attachToTlsServer, type CertificateSource, tlsServerOptions } from '../tls/index.ts';
import { ConnectionLimiter } from './connection-limits.ts';

export interface ProtocolListenerOptions {
  readonly name: string;
  readonly certificates: CertificateSource;
  readonly logger: Logger;
  readonly maxPerAddress: number;
  readonly maxTotal: number;
  /** Sent before closing a connection over a limit, e.g. "* BYE Too many connections\r\n". */
  readonly refusal: string;
  /** Start a session on an admitted connection; call `release` once when it has ended. */
  readonly accept: (socket: net.Socket, secure: boolean, release: () => void) => void;
}

export interface ProtocolListeners {
  readonly tls: tls.Server;
  readonly plain: net.Server;
  /** Stop following certificate reloads. */
  detach(): void;
}

export function createProtocolListeners(o: ProtocolListenerOptions): ProtocolListeners {
  const limiter = new ConnectionLimiter({ maxPerAddress: o.maxPerAddress, maxTotal: o.maxTotal });
  const admit = (socket: net.Socket, secure: boolean): void => {
    const address = socket.remoteAddress ?? 'unknown';
    if (!limiter.tryAcquire(address)) {
      socket.on('error', () => {});
      socket.end(o.refusal);
      return;
    }
    // Responses are written whole per burst by the protocol code; without NODELAY a
    // small response waits for the client's delayed ACK (~40 ms a command).
    socket.setNoDelay(true);
    let released = false;
    o.accept(socket, secure, () => {
      if (released) return;
      released = true;
      limiter.release(address);
    });
  };
  const tlsServer = tls.createServer(tlsServerOptions(o.certificates), (s) => admit(s, true));
  tlsServer.on('tlsClientError', (e) =>
    o.logger.debug({ err: { message: e.message } }, `${o.name}: TLS handshake failed`),
  );
  const detach = attachToTlsServer(tlsServer, o.certificates);
  const plain = net.createServer((s) => admit(s, false));
  return { tls: tlsServer, plain, detach };
}
