// Logging in to the mail protocols (IMAP LOGIN/AUTHENTICATE PLAIN, POP3 USER/PASS and
// AUTH PLAIN, SMTP AUTH later): one function every protocol calls, so the answer, the
// timing, the throttling and the security log are the same everywhere (DESIGN
// invariant 5). Two credentials are accepted:
// - an app password (auth/app-password.ts): checked with a keyed hash in microseconds,
//   only within its scopes, expiry, networks, and until revoked;
// - the account password (argon2id), unless the account has a second factor: then
//   mail clients must use app passwords (issue 4), as they cannot answer a second factor.
//
// Invariants:
// - Unknown user, wrong password, disabled account, refused app password, a main
//   password on a 2FA account and a throttled attempt all give the same result
//   ('invalid') after the same work for the same kind of input: an input shaped like
//   an app password costs a store read and an HMAC whatever the account; any other
//   costs one argon2id verification (against a dummy hash when there is no real one).
// - Security-log writes are not awaited, so an existing account is not slower to
//   refuse than a missing one.
// - The caller has already made sure the connection is encrypted (invariant 1).
// - A hash below the current parameters is upgraded after a successful login.
// - Nothing here logs a password; log lines name the user only by address.

import { domainToASCII } from 'node:url';
import type { MasterKeyRing } from '../crypto/index.ts';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from '../crypto/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Account, AppPasswordRecord, ProtocolScope, SecurityEvent, Store } from '../store/types.ts';
import { appPasswordAllows, appPasswordKey, parseAppPassword, verifyAppSecret } from './app-password.ts';
import { LoginThrottle } from './throttle.ts';

export type LoginProtocol = ProtocolScope | 'web';

export type LoginResult =
  | { readonly ok: true; readonly account: Account; readonly factor: 'password' | 'app-password' }
  | { readonly ok: false; readonly reason: 'invalid' };

export interface LoginAttempt {
  readonly username: string;
  readonly password: string;
  readonly protocol: LoginProtocol;
  readonly address: string; // the client's IP address
  readonly client?: string; // user agent or IMAP ID, for the security log
}

export interface PasswordLogin {
  login(attempt: LoginAttempt): Promise<LoginResult>;
}

export interface PasswordLoginDeps {
  readonly store: Store;
  readonly logger: Logger;
  readonly keys: MasterKeyRing;
  readonly throttle?: LoginThrottle;
  readonly now?: () => number;
}

const MAX_USERNAME = 320;
const MAX_PASSWORD = 1024;
const DUMMY_APP_HASH = '0'.repeat(64);

/** Lower-case local part and an A-label domain: the form accounts are stored under. */
export function normaliseUsername(username: string): string | null {
  const u = username.trim().normalize('NFC');
  const at = u.lastIndexOf('@');
  if (at <= 0 || at === u.length - 1 || u.length > MAX_USERNAME) return null;
  const domain = domainToASCII(u.slice(at + 1).toLowerCase());
  return domain === '' ? null : `${u.slice(0, at).toLowerCase()}@${domain}`;
}

export function createPasswordLogin(deps: PasswordLoginDeps): PasswordLogin {
  const { store, logger } = deps;
  const throttle = deps.throttle ?? new LoginThrottle(store);
  const now = deps.now ?? Date.now;
  const appKey = appPasswordKey(deps.keys);

  const record = (event: Omit<SecurityEvent, 'at'>): void => {
    store.appendSecurityEvent({ ...event, at: now() }).catch((e: unknown) => {
      logger.error({ err: e }, 'security log: could not record an event');
    });
  };

  /** The app password's record if the input is one and it may be used here; same work either way. */
  async function appPassword(
    attempt: LoginAttempt,
    account: Account | null,
    parsed: { id: string; secret: string },
  ): Promise<AppPasswordRecord | null> {
    const rec = await store.getAppPassword(parsed.id);
    const matches = verifyAppSecret(appKey, parsed.id, parsed.secret, rec?.secretHash ?? DUMMY_APP_HASH);
    if (!matches || rec === null || account === null || rec.accountId !== account.id) return null;
    if (attempt.protocol === 'web') return null;
    return appPasswordAllows(rec, attempt.protocol, attempt.address, now()).ok ? rec : null;
  }

  return {
    async login(attempt) {
      const user = normaliseUsername(attempt.username);
      const password = attempt.password.length > MAX_PASSWORD ? '' : attempt.password;
      const key = user ?? attempt.username.slice(0, MAX_USERNAME).toLowerCase();
      const blocked = (await throttle.waitMs(attempt.address, key)) > 0;
      const account = user === null ? null : await store.getAccountByAddress(user);
      const parsed = parseAppPassword(password);
      let factor: 'password' | 'app-password' = 'password';
      let ok = false;
      let app: AppPasswordRecord | null = null;
      if (parsed !== null) {
        factor = 'app-password';
        app = await appPassword(attempt, account, parsed);
        ok = app !== null;
      } else {
        ok =
          account !== null && password !== ''
            ? await verifyPassword(account.passwordHash, password)
            : await verifyAgainstDummy(password);
        // With a second factor, mail clients must use app passwords.
        if (ok && account !== null && attempt.protocol !== 'web') {
          ok = (await store.listFactors(account.id)).length === 0;
        }
      }
      const log = { protocol: attempt.protocol, user: key, remote: attempt.address, factor };
      const event = {
        protocol: attempt.protocol,
        address: attempt.address,
        client: attempt.client?.slice(0, 200) ?? null,
        factor,
      };
      if (!ok || blocked || account === null || account.disabled) {
        await throttle.failure(attempt.address, key);
        logger.info({ ...log, blocked }, 'login failed');
        if (account !== null) {
          record({ ...event, accountId: account.id, kind: 'login-failed', success: false, detail: null });
        }
        return { ok: false, reason: 'invalid' };
      }
      await throttle.success(attempt.address, key);
      logger.info(log, 'login');
      record({ ...event, accountId: account.id, kind: 'login', success: true, detail: app?.name ?? null });
      if (app !== null) {
        if (app.lastUsedAddress !== null && app.lastUsedAddress !== attempt.address) {
          record({
            ...event,
            accountId: account.id,
            kind: 'app-password-new-address',
            success: true,
            detail: app.name,
          });
        }
        store.touchAppPassword(app.id, now(), attempt.address).catch((e: unknown) => {
          logger.error({ err: e }, 'app password: could not record its use');
        });
      } else if (needsRehash(account.passwordHash)) {
        await store.setPasswordHash(account.id, await hashPassword(password));
      }
      return { ok: true, account, factor };
    },
  };
}
