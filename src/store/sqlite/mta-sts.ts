// MTA-STS policy cache of the SQLite store (migration 11).
// Invariants: domains are stored lower case; a put replaces the domain's row and prunes
// rows that expired before `now`; inputs are checked ('input.invalid').

import { SealpostError } from '../../core/errors.ts';
import type { StoredStsPolicy } from '../types.ts';
import type { Tx } from './changes.ts';
import type { Row, SqliteDb } from './db.ts';
import { checkTime, nonEmpty } from './identity-rows.ts';
import { num, str } from './rows.ts';

function toPolicy(r: Row): StoredStsPolicy {
  return {
    domain: str(r, 'domain'),
    id: str(r, 'policy_id'),
    text: str(r, 'policy_text'),
    fetchedAt: num(r, 'fetched_at'),
    expiresAt: num(r, 'expires_at'),
  };
}

export function get(db: SqliteDb, domain: string): StoredStsPolicy | null {
  const r = db.get('SELECT * FROM mta_sts_policy WHERE domain = ?', domain.toLowerCase());
  return r === undefined ? null : toPolicy(r);
}

export function put(tx: Tx, p: StoredStsPolicy): void {
  nonEmpty(p.domain, 'policy domain');
  nonEmpty(p.id, 'policy id');
  checkTime(p.fetchedAt, 'fetch time');
  checkTime(p.expiresAt, 'expiry time');
  if (p.expiresAt < p.fetchedAt)
    throw new SealpostError('input.invalid', 'a policy cannot expire before it was fetched');
  tx.db.run('DELETE FROM mta_sts_policy WHERE expires_at < ?', tx.now);
  tx.db.run(
    `INSERT INTO mta_sts_policy (domain, policy_id, policy_text, fetched_at, expires_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id, policy_text = excluded.policy_text,
       fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`,
    p.domain.toLowerCase(),
    p.id,
    p.text,
    p.fetchedAt,
    p.expiresAt,
  );
}

export function remove(tx: Tx, domain: string): void {
  tx.db.run('DELETE FROM mta_sts_policy WHERE domain = ?', domain.toLowerCase());
}
