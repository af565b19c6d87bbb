// Migration 11: MTA-STS policies of the domains we deliver to (RFC 8461 §5.1), kept in
// the store so that every node and every restart honours a policy for its max_age
// instead of forgetting it (a forgotten enforce policy is what a downgrade attack
// needs). Policies are public documents: nothing here is sealed.
// Invariants: one row per recipient domain (lower case); expires_at = fetched_at + max_age.

import type { Migration } from './index.ts';

export const mtaSts: Migration = {
  version: 11,
  name: 'mta-sts policy cache',
  up(db) {
    const d = db.dialect;
    db.exec(`CREATE TABLE mta_sts_policy (
       domain TEXT PRIMARY KEY,
       policy_id TEXT NOT NULL,
       policy_text TEXT NOT NULL,
       fetched_at ${d.int} NOT NULL,
       expires_at ${d.int} NOT NULL)`);
    db.exec('CREATE INDEX mta_sts_policy_expiry ON mta_sts_policy (expires_at)');
  },
};
