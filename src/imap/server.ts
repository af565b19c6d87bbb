// The IMAP listeners (the `imap` role): implicit TLS (RFC 8314 §3.3, port 993) and
// optionally a cleartext port offering STARTTLS (143), on which LOGINDISABLED is
// advertised and no credential is accepted before TLS (DESIGN invariant 1).
//
// Invariants:
// - Every secure context comes from the one TLS policy (tls/policy.ts) through the
//   CertificateSource, so certificate reloads apply to new connections.
// - Connections are limited per address (a /64 for IPv6) and in total; an extra
//   connection gets `* BYE` and is closed before any command is read.
// - Store changes reach idling sessions of the same mailbox at once.

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
import { ImapConnection } from './connection.ts';
import type { ImapServerContext } from './context.ts';
import { imapLimits } from './protocol/index.ts';

export interface ImapDeps {
  readonly config: Config;
  readonly store: Store;
  readonly accountKeys: AccountKeys;
  readonly certificates: CertificateSource;
  readonly login: PasswordLogin;
  readonly logger: Logger;
}

export interface ImapServers {
  /** Implicit TLS. */
  readonly tls: tls.Server;
  /** Cleartext with STARTTLS. */
  readonly plain: net.Server;
  close(): void;
}

const BASE = ['IMAP4rev1', 'IMAP4rev2', 'SASL-IR', 'LITERAL+', 'ID', 'ENABLE', 'IDLE'];

function authenticatedCapabilities(appendLimit: number): string[] {
  return [
    ...BASE,
    'NAMESPACE',
    'UIDPLUS',
    'MOVE',
    'UNSELECT',
    'CHILDREN',
    'SPECIAL-USE',
    'CREATE-SPECIAL-USE',
    'LIST-EXTENDED',
    'LIST-STATUS',
    'STATUS=SIZE',
    'CONDSTORE',
    'QRESYNC',
    'ESEARCH',
    'SEARCHRES',
    'WITHIN',
    'SORT',
    'SORT=DISPLAY',
    'THREAD=REFERENCES',
    'THREAD=ORDEREDSUBJECT',
    'BINARY',
    'MULTIAPPEND',
    'OBJECTID',
    `APPENDLIMIT=${appendLimit}`,
    'QUOTA',
    'QUOTA=RES-STORAGE',
    'COMPRESS=DEFLATE',
  ];
}

export function createImapServers(deps: ImapDeps): ImapServers {
  const cfg = deps.config.imap;
  const limits = imapLimits(cfg.append_limit);
  const limiter = new ConnectionLimiter({
    maxPerAddress: cfg.max_connections_per_address,
    maxTotal: cfg.max_connections,
  });
  const afterLogin = authenticatedCapabilities(limits.maxLiteralAfterAuth);
  const connections = new Set<ImapConnection>();
  const counted = new WeakSet<ImapConnection>();
  const ctx: ImapServerContext = {
    config: cfg,
    hostname: deps.config.hostname,
    logger: deps.logger,
    limits,
    store: deps.store,
    accountKeys: deps.accountKeys,
    certificates: deps.certificates,
    login: deps.login,
    connections,
    capabilities(conn) {
      if (conn.authenticated)
        return conn.compressed ? afterLogin.filter((c) => c !== 'COMPRESS=DEFLATE') : afterLogin;
      if (!conn.secure) return [...BASE, 'STARTTLS', 'LOGINDISABLED'];
      return [...BASE, 'AUTH=PLAIN'];
    },
    onConnectionClosed(conn) {
      if (counted.has(conn)) {
        counted.delete(conn);
        limiter.release(conn.remoteAddress);
      }
    },
  };

  const accept = (socket: net.Socket, secure: boolean): void => {
    const conn = new ImapConnection(ctx, socket, secure);
    if (!limiter.tryAcquire(conn.remoteAddress)) {
      socket.on('error', () => {});
      socket.end('* BYE Too many connections from your address\r\n');
      return;
    }
    counted.add(conn);
    conn.start();
  };
  const tlsServer = tls.createServer(tlsServerOptions(deps.certificates), (s) => accept(s, true));
  tlsServer.on('tlsClientError', (e) =>
    deps.logger.debug({ err: { message: e.message } }, 'imap: TLS handshake failed'),
  );
  const detach = attachToTlsServer(tlsServer, deps.certificates);
  const plain = net.createServer((s) => accept(s, false));

  const unsubscribe = deps.store.onChange((change) => {
    for (const conn of connections) {
      const s = conn.state;
      if (s.kind !== 'selected' || s.mailbox.id !== change.mailboxId) continue;
      s.mailbox.dirty = true;
      if (conn.idling) void conn.notifyChanges();
    }
  });
  return {
    tls: tlsServer,
    plain,
    close() {
      unsubscribe();
      detach();
      for (const c of connections) c.bye('Server shutting down');
    },
  };
}
