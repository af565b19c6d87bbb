// Managing a domain's DKIM keys (issue 5 item 2), shared by `sealpost dkim` and a later
// admin API: generate a pending pair, activate it once DNS publishes it (the old pair
// keeps being published while mail signed with it may still be verified: rotation
// with overlap), retire keys, and list what DNS must publish.
//
// Lifecycle of a key: pending -> active -> retiring -> retired, or pending -> retired.
// Invariants:
// - A domain signs with at most one pair: activation takes exactly one pending Ed25519
//   and one pending RSA key, and every key active before becomes retiring (retireAt =
//   now + overlap) in the same store transaction.
// - Activation first checks, through the configured resolver, that DNS publishes each
//   new key exactly; it is refused otherwise, unless the caller skips the check.
// - Every change writes one audit entry naming the actor; nothing secret goes in it.

import type { AuditLog } from '../../audit/log.ts';
import { normaliseDomain } from '../../core/address.ts';
import { SealpostError } from '../../core/errors.ts';
import type { MasterKeyRing } from '../../crypto/index.ts';
import type { DnsResolver } from '../../net/dns.ts';
import type { DkimAlgorithm, DkimKeyRecord, DkimKeyTransition, Store } from '../../store/types.ts';
import { nextGeneration, publishedMismatch, recordName, selectorOf } from './dns-record.ts';
import { generateDkimKey, sealDkimKey } from './key-material.ts';

export const DEFAULT_OVERLAP_MS = 7 * 24 * 3600 * 1000;

/** What these operations need of the runtime (a Runtime satisfies it). */
export interface DkimAdmin {
  readonly store: Store;
  readonly keys: MasterKeyRing;
  readonly audit: AuditLog;
}

export async function requireHostedDomain(store: Store, input: string): Promise<string> {
  const domain = normaliseDomain(input.trim());
  if (domain === null)
    throw new SealpostError('input.invalid', `${JSON.stringify(input)} is not a valid domain name`);
  if ((await store.getDomain(domain)) === null) {
    throw new SealpostError(
      'store.not-found',
      `domain ${domain} is not hosted here. Fix: \`sealpost domain add ${domain}\` first.`,
    );
  }
  return domain;
}

/** Generate a pending Ed25519 + RSA-2048 pair for a hosted domain. */
export async function generateDkimKeys(
  rt: DkimAdmin,
  actor: string,
  domainInput: string,
  now = Date.now(),
): Promise<DkimKeyRecord[]> {
  const domain = await requireHostedDomain(rt.store, domainInput);
  const existing = await rt.store.listDkimKeys(domain);
  const generation = nextGeneration(
    now,
    existing.map((k) => k.generation),
  );
  const algorithms: DkimAlgorithm[] = ['ed25519', 'rsa'];
  const keys = algorithms.map((algorithm): DkimKeyRecord => {
    const selector = selectorOf(generation, algorithm);
    return {
      domain,
      selector,
      generation,
      ...sealDkimKey(rt.keys, domain, selector, generateDkimKey(algorithm)),
      state: 'pending',
      createdAt: now,
      activatedAt: null,
      retireAt: null,
    };
  });
  await rt.store.addDkimKeys(keys);
  await rt.audit.append({
    actor,
    action: 'dkim.generate',
    target: domain,
    detail: { generation, selectors: keys.map((k) => k.selector) },
  });
  return keys;
}

/** The keys `names` stand for: each a selector, or a generation label meaning its keys. */
function pick(domain: string, keys: readonly DkimKeyRecord[], names: readonly string[]): DkimKeyRecord[] {
  if (names.length === 0)
    throw new SealpostError('input.invalid', 'name at least one selector or generation');
  const picked = new Map<string, DkimKeyRecord>();
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    const found = keys.filter((k) => k.selector === name || k.generation === name);
    if (found.length === 0) {
      throw new SealpostError(
        'store.not-found',
        `${domain} has no DKIM key or generation ${JSON.stringify(raw)}. Fix: see \`sealpost dkim list ${domain}\`.`,
      );
    }
    for (const k of found) picked.set(k.selector, k);
  }
  return [...picked.values()];
}

export interface ActivateOptions {
  readonly now?: number;
  /** How long the keys active until now stay published (default 7 days). */
  readonly overlapMs?: number;
  /** Checks DNS publishes each key first; null skips the check (--force). */
  readonly resolver: DnsResolver | null;
}

export interface Activation {
  readonly activated: DkimKeyRecord[];
  readonly retiring: DkimKeyRecord[];
  readonly retireAt: number;
}

/** Why DNS does not publish these keys (one line each); empty if it does. */
export async function checkPublished(
  resolver: DnsResolver,
  keys: readonly DkimKeyRecord[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const k of keys) {
    const name = recordName(k.selector, k.domain);
    let problem: string | null;
    try {
      problem = publishedMismatch(await resolver.resolve(name, 'TXT'), k.algorithm, k.publicKey);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      problem =
        code === 'ENOTFOUND' || code === 'ENODATA'
          ? `no TXT record there (${code})`
          : `DNS lookup failed (${typeof code === 'string' ? code : String(e)})`;
    }
    if (problem !== null) problems.push(`${name}: ${problem}`);
  }
  return problems;
}

/** Make a pending pair the domain's signing keys; the pair active until now starts retiring. */
export async function activateDkimKeys(
  rt: DkimAdmin,
  actor: string,
  domainInput: string,
  names: readonly string[],
  options: ActivateOptions,
): Promise<Activation> {
  const now = options.now ?? Date.now();
  const overlapMs = options.overlapMs ?? DEFAULT_OVERLAP_MS;
  if (!Number.isSafeInteger(overlapMs) || overlapMs < 0) {
    throw new SealpostError('input.invalid', 'the overlap must be a whole, non-negative time');
  }
  const domain = await requireHostedDomain(rt.store, domainInput);
  const keys = await rt.store.listDkimKeys(domain);
  const chosen = pick(domain, keys, names);
  for (const k of chosen) {
    if (k.state !== 'pending') {
      throw new SealpostError(
        'input.invalid',
        `DKIM key ${k.selector} of ${domain} is ${k.state}; only a pending key can be activated. Fix: \`sealpost dkim generate ${domain}\` for a new pair.`,
      );
    }
  }
  const count = (a: DkimAlgorithm) => chosen.filter((k) => k.algorithm === a).length;
  if (count('ed25519') !== 1 || count('rsa') !== 1) {
    throw new SealpostError(
      'input.invalid',
      `activate one pair: one ed25519 and one rsa key (got ${chosen.map((k) => `${k.selector} ${k.algorithm}`).join(', ')}). Fix: name the generation, e.g. \`sealpost dkim activate ${domain} ${chosen[0]?.generation ?? 'GENERATION'}\`.`,
    );
  }
  if (options.resolver !== null) {
    const problems = await checkPublished(options.resolver, chosen);
    if (problems.length > 0) {
      throw new SealpostError(
        'input.invalid',
        `DNS does not publish the new DKIM keys yet:\n  ${problems.join('\n  ')}\nFix: publish the records from \`sealpost dkim dns ${domain}\`, wait until the resolver sees them and try again (--force activates without checking).`,
      );
    }
  }
  const retireAt = now + overlapMs;
  const old = keys.filter((k) => k.state === 'active');
  const transitions: DkimKeyTransition[] = [
    ...chosen.map((k) => ({
      selector: k.selector,
      from: k.state,
      state: 'active' as const,
      activatedAt: now,
      retireAt: null,
    })),
    ...old.map((k) => ({
      selector: k.selector,
      from: k.state,
      state: 'retiring' as const,
      activatedAt: k.activatedAt,
      retireAt,
    })),
  ];
  await rt.store.updateDkimKeys(domain, transitions);
  await rt.audit.append({
    actor,
    action: 'dkim.activate',
    target: domain,
    detail: {
      selectors: chosen.map((k) => k.selector),
      retiring: old.map((k) => k.selector),
      retireAt,
      dnsChecked: options.resolver !== null,
    },
  });
  return {
    activated: chosen.map((k) => ({ ...k, state: 'active', activatedAt: now, retireAt: null })),
    retiring: old.map((k) => ({ ...k, state: 'retiring', retireAt })),
    retireAt,
  };
}

/**
 * Retire keys (a selector or a generation): a pending key is retired at once; an active
 * one stops signing and stays published until now + overlap (retiring); a retiring one
 * is retired (its record may leave DNS). Returns the keys as they are now.
 */
export async function retireDkimKeys(
  rt: DkimAdmin,
  actor: string,
  domainInput: string,
  names: readonly string[],
  options: { now?: number; overlapMs?: number } = {},
): Promise<DkimKeyRecord[]> {
  const now = options.now ?? Date.now();
  const overlapMs = options.overlapMs ?? DEFAULT_OVERLAP_MS;
  const domain = await requireHostedDomain(rt.store, domainInput);
  const chosen = pick(domain, await rt.store.listDkimKeys(domain), names);
  const done = chosen.filter((k) => k.state === 'retired');
  if (done.length > 0) {
    throw new SealpostError(
      'input.invalid',
      `DKIM key ${done.map((k) => k.selector).join(', ')} of ${domain} is already retired`,
    );
  }
  const transitions = chosen.map((k): DkimKeyTransition => {
    if (k.state === 'active') {
      return {
        selector: k.selector,
        from: 'active',
        state: 'retiring',
        activatedAt: k.activatedAt,
        retireAt: now + overlapMs,
      };
    }
    return {
      selector: k.selector,
      from: k.state,
      state: 'retired',
      activatedAt: k.activatedAt,
      retireAt: k.retireAt ?? now,
    };
  });
  await rt.store.updateDkimKeys(domain, transitions);
  await rt.audit.append({
    actor,
    action: 'dkim.retire',
    target: domain,
    detail: {
      changes: transitions.map((t) => ({
        selector: t.selector,
        from: t.from,
        to: t.state,
        retireAt: t.retireAt,
      })),
    },
  });
  return chosen.map((k, i) => {
    const t = transitions[i];
    return t === undefined ? k : { ...k, state: t.state, retireAt: t.retireAt };
  });
}

/**
 * Retiring keys whose overlap has ended become retired (for a periodic task; actor
 * 'system'). Returns them.
 */
export async function finishDueRetirements(
  rt: DkimAdmin,
  actor: string,
  now = Date.now(),
): Promise<DkimKeyRecord[]> {
  const due = (await rt.store.listDkimKeys()).filter(
    (k) => k.state === 'retiring' && k.retireAt !== null && k.retireAt <= now,
  );
  const byDomain = Map.groupBy(due, (k) => k.domain);
  for (const [domain, keys] of byDomain) {
    await rt.store.updateDkimKeys(
      domain,
      keys.map((k) => ({
        selector: k.selector,
        from: 'retiring',
        state: 'retired',
        activatedAt: k.activatedAt,
        retireAt: k.retireAt,
      })),
    );
    await rt.audit.append({
      actor,
      action: 'dkim.retire',
      target: domain,
      detail: { due: keys.map((k) => k.selector) },
    });
  }
  return due.map((k) => ({ ...k, state: 'retired' }));
}

/** Keys DNS must publish: pending (to be activated), active, and retiring until retireAt. */
export function mustPublish(keys: readonly DkimKeyRecord[], now: number): DkimKeyRecord[] {
  return keys.filter(
    (k) =>
      k.state === 'pending' ||
      k.state === 'active' ||
      (k.state === 'retiring' && (k.retireAt === null || k.retireAt > now)),
  );
}
