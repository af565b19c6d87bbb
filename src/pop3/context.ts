// What every POP3 connection of one server shares: configuration, the store and
// keys, the certificate source (STLS), the login function and the bookkeeping the
// server does when a connection ends (the per-address connection count).

import type { PasswordLogin } from '../auth/password-login.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import type { Store } from '../store/types.ts';
import type { CertificateSource } from '../tls/certificates.ts';
import type { Pop3Connection } from './connection.ts';

export interface Pop3ServerContext {
  readonly config: Config['pop3'];
  readonly logger: Logger;
  readonly store: Store;
  readonly accountKeys: AccountKeys;
  readonly certificates: CertificateSource;
  readonly login: PasswordLogin;
  onConnectionClosed(conn: Pop3Connection): void;
}
