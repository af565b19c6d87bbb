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

import type net from 'node:net';
import type tls from 'node:tls';
import type { PasswordLogin } from '../auth/password-login.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import { createProtocolListeners } from '../net/protocol-listeners.ts';
import type { Store } from '../store/types.ts';
import type { CertificateSource } from '../tls/certificates.ts';
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
  const connections = new Set<Pop3Connection>();
  const releases = new WeakMap<Pop3Connection, () => void>();
  const ctx: Pop3ServerContext = {
    config: cfg,
    logger: deps.logger,
    store: deps.store,
    accountKeys: deps.accountKeys,
    certificates: deps.certificates,
    login: deps.login,
    onConnectionClosed(conn) {
      connections.delete(conn);
      releases.get(conn)?.();
    },
  };

  const listeners = createProtocolListeners({
    name: 'pop3',
    certificates: deps.certificates,
    logger: deps.logger,
    maxPerAddress: cfg.max_connections_per_address,
    maxTotal: cfg.max_connections,
    refusal: '-ERR [SYS/TEMP] Too many connections\r\n',
    accept(socket, secure, release) {
      const conn = new Pop3Connection(ctx, socket, secure);
      releases.set(conn, release);
      connections.add(conn);
      conn.start();
    },
  });

  return {
    tls: listeners.tls,
    plain: listeners.plain,
    async close() {
      listeners.detach();
      const open = [...connections];
      for (const c of open) c.end();
      await Promise.all(open.map((c) => c.finished));
    },
  };
}
