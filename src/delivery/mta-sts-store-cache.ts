// The MTA-STS cache (mta-sts.ts MtaStsCache) kept in the store, so every node and every
// restart honours a fetched policy for its max_age (RFC 8461 §5.1): forgetting an enforce
// policy on restart would let an attacker who blocks the policy host downgrade delivery.
// The policy text is stored as fetched and parsed again when read; a row that no longer
// parses is dropped (and the policy fetched again).

import type { Store } from '../store/types.ts';
import type { CachedStsPolicy, MtaStsCache } from './mta-sts.ts';
import { parseStsPolicy } from './mta-sts-policy.ts';

export class StoreMtaStsCache implements MtaStsCache {
  readonly #store: Pick<Store, 'getMtaStsPolicy' | 'putMtaStsPolicy' | 'deleteMtaStsPolicy'>;

  constructor(store: Pick<Store, 'getMtaStsPolicy' | 'putMtaStsPolicy' | 'deleteMtaStsPolicy'>) {
    this.#store = store;
  }

  async get(domain: string): Promise<CachedStsPolicy | undefined> {
    const row = await this.#store.getMtaStsPolicy(domain);
    if (row === null) return undefined;
    const parsed = parseStsPolicy(row.text);
    if (!parsed.ok) {
      await this.#store.deleteMtaStsPolicy(domain);
      return undefined;
    }
    return {
      domain: row.domain,
      id: row.id,
      policy: parsed.value,
      fetchedAt: row.fetchedAt,
      expiresAt: row.expiresAt,
    };
  }

  async set(entry: CachedStsPolicy): Promise<void> {
    await this.#store.putMtaStsPolicy({
      domain: entry.domain,
      id: entry.id,
      text: `${entry.policy.lines.join('\r\n')}\r\n`,
      fetchedAt: entry.fetchedAt,
      expiresAt: entry.expiresAt,
    });
  }

  async delete(domain: string): Promise<void> {
    await this.#store.deleteMtaStsPolicy(domain);
  }
}
