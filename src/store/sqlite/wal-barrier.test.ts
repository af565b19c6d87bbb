import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteDb } from './db.ts';
import { WalBarrier } from './wal-barrier.ts';

describe('WAL barrier', () => {
  let dir: string;
  let db: SqliteDb;
  let file: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sealpost-wal-'));
    file = path.join(dir, 'x.db');
    db = new SqliteDb(file, 1000);
    db.raw.exec('CREATE TABLE t (v INTEGER)');
  });
  after(() => {
    db.raw.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const synchronous = () => Number(db.raw.prepare('PRAGMA synchronous').get()?.['synchronous']);

  it('relaxes only the write it wraps: FULL (2) before and after, also when the write throws', () => {
    const wal = new WalBarrier(db, file);
    assert.equal(synchronous(), 2);
    assert.equal(
      wal.relaxed(() => synchronous()),
      1,
    );
    assert.equal(synchronous(), 2);
    assert.throws(() =>
      wal.relaxed(() => {
        throw new Error('boom');
      }),
    );
    assert.equal(synchronous(), 2);
  });

  it('resolves concurrent barriers after a sync that started after each call', async () => {
    const wal = new WalBarrier(db, file);
    const order: number[] = [];
    const calls = Array.from({ length: 50 }, (_, i) => {
      wal.relaxed(() => db.raw.prepare('INSERT INTO t (v) VALUES (?)').run(i));
      return wal.barrier().then(() => order.push(i));
    });
    await Promise.all(calls);
    assert.equal(order.length, 50);
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'earlier commits are never told later than later ones',
    );
  });

  it('treats a WAL already checkpointed away as durable', async () => {
    const wal = new WalBarrier(db, path.join(dir, 'missing.db'));
    await wal.barrier();
  });
});
