// DKIM signing keys of the SQLite store (migration 9): one row per (domain, selector),
// the private key sealed by the caller (delivery/dkim/key-seal.ts), never seen here.
// Invariants:
// - a key belongs to a hosted domain ('store.not-found') and goes with it;
// - (domain, selector) is unique ('store.conflict'), also within one addDkimKeys call;
// - input is refused, never repaired ('input.invalid'): a selector or generation that is
//   not lower-case DNS labels, an unknown algorithm or state, an empty or non-base64
//   public key, an empty sealed key, a time or master version that is not an integer;
// - updateDkimKeys is all or nothing: every transition is a compare-and-set on the
//   key's current state, checked before anything is written.

import { SealpostError } from '../../core/errors.ts';
import type { DkimAlgorithm, DkimKeyRecord, DkimKeyState, DkimKeyTransition } from '../types.ts';
import type { Tx } from './changes.ts';
import type { Row, SqliteDb } from './db.ts';
import { getDomain } from './directory.ts';
import { checkTime } from './identity-rows.ts';
import { bytes, num, numOrNull, str } from './rows.ts';

const ALGORITHMS: readonly string[] = ['ed25519', 'rsa'] satisfies DkimAlgorithm[];
const STATES: readonly string[] = ['pending', 'active', 'retiring', 'retired'] satisfies DkimKeyState[];
// RFC 6376 §3.1: a selector is one or more DNS labels; we keep them lower-case LDH.
const LABELS =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const COLUMNS =
  'd.name AS domain, k.selector, k.algorithm, k.generation, k.public_key, k.master_version, ' +
  'k.sealed_private_key, k.state, k.created_at, k.activated_at, k.retire_at';

function invalid(message: string): never {
  throw new SealpostError('input.invalid', message);
}

function oneOf<T extends string>(value: string, allowed: readonly string[], column: string): T {
  if (!allowed.includes(value)) throw new SealpostError('internal', 'unexpected column value', { column });
  return value as T;
}

function toKey(r: Row): DkimKeyRecord {
  return {
    domain: str(r, 'domain'),
    selector: str(r, 'selector'),
    algorithm: oneOf<DkimAlgorithm>(str(r, 'algorithm'), ALGORITHMS, 'algorithm'),
    generation: str(r, 'generation'),
    publicKey: str(r, 'public_key'),
    masterVersion: num(r, 'master_version'),
    sealedPrivateKey: bytes(r, 'sealed_private_key'),
    state: oneOf<DkimKeyState>(str(r, 'state'), STATES, 'state'),
    createdAt: num(r, 'created_at'),
    activatedAt: numOrNull(r, 'activated_at'),
    retireAt: numOrNull(r, 'retire_at'),
  };
}

function checkSelector(selector: string): void {
  if (!LABELS.test(selector))
    invalid(`DKIM selector ${JSON.stringify(selector)} must be lower-case DNS labels`);
}

function checkState(state: string): void {
  if (!STATES.includes(state)) invalid(`unknown DKIM key state ${JSON.stringify(state)}`);
}

function check(k: DkimKeyRecord): void {
  checkSelector(k.selector);
  if (!LABELS.test(k.generation)) invalid('DKIM key generation must be lower-case DNS labels');
  if (!ALGORITHMS.includes(k.algorithm)) invalid(`unknown DKIM algorithm ${JSON.stringify(k.algorithm)}`);
  checkState(k.state);
  if (!BASE64.test(k.publicKey)) invalid('DKIM public key must be base64');
  if (!(k.sealedPrivateKey instanceof Uint8Array) || k.sealedPrivateKey.length === 0) {
    invalid('DKIM private key must be sealed bytes');
  }
  if (!Number.isSafeInteger(k.masterVersion) || k.masterVersion < 1)
    invalid('master version must be a positive integer');
  if (!Number.isSafeInteger(k.createdAt)) invalid('createdAt must be an integer time');
  checkTime(k.activatedAt, 'activatedAt');
  checkTime(k.retireAt, 'retireAt');
}

function domainId(db: SqliteDb, name: string): string {
  const domain = getDomain(db, name);
  if (domain === null)
    throw new SealpostError('store.not-found', 'domain is not hosted here', { domain: name });
  return domain.id;
}

export function addDkimKeys(tx: Tx, keys: readonly DkimKeyRecord[]): void {
  const seen = new Set<string>();
  for (const k of keys) {
    check(k);
    const key = `${k.domain} ${k.selector}`;
    if (seen.has(key))
      throw new SealpostError('store.conflict', 'DKIM selector given twice', { selector: k.selector });
    seen.add(key);
  }
  for (const k of keys) {
    const id = domainId(tx.db, k.domain);
    if (
      tx.db.get('SELECT 1 AS x FROM dkim_key WHERE domain_id = ? AND selector = ?', id, k.selector) !==
      undefined
    ) {
      throw new SealpostError('store.conflict', 'the domain already has this DKIM selector', {
        domain: k.domain,
        selector: k.selector,
      });
    }
    tx.db.run(
      `INSERT INTO dkim_key (domain_id, selector, algorithm, generation, public_key, master_version,
         sealed_private_key, state, created_at, activated_at, retire_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      k.selector,
      k.algorithm,
      k.generation,
      k.publicKey,
      k.masterVersion,
      k.sealedPrivateKey,
      k.state,
      k.createdAt,
      k.activatedAt,
      k.retireAt,
    );
  }
}

export function listDkimKeys(db: SqliteDb, domain?: string): DkimKeyRecord[] {
  const where = domain === undefined ? '' : 'WHERE d.name = ?';
  const params = domain === undefined ? [] : [domain];
  return db
    .all(
      `SELECT ${COLUMNS} FROM dkim_key k JOIN domain d ON d.id = k.domain_id ${where}
       ORDER BY d.name, k.created_at, k.selector`,
      ...params,
    )
    .map(toKey);
}

export function updateDkimKeys(tx: Tx, domain: string, transitions: readonly DkimKeyTransition[]): void {
  const id = domainId(tx.db, domain);
  if (new Set(transitions.map((t) => t.selector)).size !== transitions.length) {
    invalid('a DKIM selector may change state once per update');
  }
  for (const t of transitions) {
    checkSelector(t.selector);
    checkState(t.from);
    checkState(t.state);
    checkTime(t.activatedAt, 'activatedAt');
    checkTime(t.retireAt, 'retireAt');
  }
  // Check every compare-and-set first, so a refusal changes nothing.
  for (const t of transitions) {
    const row = tx.db.get('SELECT state FROM dkim_key WHERE domain_id = ? AND selector = ?', id, t.selector);
    if (row === undefined) {
      throw new SealpostError('store.not-found', 'no such DKIM key', { domain, selector: t.selector });
    }
    if (str(row, 'state') !== t.from) {
      throw new SealpostError('store.conflict', 'the DKIM key changed state meanwhile', {
        domain,
        selector: t.selector,
        state: str(row, 'state'),
      });
    }
  }
  for (const t of transitions) {
    tx.db.run(
      `UPDATE dkim_key SET state = ?, activated_at = ?, retire_at = ?
       WHERE domain_id = ? AND selector = ? AND state = ?`,
      t.state,
      t.activatedAt,
      t.retireAt,
      id,
      t.selector,
      t.from,
    );
  }
}
