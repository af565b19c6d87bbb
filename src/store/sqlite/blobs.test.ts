// Where the SQLite store puts blobs (the contract checks only that they come back):
// inline up to inlineBlobMaxBytes, files above it, durable before the commit that
// references them, deleted from disk with their last message; blob files written
// before inline blobs existed still read and delete.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isSealpostError } from '../../core/errors.ts';
import { FileBlobStore } from '../blobs/file-blob-store.ts';
import { bytes, newMessage, sameBytes, seedAccount } from '../contract/fixtures.ts';
import { DEFAULT_INLINE_BLOB_MAX_BYTES } from './blobs.ts';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';

describe('SqliteStore blob placement', () => {
  let dir = '';
  let path = '';
  const opened: SqliteStore[] = [];
  const open = async (options: Partial<SqliteStoreOptions> = {}): Promise<SqliteStore> => {
    const store = await openSqliteStore({ path, ...options });
    await store.migrate();
    opened.push(store);
    return store;
  };
  /** Refs in the blob table, read through a second connection. */
  const inlineRefs = (): string[] => {
    const db = new DatabaseSync(path, { readOnly: true });
    const rows = db.prepare('SELECT ref FROM blob ORDER BY ref').all();
    db.close();
    return rows.map((r) => String(r['ref']));
  };
  const fileOf = (store: SqliteStore, ref: string): string => new FileBlobStore(store.blobDir).pathOf(ref);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-blobs-'));
    path = join(dir, 'store.db');
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps blobs up to 128 KiB in the blob table and larger ones in files beside the database', async () => {
    const store = await open();
    assert.equal(DEFAULT_INLINE_BLOB_MAX_BYTES, 128 * 1024);
    assert.equal(store.blobDir, join(dir, 'blobs'));
    const { inbox } = await seedAccount(store);
    const atLimit = newMessage(inbox, { sealedBlob: bytes(DEFAULT_INLINE_BLOB_MAX_BYTES) });
    const over = newMessage(inbox, { sealedBlob: bytes(DEFAULT_INLINE_BLOB_MAX_BYTES + 1) });
    const empty = newMessage(inbox, { sealedBlob: new Uint8Array(0) });
    await store.appendMessages([atLimit, over, empty]);
    assert.deepEqual(inlineRefs(), [atLimit.blobRef, empty.blobRef].sort());
    assert.equal(existsSync(fileOf(store, atLimit.blobRef)), false);
    sameBytes(readFileSync(fileOf(store, over.blobRef)), over.sealedBlob);
  });

  it('a file blob is complete on disk when its commit is announced, and gone after expunge', async () => {
    const store = await open();
    const { inbox } = await seedAccount(store);
    const big = newMessage(inbox, { sealedBlob: bytes(300_000) });
    const seenAtCommit: boolean[] = [];
    // Listeners run synchronously right after COMMIT: the file must already be whole.
    const off = store.onChange((c) => {
      if (c.messageId !== big.id) return;
      const file = fileOf(store, big.blobRef);
      seenAtCommit.push(existsSync(file) && readFileSync(file).equals(big.sealedBlob));
    });
    const [appended] = await store.appendMessages([big]);
    off();
    assert.deepEqual(seenAtCommit, [true]);
    assert.ok(existsSync(fileOf(store, big.blobRef)), 'the file exists when the append resolves');
    await store.expunge(inbox.id, [appended!.uid]);
    assert.equal(existsSync(fileOf(store, big.blobRef)), false);
    assert.deepEqual(inlineRefs(), []);
  });

  it('deleteAccount removes its blob files and rows', async () => {
    const store = await open();
    const { account, inbox } = await seedAccount(store);
    const big = newMessage(inbox, { sealedBlob: bytes(200_000) });
    const small = newMessage(inbox, { sealedBlob: bytes(100) });
    await store.appendMessages([big, small]);
    assert.deepEqual(inlineRefs(), [small.blobRef]);
    await store.deleteAccount(account.id);
    assert.equal(existsSync(fileOf(store, big.blobRef)), false);
    assert.deepEqual(inlineRefs(), []);
  });

  it('takes the blob folder and the inline limit from its options', async () => {
    const blobDir = join(dir, 'elsewhere');
    const store = await open({ blobDir, inlineBlobMaxBytes: 10 });
    const { inbox } = await seedAccount(store);
    const ten = newMessage(inbox, { sealedBlob: bytes(10) });
    const eleven = newMessage(inbox, { sealedBlob: bytes(11) });
    await store.appendMessages([ten, eleven]);
    assert.deepEqual(inlineRefs(), [ten.blobRef]);
    assert.ok(fileOf(store, eleven.blobRef).startsWith(blobDir));
    assert.ok(existsSync(fileOf(store, eleven.blobRef)));
    await assert.rejects(open({ inlineBlobMaxBytes: -1 }), (e: unknown) =>
      isSealpostError(e, 'config.invalid'),
    );
  });

  it('reads and deletes blob files written before blobs went inline', async () => {
    const before = await open({ inlineBlobMaxBytes: 0 }); // as if every blob were a file
    const { inbox } = await seedAccount(before);
    const old = newMessage(inbox, { sealedBlob: bytes(500) });
    const [appended] = await before.appendMessages([old]);
    await before.close();
    const store = await open();
    sameBytes(await store.readBlob(old.blobRef), old.sealedBlob);
    assert.deepEqual(inlineRefs(), []);
    assert.deepEqual(await store.expunge(inbox.id, [appended!.uid]), [old.blobRef]);
    assert.equal(existsSync(fileOf(store, old.blobRef)), false);
  });

  it('a blob file that cannot be written fails only its own append', async () => {
    writeFileSync(join(dir, 'not-a-folder'), 'x');
    const store = await open({ blobDir: join(dir, 'not-a-folder') });
    const { inbox } = await seedAccount(store);
    const small = store.appendMessages([newMessage(inbox)]);
    const big = store.appendMessages([newMessage(inbox, { sealedBlob: bytes(200_000) })]);
    const [a, b] = await Promise.allSettled([small, big]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    assert.equal((await store.getMailboxById(inbox.id))?.messageCount, 1);
  });
});
