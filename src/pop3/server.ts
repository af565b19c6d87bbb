// The POP3 listeners (the `pop3` role): implicit TLS (RFC 8314 §3.3, port 995) and
// optionally a cleartext port offering STLS (RFC 2595 §4, port 110), on which no
// credential is accepted before TLS (DESIGN invariant 1).
//
// Invariants:
// - Every secure context comes from the one TLS policy (tls/policy.ts) through the
//   CertificateSource, so certificate reloads apply to new connections.
// - Connections are limited per address (a /64 for IPv6) and in total; an extra
//   connection gets `-ERR [SYS/TEMP]` (RFC 3206 §4) and is closed before any command
//   is read.
// - close() ends every session without committing deletions and resolves once
//   their maildrop locks are released.

import net from 'node:net';
import tls from 'node:tls';
import type { PasswordLogin } from '../auth/password-login.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import { ConnectionLimiter } from '../net/connection-limits.ts';
import type { Store } from '../store/types.ts';
import type { CertificateSource } from '../tls/certificates.ts';
import { attachToTlsServer, tlsServerOptions } from '../tls/index.ts';
import { Pop3Connection } from './connection.ts';
import type { Pop3ServerContext } from './context.ts';

export interface Pop3Deps {
  readonly config: Config;
  readonly store: Store;
  readonly accountKeys: AccountKeys;
  readonly certificates: CertificateSource;
  readonly login: PasswordLogin;
  readonly logger: Logger;
}

export interface Pop3Servers {
  /** Implicit TLS. */
  readonly tls: tls.Server;
  /** Cleartext with STLS. */
  readonly plain: net.Server;
  /** End every session (nothing is committed); resolves once their locks are released. */
  close(): Promise<void>;
}

export function createPop3Servers(deps: Pop3Deps): Pop3Servers {
  const cfg = deps.config.pop3;
  const limiter = new ConnectionLimiter({
    maxPerAddress: cfg.max_connections_per_address,
    maxTotal: cfg.max_connections,
  });
  const connections = new Set<Pop3Connection>();
  const ctx: Pop3ServerContext = {
    config: cfg,
    logger: deps.logger,
    store: deps.store,
    accountKeys: deps.accountKeys,
    certificates: deps.certificates,
    login: deps.login,
    onConnectionClosed(conn) {
      if (connections.delete(conn)) limiter.release(conn.remoteAddress);
    },
  };

  const accept = (socket: net.Socket, secure: boolean): void => {
    const conn = new Pop3Connection(ctx, socket, secure);
    if (!limiter.tryAcquire(conn.remoteAddress)) {
      socket.on('error', () => {});
      socket.end('-ERR [SYS/TEMP] Too many connections\r\n');
      return;
    }
    connections.add(conn);
    conn.start();
  };
  const tlsServer = tls.createServer(tlsServerOptions(deps.certificates), (s) => accept(s, true));
  tlsServer.on('tlsClientError', (e) =>
    deps.logger.debug({ err: { message: e.message } }, 'pop3: TLS handshake failed'),
  );
  const detach = attachToTlsServer(tlsServer, deps.certificates);
  const plain = net.createServer((s) => accept(s, false));

  return {
    tls: tlsServer,
    plain,
    async close() {
      detach();
      const open = [...connections];
      for (const c of open) c.end();
      await Promise.all(open.map((c) => c.finished));
    },
  };
}
