// Recipient resolution for local delivery, in a fixed order so every protocol routes
// an address the same way: (1) an account with that exact address, (2) an alias with
// that exact source, (3) the same two for the address without its +sub-address,
// (4) the domain's catch-all alias. Disabled accounts never receive mail.

import { type Address, withoutSubaddress } from '../core/address.ts';
import type { Account, Store } from '../store/types.ts';

export type Resolution =
  | { readonly kind: 'local'; readonly accounts: readonly Account[] }
  | { readonly kind: 'unknown-user' }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'not-local' };

export async function resolveRecipient(store: Store, address: Address): Promise<Resolution> {
  if ((await store.getDomain(address.domain)) === null) return { kind: 'not-local' };
  const candidates = [address.address];
  const base = withoutSubaddress(address);
  if (base !== null) candidates.push(base.address);
  for (const candidate of candidates) {
    const found = await exact(store, candidate);
    if (found !== null) return found;
  }
  const catchAll = await store.getAlias(`@${address.domain}`);
  if (catchAll !== null) return fromAddresses(store, catchAll.destinations);
  return { kind: 'unknown-user' };
}

async function exact(store: Store, address: string): Promise<Resolution | null> {
  const account = await store.getAccountByAddress(address);
  if (account !== null)
    return account.disabled ? { kind: 'disabled' } : { kind: 'local', accounts: [account] };
  const alias = await store.getAlias(address);
  if (alias !== null) return fromAddresses(store, alias.destinations);
  return null;
}

async function fromAddresses(store: Store, addresses: readonly string[]): Promise<Resolution> {
  const accounts: Account[] = [];
  let disabled = false;
  for (const a of addresses) {
    const account = await store.getAccountByAddress(a);
    if (account === null) continue;
    if (account.disabled) disabled = true;
    else if (!accounts.some((x) => x.id === account.id)) accounts.push(account);
  }
  if (accounts.length > 0) return { kind: 'local', accounts };
  return disabled ? { kind: 'disabled' } : { kind: 'unknown-user' };
}
