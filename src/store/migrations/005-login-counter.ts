// Migration 5: login_counter, the failed-login counts behind the exponential back-off
// (auth/throttle.ts), kept in the store so every role and every process sees the same
// counts (DESIGN invariant 5). One row per key (an address, an account, or a pair).
// Invariants: a row only ever says how many failures and when the last one was; the
// policy (free failures, delays) lives in the auth layer. Old rows are pruned by the
// store when counting (index on last_failure).

import type { Migration } from './index.ts';

export const loginCounter: Migration = {
  version: 5,
  name: 'login failure counters',
  up(db) {
    const d = db.dialect;
    db.exec(`CREATE TABLE login_counter (
       key TEXT PRIMARY KEY,
       failures ${d.int} NOT NULL,
       last_failure ${d.int} NOT NULL)`);
    db.exec('CREATE INDEX login_counter_last ON login_counter (last_failure)');
  },
};
