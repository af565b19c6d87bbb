// Administrative operations on domains, accounts and aliases, shared by the CLI and
// (later) the admin API. Each validates its input into typed values, performs the
// change through the Store, and writes one audit entry naming the actor. Passwords
// must pass the password policy (auth/password-policy.ts), are hashed here (argon2id)
// and are never logged or audited.

import type { Runtime } from '../app/runtime.ts';
import { checkPassword, matchesRecent, RECENT_PASSWORDS_KEPT } from '../auth/password-policy.ts';
import { normaliseDomain, requireAddress } from '../core/address.ts';
import { SealpostError } from '../core/errors.ts';
import { newId, newUidValidity } from '../core/ids.ts';
import { DEFAULT_MAILBOXES } from '../core/mailboxes.ts';
import { createAccountKeys, hashPassword } from '../crypto/index.ts';
import type { Account, Alias, Domain } from '../store/types.ts';

export { MIN_PASSWORD_LENGTH } from '../auth/password-policy.ts';

function requireDomain(name: string): string {
  const d = normaliseDomain(name.trim());
  if (d === null)
    throw new SealpostError('input.invalid', `${JSON.stringify(name)} is not a valid domain name`);
  return d;
}

/**
 * Throws input.invalid unless `password` passes the password policy for `address`
 * (auth/password-policy.ts). The message says what is wrong and what to do, and never
 * contains the password.
 */
export function requireAcceptablePassword(password: string, address: string): void {
  const verdict = checkPassword(password, { address });
  if (verdict.ok) return;
  const fix = verdict.suggestions.length > 0 ? `. Fix: ${verdict.suggestions.join(' ')}` : '';
  throw new SealpostError('input.invalid', `${verdict.message}${fix}`);
}

export async function addDomain(rt: Runtime, actor: string, name: string): Promise<Domain> {
  const domain: Domain = { id: newId('dom'), name: requireDomain(name), createdAt: Date.now() };
  if ((await rt.store.getDomain(domain.name)) !== null) {
    throw new SealpostError('store.conflict', `domain ${domain.name} already exists`);
  }
  await rt.store.addDomain(domain);
  await rt.audit.append({ actor, action: 'domain.add', target: domain.name });
  return domain;
}

export async function removeDomain(rt: Runtime, actor: string, name: string): Promise<void> {
  const d = requireDomain(name);
  if ((await rt.store.getDomain(d)) === null) throw new SealpostError('store.not-found', `no domain ${d}`);
  const [users, aliases] = await Promise.all([rt.store.listAccounts(d), rt.store.listAliases(d)]);
  if (users.length > 0 || aliases.length > 0) {
    throw new SealpostError(
      'store.conflict',
      `domain ${d} still has ${users.length} user(s) and ${aliases.length} alias(es). Fix: delete them first (\`sealpost user list --domain ${d}\`, \`sealpost alias list --domain ${d}\`).`,
    );
  }
  await rt.store.removeDomain(d);
  await rt.audit.append({ actor, action: 'domain.remove', target: d });
}

export async function addAccount(
  rt: Runtime,
  actor: string,
  input: { address: string; password: string; quotaBytes?: number },
): Promise<Account> {
  const addr = requireAddress(input.address);
  requireAcceptablePassword(input.password, addr.address);
  const domain = await rt.store.getDomain(addr.domain);
  if (domain === null) {
    throw new SealpostError(
      'store.not-found',
      `domain ${addr.domain} is not hosted here. Fix: \`sealpost domain add ${addr.domain}\` first.`,
    );
  }
  if ((await rt.store.getAlias(addr.address)) !== null) {
    throw new SealpostError('store.conflict', `${addr.address} is already an alias`);
  }
  if ((await rt.store.getAccountByAddress(addr.address)) !== null) {
    throw new SealpostError('store.conflict', `user ${addr.address} already exists`);
  }
  const id = newId('acc');
  const now = Date.now();
  const { record } = createAccountKeys(rt.keys, id, now);
  const account = await rt.store.createAccount(
    {
      id,
      address: addr.address,
      domainId: domain.id,
      passwordHash: await hashPassword(input.password),
      quotaBytes: input.quotaBytes ?? rt.config.accounts.default_quota,
      key: record,
    },
    DEFAULT_MAILBOXES.map((m) => ({
      id: newId('mbx'),
      accountId: id,
      name: m.name,
      specialUse: m.specialUse,
      uidValidity: newUidValidity(),
      subscribed: true,
    })),
  );
  await rt.audit.append({ actor, action: 'user.add', target: account.address, detail: { id } });
  return account;
}

export async function requireAccount(rt: Runtime, address: string): Promise<Account> {
  const addr = requireAddress(address);
  const account = await rt.store.getAccountByAddress(addr.address);
  if (account === null) throw new SealpostError('store.not-found', `no user ${addr.address}`);
  return account;
}

export async function setPassword(
  rt: Runtime,
  actor: string,
  address: string,
  password: string,
): Promise<void> {
  requireAcceptablePassword(password, requireAddress(address).address);
  const account = await requireAccount(rt, address);
  // No reuse of the current password or the last RECENT_PASSWORDS_KEPT ones (issue 4).
  const recent = [
    account.passwordHash,
    ...(await rt.store.passwordHistory(account.id, RECENT_PASSWORDS_KEPT)),
  ];
  if (await matchesRecent(password, recent)) {
    throw new SealpostError(
      'input.invalid',
      `this password was used recently. Fix: choose one that differs from the last ${RECENT_PASSWORDS_KEPT + 1}`,
    );
  }
  await rt.store.setPasswordHash(account.id, await hashPassword(password));
  await rt.audit.append({ actor, action: 'user.passwd', target: account.address });
}

export async function setDisabled(
  rt: Runtime,
  actor: string,
  address: string,
  disabled: boolean,
): Promise<void> {
  const account = await requireAccount(rt, address);
  await rt.store.setDisabled(account.id, disabled);
  await rt.audit.append({
    actor,
    action: disabled ? 'user.disable' : 'user.enable',
    target: account.address,
  });
}

export async function setQuota(
  rt: Runtime,
  actor: string,
  address: string,
  quotaBytes: number,
): Promise<void> {
  const account = await requireAccount(rt, address);
  await rt.store.setQuota(account.id, quotaBytes);
  await rt.audit.append({ actor, action: 'user.quota', target: account.address, detail: { quotaBytes } });
}

export async function deleteAccount(rt: Runtime, actor: string, address: string): Promise<number> {
  const account = await requireAccount(rt, address);
  const refs = await rt.store.deleteAccount(account.id); // the store deletes their blobs too
  await rt.audit.append({
    actor,
    action: 'user.delete',
    target: account.address,
    detail: { messages: refs.length },
  });
  return refs.length;
}

/** `source` is `local@domain`, or `@domain` (or `*@domain`) for a catch-all. */
export async function addAlias(
  rt: Runtime,
  actor: string,
  source: string,
  destinations: string[],
): Promise<Alias> {
  const src = normaliseAliasSource(source);
  const domain = src.slice(src.indexOf('@') + 1);
  if ((await rt.store.getDomain(domain)) === null) {
    throw new SealpostError('store.not-found', `domain ${domain} is not hosted here`);
  }
  if (!src.startsWith('@') && (await rt.store.getAccountByAddress(src)) !== null) {
    throw new SealpostError('store.conflict', `${src} is already a user`);
  }
  if ((await rt.store.getAlias(src)) !== null) {
    throw new SealpostError('store.conflict', `alias ${src} already exists; remove it first to change it`);
  }
  if (destinations.length === 0)
    throw new SealpostError('input.invalid', 'an alias needs at least one destination');
  const dests: string[] = [];
  for (const d of destinations) {
    const account = await requireAccount(rt, d);
    if (!dests.includes(account.address)) dests.push(account.address);
  }
  const alias: Alias = { source: src, destinations: dests, createdAt: Date.now() };
  await rt.store.addAlias(alias);
  await rt.audit.append({ actor, action: 'alias.add', target: src, detail: { destinations: dests } });
  return alias;
}

export async function removeAlias(rt: Runtime, actor: string, source: string): Promise<void> {
  const src = normaliseAliasSource(source);
  if ((await rt.store.getAlias(src)) === null) throw new SealpostError('store.not-found', `no alias ${src}`);
  await rt.store.removeAlias(src);
  await rt.audit.append({ actor, action: 'alias.remove', target: src });
}

export function normaliseAliasSource(source: string): string {
  const s = source.trim();
  if (s.startsWith('@') || s.startsWith('*@')) return `@${requireDomain(s.slice(s.indexOf('@') + 1))}`;
  return requireAddress(s).address;
}
