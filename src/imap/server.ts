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

import type net from 'node:net';
import type tls from 'node:tls';
import type { PasswordLogin } from '../auth/password-login.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import type { MessageContent } from '../mail/content.ts';
import { createProtocolListeners } from '../net/protocol-listeners.ts';
import type { Store } from '../store/types.ts';
import type { CertificateSource } from '../tls/certificates.ts';
import { ImapConnection } from './connection.ts';
import type { ImapServerContext } from './context.ts';
import { MailboxCaches } from './mailbox-cache.ts';
import { imapLimits } from './protocol/index.ts';

export interface ImapDeps {
  readonly config: Config;
  /** Parse a message for storage (summary, structure, index tokens), off the event loop. */
  readonly analyse: (raw: Buffer) => Promise<MessageContent>;
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
    'ESORT',
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
  const afterLogin = authenticatedCapabilities(limits.maxLiteralAfterAuth);
  const connections = new Set<ImapConnection>();
  const releases = new WeakMap<ImapConnection, () => void>();
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
    idlers: new Map(),
    mailboxCaches: new MailboxCaches(),
    analyse: deps.analyse,
    capabilities(conn) {
      if (conn.authenticated)
        return conn.compressed ? afterLogin.filter((c) => c !== 'COMPRESS=DEFLATE') : afterLogin;
      if (!conn.secure) return [...BASE, 'STARTTLS', 'LOGINDISABLED'];
      return [...BASE, 'AUTH=PLAIN'];
    },
    onConnectionClosed(conn) {
      releases.get(conn)?.();
    },
  };

  const listeners = createProtocolListeners({
    name: 'imap',
    certificates: deps.certificates,
    logger: deps.logger,
    maxPerAddress: cfg.max_connections_per_address,
    maxTotal: cfg.max_connections,
    refusal: '* BYE Too many connections from your address\r\n',
    accept(socket, secure, release) {
      const conn = new ImapConnection(ctx, socket, secure);
      releases.set(conn, release);
      conn.start();
    },
  });

  const unsubscribe = deps.store.onChange((change) => {
    for (const conn of ctx.idlers.get(change.mailboxId) ?? []) void conn.notifyChanges();
  });
  return {
    tls: listeners.tls,
    plain: listeners.plain,
    close() {
      unsubscribe();
      listeners.detach();
      for (const c of connections) c.bye('Server shutting down');
    },
  };
}
