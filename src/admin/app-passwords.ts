// App passwords (issue 4): created, listed and revoked for an account, by the
// administrator's CLI and by the account owner over HTTP (web/account-routes.ts); the
// caller says where the change came from (`via`) for the owner's security log. The secret is
// shown once and stored only as a keyed hash (auth/app-password.ts). Every change is
// written to the audit log and to the owner's security log.
// Invariants: a new app password has at least one scope; networks are valid CIDRs or
// addresses; an expiry is in the future; revoking takes effect at the next login of
// any connection (logins always read the record).

import type { Runtime } from '../app/runtime.ts';
import {
  APP_PASSWORD_SCOPES,
  appPasswordKey,
  hashAppSecret,
  isAppPasswordNetwork,
  newAppPassword,
} from '../auth/app-password.ts';
import { SealpostError } from '../core/errors.ts';
import type { AppPasswordRecord, ProtocolScope } from '../store/types.ts';
import { requireAccount } from './accounts.ts';

export interface NewAppPasswordInput {
  readonly address: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number | null;
  readonly allowedNetworks: readonly string[] | null;
}

/** Where a change came from, as the owner's security log shows it. */
export interface ChangeOrigin {
  readonly protocol: 'cli' | 'web';
  readonly address: string | null; // client IP
  readonly client: string | null; // user agent, shortened
}

export const CLI_ORIGIN: ChangeOrigin = { protocol: 'cli', address: null, client: null };

const MAX_NAME = 100;

function checkInput(input: NewAppPasswordInput, now: number): ProtocolScope[] {
  const name = input.name.trim();
  if (name === '' || name.length > MAX_NAME || /[\x00-\x1f\x7f]/.test(name)) {
    throw new SealpostError(
      'input.invalid',
      `app password name must be 1 to ${MAX_NAME} printable characters`,
    );
  }
  if (input.scopes.length === 0)
    throw new SealpostError('input.invalid', 'give at least one scope, e.g. --scopes imap,smtp');
  for (const s of input.scopes) {
    if (!(APP_PASSWORD_SCOPES as readonly string[]).includes(s)) {
      throw new SealpostError(
        'input.invalid',
        `unknown scope ${JSON.stringify(s)}; scopes: ${APP_PASSWORD_SCOPES.join(', ')}`,
      );
    }
  }
  for (const n of input.allowedNetworks ?? []) {
    if (!isAppPasswordNetwork(n)) {
      throw new SealpostError(
        'input.invalid',
        `${JSON.stringify(n)} is not an address or CIDR network, e.g. 192.0.2.0/24`,
      );
    }
  }
  if (input.expiresAt !== null && input.expiresAt <= now) {
    throw new SealpostError('input.invalid', 'the expiry must be in the future');
  }
  return [...new Set(input.scopes)] as ProtocolScope[];
}

/** Create one; returns the record and the password to show once. */
export async function addAppPassword(
  rt: Runtime,
  actor: string,
  input: NewAppPasswordInput,
  now = Date.now(),
  via: ChangeOrigin = CLI_ORIGIN,
): Promise<{ record: AppPasswordRecord; password: string }> {
  const scopes = checkInput(input, now);
  const account = await requireAccount(rt, input.address);
  const secret = newAppPassword();
  const record: AppPasswordRecord = {
    id: secret.id,
    accountId: account.id,
    name: input.name.trim(),
    secretHash: hashAppSecret(appPasswordKey(rt.keys), secret.id, secret.secret),
    scopes,
    expiresAt: input.expiresAt,
    allowedNetworks: input.allowedNetworks,
    createdAt: now,
    revokedAt: null,
    lastUsedAt: null,
    lastUsedAddress: null,
  };
  await rt.store.addAppPassword(record);
  const detail = { id: record.id, name: record.name, scopes, expiresAt: input.expiresAt };
  await rt.audit.append({ actor, action: 'app-password.add', target: account.address, detail });
  await rt.store.appendSecurityEvent({
    accountId: account.id,
    at: now,
    kind: 'app-password-created',
    ...via,
    success: true,
    factor: null,
    detail: record.name,
  });
  return { record, password: secret.display };
}

export async function listAppPasswords(rt: Runtime, address: string): Promise<AppPasswordRecord[]> {
  const account = await requireAccount(rt, address);
  return rt.store.listAppPasswords(account.id);
}

export async function revokeAppPassword(
  rt: Runtime,
  actor: string,
  address: string,
  id: string,
  now = Date.now(),
  via: ChangeOrigin = CLI_ORIGIN,
) {
  const account = await requireAccount(rt, address);
  await rt.store.revokeAppPassword(account.id, id, now);
  await rt.audit.append({ actor, action: 'app-password.revoke', target: account.address, detail: { id } });
  await rt.store.appendSecurityEvent({
    accountId: account.id,
    at: now,
    kind: 'app-password-revoked',
    ...via,
    success: true,
    factor: null,
    detail: id,
  });
}
