// Password login for the mail protocols (IMAP LOGIN/AUTHENTICATE PLAIN, POP3
// USER/PASS and AUTH PLAIN): one function every protocol calls, so the answer,
// the timing and the throttling are the same everywhere (DESIGN invariant 5).
//
// Invariants:
// - Unknown user, wrong password, disabled account and throttled attempt all give
//   the same result ('invalid') after the same work: one argon2id verification
//   (against a dummy hash when there is no real one to check).
// - The caller has already made sure the connection is encrypted (invariant 1).
// - A hash below the current parameters is upgraded after a successful login.
// - Nothing here logs the password; the log line names the user only by address.

import { domainToASCII } from 'node:url';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from '../crypto/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Account, Store } from '../store/types.ts';
import { LoginThrottle } from './throttle.ts';

export type LoginProtocol = 'imap' | 'pop3' | 'smtp' | 'web';

export type LoginResult =
  | { readonly ok: true; readonly account: Account }
  | { readonly ok: false; readonly reason: 'invalid' };

export interface LoginAttempt {
  readonly username: string;
  readonly password: string;
  readonly protocol: LoginProtocol;
  readonly address: string; // the client's IP address
}

export interface PasswordLogin {
  login(attempt: LoginAttempt): Promise<LoginResult>;
}

const MAX_USERNAME = 320;
const MAX_PASSWORD = 1024;

/** Lower-case local part and an A-label domain: the form accounts are stored under. */
export function normaliseUsername(username: string): string | null {
  const u = username.trim().normalize('NFC');
  const at = u.lastIndexOf('@');
  if (at <= 0 || at === u.length - 1 || u.length > MAX_USERNAME) return null;
  const domain = domainToASCII(u.slice(at + 1).toLowerCase());
  return domain === '' ? null : `${u.slice(0, at).toLowerCase()}@${domain}`;
}

export function createPasswordLogin(
  store: Store,
  logger: Logger,
  throttle: LoginThrottle = new LoginThrottle(store),
): PasswordLogin {
  return {
    async login(attempt) {
      const user = normaliseUsername(attempt.username);
      const password = attempt.password.length > MAX_PASSWORD ? '' : attempt.password;
      const key = user ?? attempt.username.slice(0, MAX_USERNAME).toLowerCase();
      const blocked = (await throttle.waitMs(attempt.address, key)) > 0;
      const account = user === null ? null : await store.getAccountByAddress(user);
      const ok =
        account !== null && !blocked && password !== ''
          ? await verifyPassword(account.passwordHash, password)
          : await verifyAgainstDummy(password);
      const log = { protocol: attempt.protocol, user: key, remote: attempt.address };
      if (!ok || account === null || account.disabled) {
        await throttle.failure(attempt.address, key);
        logger.info({ ...log, blocked }, 'login failed');
        return { ok: false, reason: 'invalid' };
      }
      await throttle.success(attempt.address, key);
      logger.info(log, 'login');
      if (needsRehash(account.passwordHash)) {
        await store.setPasswordHash(account.id, await hashPassword(password));
      }
      return { ok: true, account };
    },
  };
}
