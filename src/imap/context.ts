// What every IMAP connection of one server shares: configuration, limits, the
// store and keys, the certificate source, the login function, the live
// connections (for change notifications) and the capability list.

import type { PasswordLogin } from '../auth/password-login.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import type { MessageContent } from '../mail/content.ts';
import type { Store } from '../store/types.ts';
import type { CertificateSource } from '../tls/certificates.ts';
import type { ImapConnection } from './connection.ts';
import type { MailboxCaches } from './mailbox-cache.ts';
import type { ImapLimits } from './protocol/index.ts';

export interface ImapServerContext {
  readonly config: Config['imap'];
  readonly hostname: string;
  readonly logger: Logger;
  readonly limits: ImapLimits;
  readonly store: Store;
  readonly accountKeys: AccountKeys;
  readonly certificates: CertificateSource;
  readonly login: PasswordLogin;
  /** Parse an APPENDed message for storage on the analysis threads (a MIME bomb must not stall sessions). */
  readonly analyse: (raw: Buffer) => Promise<MessageContent>;
  readonly connections: Set<ImapConnection>;
  /** Sessions in IDLE, by selected mailbox id: whom a store change must wake. */
  readonly idlers: Map<string, Set<ImapConnection>>;
  /** The shared picture of each selected mailbox (mailbox-cache.ts). */
  readonly mailboxCaches: MailboxCaches;
  capabilities(conn: ImapConnection): string[];
  onConnectionClosed(conn: ImapConnection): void;
}
