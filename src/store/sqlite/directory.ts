// Server-wide rows of the SQLite store: meta settings, domains and aliases.
// Invariants:
// - domain names and alias sources are unique ('store.conflict' on a duplicate);
// - an alias belongs to the domain of its source, which must exist; a domain is
//   not removed while an account or an alias uses it;
// - one address names either an account or an alias, never both (so mail for it
//   has exactly one route);
// - alias destinations are kept as a JSON array of strings.

import { SealpostError } from '../../core/errors.ts';
import type { Alias, Domain } from '../types.ts';
import type { Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';
import { str, toAlias, toDomain } from './rows.ts';

export function getMeta(db: SqliteDb, key: string): string | null {
  const row = db.get('SELECT value FROM meta WHERE key = ?', key);
  return row === undefined ? null : str(row, 'value');
}

export function setMeta(tx: Tx, key: string, value: string): void {
  tx.db.run(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    key,
    value,
  );
}

export function addDomain(tx: Tx, domain: Domain): void {
  if (domain.name.length === 0) throw new SealpostError('input.invalid', 'empty domain name');
  tx.db.run(
    'INSERT INTO domain (id, name, created_at) VALUES (?, ?, ?)',
    domain.id,
    domain.name,
    domain.createdAt,
  );
}

export function getDomain(db: SqliteDb, name: string): Domain | null {
  const row = db.get('SELECT id, name, created_at FROM domain WHERE name = ?', name);
  return row === undefined ? null : toDomain(row);
}

export function listDomains(db: SqliteDb): Domain[] {
  return db.all('SELECT id, name, created_at FROM domain ORDER BY name').map(toDomain);
}

export function removeDomain(tx: Tx, name: string): void {
  const domain = getDomain(tx.db, name);
  if (domain === null) throw new SealpostError('store.not-found', 'no such domain', { name });
  const used =
    tx.db.get('SELECT 1 AS x FROM account WHERE domain_id = ? LIMIT 1', domain.id) ??
    tx.db.get('SELECT 1 AS x FROM alias WHERE domain_id = ? LIMIT 1', domain.id);
  if (used !== undefined) {
    throw new SealpostError('store.conflict', 'domain still has accounts or aliases', { name });
  }
  tx.db.run('DELETE FROM domain WHERE id = ?', domain.id);
}

/** The domain part of an address or of a catch-all source ('@domain'). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  const domain = at < 0 ? '' : address.slice(at + 1);
  if (domain.length === 0) throw new SealpostError('input.invalid', 'address without a domain');
  return domain;
}

const ALIAS_COLUMNS = 'alias.source, alias.destinations, alias.created_at';

export function addAlias(tx: Tx, alias: Alias): void {
  const domain = getDomain(tx.db, domainOf(alias.source));
  if (domain === null) {
    throw new SealpostError('store.not-found', 'alias domain is not hosted here', { source: alias.source });
  }
  if (alias.destinations.length === 0) throw new SealpostError('input.invalid', 'alias without destinations');
  if (tx.db.get('SELECT 1 AS x FROM account WHERE address = ?', alias.source) !== undefined) {
    throw new SealpostError('store.conflict', 'an account has this address', { source: alias.source });
  }
  tx.db.run(
    'INSERT INTO alias (source, domain_id, destinations, created_at) VALUES (?, ?, ?, ?)',
    alias.source,
    domain.id,
    JSON.stringify(alias.destinations),
    alias.createdAt,
  );
}

export function getAlias(db: SqliteDb, source: string): Alias | null {
  const row = db.get(`SELECT ${ALIAS_COLUMNS} FROM alias WHERE source = ?`, source);
  return row === undefined ? null : toAlias(row);
}

export function listAliases(db: SqliteDb, domainName?: string): Alias[] {
  const rows =
    domainName === undefined
      ? db.all(`SELECT ${ALIAS_COLUMNS} FROM alias ORDER BY source`)
      : db.all(
          `SELECT ${ALIAS_COLUMNS} FROM alias JOIN domain ON domain.id = alias.domain_id
           WHERE domain.name = ? ORDER BY alias.source`,
          domainName,
        );
  return rows.map(toAlias);
}

export function removeAlias(tx: Tx, source: string): void {
  if (tx.db.run('DELETE FROM alias WHERE source = ?', source) === 0) {
    throw new SealpostError('store.not-found', 'no such alias', { source });
  }
}

/**
 * Drop `address` from every alias's destinations, removing aliases left with none,
 * so that a later account with the same address does not inherit its mail.
 */
export function unlinkAliasDestination(tx: Tx, address: string): void {
  const pattern = `%${JSON.stringify(address).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = tx.db.all(`SELECT ${ALIAS_COLUMNS} FROM alias WHERE destinations LIKE ? ESCAPE '\\'`, pattern);
  for (const alias of rows.map(toAlias)) {
    const rest = alias.destinations.filter((d) => d !== address);
    if (rest.length === alias.destinations.length) continue;
    if (rest.length === 0) tx.db.run('DELETE FROM alias WHERE source = ?', alias.source);
    else tx.db.run('UPDATE alias SET destinations = ? WHERE source = ?', JSON.stringify(rest), alias.source);
  }
}
