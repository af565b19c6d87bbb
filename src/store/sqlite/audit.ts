// The audit log table of the SQLite store. The hash chain itself is built by
// src/audit; the store only guarantees what the chain needs from storage.
// Invariants:
// - append-only: the table refuses UPDATE and DELETE (triggers, migration 1);
// - appends are serialised: `build(last)` runs inside BEGIN IMMEDIATE, so it sees
//   the true last row even when another process appends at the same time;
// - seq goes 1, 2, 3, … without gaps, and each row's prevHash is its
//   predecessor's hash; a built row that breaks either is refused
//   ('audit.broken-chain') and nothing is written.

import { SealpostError } from '../../core/errors.ts';
import type { AuditRow } from '../types.ts';
import type { SqliteDb } from './db.ts';
import { toAuditRow } from './rows.ts';

const AUDIT_COLUMNS = 'seq, at, actor, action, target, detail, prev_hash, hash';

export function appendAudit(db: SqliteDb, build: (last: AuditRow | null) => AuditRow): AuditRow {
  return db.transaction(() => {
    const lastRow = db.get(`SELECT ${AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1`);
    const last = lastRow === undefined ? null : toAuditRow(lastRow);
    const row = build(last);
    if (row.seq !== (last?.seq ?? 0) + 1 || (last !== null && row.prevHash !== last.hash)) {
      throw new SealpostError('audit.broken-chain', 'audit row does not follow the last row', {
        seq: row.seq,
      });
    }
    db.run(
      `INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.seq,
      row.at,
      row.actor,
      row.action,
      row.target,
      row.detail,
      row.prevHash,
      row.hash,
    );
    return row;
  });
}

export function listAudit(db: SqliteDb, fromSeq: number, limit: number): AuditRow[] {
  return db
    .all(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?`, fromSeq, limit)
    .map(toAuditRow);
}
