// Migration 6: identity (issue 4) — app passwords, second factors (TOTP, WebAuthn,
// recovery codes), password history and the account owner's security log.
// Portable SQL: types from Dialect; lists (scopes, networks, transports, code hashes)
// are JSON text so PostgreSQL takes the same columns.
// Invariants encoded here:
// - every row belongs to one account and goes with it (ON DELETE CASCADE);
// - an app password id and a factor id are unique; a WebAuthn credential id is
//   unique across all accounts (NULLs, for other kinds, are distinct);
// - password_history and security_event order by a serial key that is never reused.

import type { Migration } from './index.ts';

export const identity: Migration = {
  version: 6,
  name: 'identity: app passwords, second factors, password history, security log',
  up(db) {
    const d = db.dialect;
    const account = 'TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE';
    db.exec(`CREATE TABLE app_password (
       id TEXT PRIMARY KEY,
       account_id ${account},
       name TEXT NOT NULL,
       secret_hash TEXT NOT NULL,
       scopes TEXT NOT NULL,
       expires_at ${d.int},
       allowed_networks TEXT,
       created_at ${d.int} NOT NULL,
       revoked_at ${d.int},
       last_used_at ${d.int},
       last_used_address TEXT)`);
    db.exec('CREATE INDEX app_password_account ON app_password (account_id)');
    db.exec(`CREATE TABLE auth_factor (
       id TEXT PRIMARY KEY,
       account_id ${account},
       kind TEXT NOT NULL,
       name TEXT NOT NULL,
       created_at ${d.int} NOT NULL,
       last_used_at ${d.int},
       sealed_secret ${d.bytes},
       last_step ${d.int},
       credential_id TEXT UNIQUE,
       public_key ${d.bytes},
       counter ${d.int},
       transports TEXT,
       code_hashes TEXT)`);
    db.exec('CREATE INDEX auth_factor_account ON auth_factor (account_id)');
    db.exec(`CREATE TABLE password_history (
       seq ${d.serialKey},
       account_id ${account},
       changed_at ${d.int} NOT NULL,
       password_hash TEXT NOT NULL)`);
    db.exec('CREATE INDEX password_history_account ON password_history (account_id, seq)');
    db.exec(`CREATE TABLE security_event (
       seq ${d.serialKey},
       account_id ${account},
       at ${d.int} NOT NULL,
       kind TEXT NOT NULL,
       protocol TEXT,
       address TEXT,
       client TEXT,
       success ${d.bool} NOT NULL,
       factor TEXT,
       detail TEXT)`);
    db.exec('CREATE INDEX security_event_account ON security_event (account_id, seq)');
  },
};
