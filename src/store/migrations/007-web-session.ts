// Migration 7: web sessions (issue 4) — one row per browser session of webmail and
// the account pages. The cookie holds a random id; the row holds only a keyed hash
// of it (auth/session.ts), so a database dump yields no usable session.
// Portable SQL: types from Dialect.
// Invariants encoded here:
// - id_hash is unique (the primary key);
// - every session belongs to one account and goes with it (ON DELETE CASCADE);
// - pending is true until the second factor passes; second_factor names it then.

import type { Migration } from './index.ts';

export const webSession: Migration = {
  version: 7,
  name: 'web sessions',
  up(db) {
    const d = db.dialect;
    db.exec(`CREATE TABLE web_session (
       id_hash TEXT PRIMARY KEY,
       account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
       created_at ${d.int} NOT NULL,
       last_seen_at ${d.int} NOT NULL,
       expires_at ${d.int} NOT NULL,
       address TEXT NOT NULL,
       user_agent TEXT NOT NULL,
       pending ${d.bool} NOT NULL,
       second_factor TEXT,
       challenge TEXT)`);
    db.exec('CREATE INDEX web_session_account ON web_session (account_id)');
  },
};
