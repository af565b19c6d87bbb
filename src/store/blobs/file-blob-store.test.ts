// FileBlobStore: durable round trips, create without replacing, ref validation (no
// traversal), file modes.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isSealpostError } from '../../core/errors.ts';
import { FileBlobStore } from './file-blob-store.ts';

describe('FileBlobStore', () => {
  let dir = '';
  let blobs: FileBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-blobs-'));
    blobs = new FileBlobStore(join(dir, 'blobs'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips bytes, overwrites atomically, and creates folders 0700 / files 0600', async () => {
    const data = new Uint8Array([0, 1, 2, 255, 254, 0]);
    await blobs.put('msg_abc-DEF_123', data);
    assert.deepEqual(new Uint8Array(await blobs.get('msg_abc-DEF_123')), data);
    await blobs.put('msg_abc-DEF_123', new Uint8Array([7]));
    assert.deepEqual(new Uint8Array(await blobs.get('msg_abc-DEF_123')), new Uint8Array([7]));
    const path = blobs.pathOf('msg_abc-DEF_123');
    assert.ok(path.startsWith(join(dir, 'blobs')));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'blobs'))).mode & 0o777, 0o700);
    // No temp file is left beside the blob.
    assert.deepEqual(await readdir(join(path, '..')), ['msg_abc-DEF_123']);
    await blobs.put('empty', new Uint8Array(0));
    assert.equal((await blobs.get('empty')).length, 0);
  });

  it('create never replaces: the same bytes again is a no-op, other bytes a conflict', async () => {
    const data = new Uint8Array([1, 2, 3]);
    assert.equal(await blobs.create('fresh', data), true);
    assert.equal(await blobs.create('fresh', new Uint8Array(data)), false);
    for (const other of [new Uint8Array([1, 2, 4]), new Uint8Array([1, 2]), new Uint8Array(0)]) {
      await assert.rejects(blobs.create('fresh', other), (e: unknown) =>
        isSealpostError(e, 'store.conflict'),
      );
    }
    assert.deepEqual(new Uint8Array(await blobs.get('fresh')), data);
    const path = blobs.pathOf('fresh');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    // No temp file is left beside the blob, whatever the outcome.
    assert.deepEqual(await readdir(join(path, '..')), ['fresh']);
    assert.equal(blobs.hasSync('fresh'), true);
    blobs.deleteSync('fresh');
    blobs.deleteSync('fresh');
    assert.equal(blobs.hasSync('fresh'), false);
    assert.throws(
      () => blobs.hasSync('../x'),
      (e: unknown) => isSealpostError(e, 'input.invalid'),
    );
  });

  it('refuses refs that could leave the folder or are too long', async () => {
    for (const ref of ['../x', 'a/b', '', 'a'.repeat(101), '.', '..', 'a.b', 'a\\b', 'a\0b', 'é']) {
      for (const op of [
        () => blobs.put(ref, new Uint8Array(1)),
        () => blobs.create(ref, new Uint8Array(1)),
        () => blobs.get(ref),
        () => blobs.delete(ref),
      ]) {
        await assert.rejects(op(), (e: unknown) => isSealpostError(e, 'input.invalid'), JSON.stringify(ref));
      }
    }
    await blobs.put('a'.repeat(100), new Uint8Array(1));
    assert.deepEqual(await readdir(dir), ['blobs']);
  });

  it('get of a missing ref is not-found; delete of a missing ref is fine', async () => {
    await assert.rejects(blobs.get('missing'), (e: unknown) => isSealpostError(e, 'store.not-found'));
    await blobs.delete('missing');
    await blobs.put('present', new Uint8Array([1]));
    await blobs.delete('present');
    await blobs.delete('present');
    await assert.rejects(blobs.get('present'), (e: unknown) => isSealpostError(e, 'store.not-found'));
  });

  it('lists every ref, and nothing else', async () => {
    const list = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const ref of blobs.list()) out.push(ref);
      return out.sort();
    };
    assert.deepEqual(await list(), []);
    const refs = Array.from({ length: 20 }, (_, i) => `ref_${i}`);
    await Promise.all(refs.map((r) => blobs.put(r, new Uint8Array([1]))));
    // Stray files (a crashed put's temp file, a misplaced name) are not refs.
    const folder = join(blobs.pathOf('ref_0'), '..');
    await writeFile(join(folder, '.ref_0.deadbeef.tmp'), 'x');
    await writeFile(join(folder, 'ref_999'), 'x');
    assert.deepEqual(await list(), [...refs].sort());
    await blobs.delete('ref_3');
    assert.deepEqual(await list(), refs.filter((r) => r !== 'ref_3').sort());
  });
});
