// Migration 9: DKIM signing keys (issue 5) — one row per (domain, selector). The
// public key is in the clear (it is published in DNS anyway); the private key is
// sealed under a purpose key derived from the master key version in master_version
// (delivery/dkim/key-seal.ts), with associated data binding domain and selector.
// Portable SQL: types from Dialect; CHECK constraints are plain SQL in both backends.
// Invariants encoded here:
// - (domain, selector) is unique: a selector names one key of a domain for ever;
// - a key belongs to a hosted domain and goes with it (ON DELETE CASCADE);
// - algorithm is 'ed25519' or 'rsa'; state is 'pending', 'active', 'retiring' or 'retired'.

import type { Migration } from './index.ts';

export const dkimKey: Migration = {
  version: 9,
  name: 'dkim keys',
  up(db) {
    const d = db.dialect;
    db.exec(`CREATE TABLE dkim_key (
       domain_id TEXT NOT NULL REFERENCES domain (id) ON DELETE CASCADE,
       selector TEXT NOT NULL,
       algorithm TEXT NOT NULL CHECK (algorithm IN ('ed25519', 'rsa')),
       generation TEXT NOT NULL,
       public_key TEXT NOT NULL,
       master_version ${d.int} NOT NULL,
       sealed_private_key ${d.bytes} NOT NULL,
       state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retiring', 'retired')),
       created_at ${d.int} NOT NULL,
       activated_at ${d.int},
       retire_at ${d.int},
       PRIMARY KEY (domain_id, selector))`);
  },
};
