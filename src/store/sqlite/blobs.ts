// Where the SQLite store keeps sealed message bodies. A blob of at most
// inlineMaxBytes goes into the `blob` table, in the very transaction that adds its
// message rows (one WAL fsync covers a whole group commit); a larger one goes to a
// FileBlobStore, written and fsync'd BEFORE that transaction begins.
//
// Why 128 KiB by default: SQLite's study "Internal Versus External BLOBs"
// (https://sqlite.org/intern-v-extern-blob.html) finds BLOBs smaller than about
// 100 KB faster to read from the database than from separate files, larger ones
// faster from files (the cross-over grows with the page size). Typical mail is
// tens of KB, so nearly every message costs no file, rename or folder fsync at all.
//
// Invariants:
// - a ref lives in exactly one place, fixed by its blob's length, so the same bytes
//   under the same ref always land in the same place (files written before
//   migration 2 hold blobs of any length: read() looks in the table, then the files);
// - a ref names one immutable blob: appending a ref that is already stored (a copy)
//   needs the same bytes ('store.conflict' otherwise), in the table and in files;
// - a committed message row never references a missing file: files are durable
//   before their rows' transaction, and record() checks inside it that the file is
//   still there; file deletions run synchronously right after the deleting commit,
//   so no append in this process can slip between that commit and the unlink (only
//   an append reusing an existing ref could race that way across processes; IMAP
//   COPY/MOVE never do: they add entries to the same message row, copy.ts);
// - an inline blob is deleted in the transaction that drops its last message row;
//   a file blob just after it (a crash in between leaves a harmless orphan, and so
//   does a failed append whose file was written).

import { SealpostError } from '../../core/errors.ts';
import { checkRef, type FileBlobStore } from '../blobs/file-blob-store.ts';
import type { NewMessage } from '../types.ts';
import type { Tx } from './changes.ts';
import type { SqliteDb } from './db.ts';

export const DEFAULT_INLINE_BLOB_MAX_BYTES = 128 * 1024;

export class SqliteBlobs {
  readonly files: FileBlobStore;
  readonly inlineMaxBytes: number;
  private readonly db: SqliteDb;
  private readonly onFileError: (error: unknown) => void;

  constructor(
    db: SqliteDb,
    files: FileBlobStore,
    inlineMaxBytes: number,
    onFileError: (error: unknown) => void,
  ) {
    if (!Number.isSafeInteger(inlineMaxBytes) || inlineMaxBytes < 0) {
      throw new SealpostError('config.invalid', 'inlineBlobMaxBytes must be a non-negative integer');
    }
    this.db = db;
    this.files = files;
    this.inlineMaxBytes = inlineMaxBytes;
    this.onFileError = onFileError;
  }

  isInline(m: NewMessage): boolean {
    return m.sealedBlob.length <= this.inlineMaxBytes;
  }

  /**
   * Before the transaction: write and fsync the file blobs among `messages`; returns
   * the refs this call created (to drop if the append then fails).
   */
  async writeFiles(messages: readonly NewMessage[]): Promise<string[]> {
    const created: string[] = [];
    const results = await Promise.allSettled(
      messages
        .filter((m) => !this.isInline(m))
        .map(async (m) => {
          if (await this.files.create(m.blobRef, m.sealedBlob)) created.push(m.blobRef);
        }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      this.discardFiles(created);
      throw failed.reason;
    }
    return created;
  }

  /**
   * After an append failed: unlink the files it created, unless a message now uses
   * one as its blob (a concurrent copy of the same ref that committed since). Checked
   * and unlinked synchronously, so no append can commit in between; if the database
   * is closed, the files stay as orphans.
   */
  discardFiles(refs: readonly string[]): void {
    try {
      const usedAsFile = (ref: string) =>
        this.db.get('SELECT 1 AS x FROM message WHERE blob_ref = ? LIMIT 1', ref) !== undefined &&
        this.db.get('SELECT 1 AS x FROM blob WHERE ref = ?', ref) === undefined;
      this.dropFiles(refs.filter((ref) => !usedAsFile(ref)));
    } catch (e) {
      this.onFileError(e);
    }
  }

  /**
   * Inside the transaction, before m's message row is inserted: store m's blob
   * inline, or check that its file is there.
   */
  record(tx: Tx, m: NewMessage): void {
    const ref = m.blobRef;
    const conflict = () => new SealpostError('store.conflict', 'blob ref already holds other bytes', { ref });
    if (!this.isInline(m)) {
      if (tx.db.get('SELECT 1 AS x FROM blob WHERE ref = ?', ref) !== undefined) throw conflict();
      if (!this.files.hasSync(ref)) {
        throw new SealpostError('store.conflict', 'blob file vanished before commit', { ref });
      }
      return;
    }
    const sql = 'INSERT INTO blob (ref, data) VALUES (?, ?) ON CONFLICT (ref) DO NOTHING';
    if (tx.db.run(sql, ref, m.sealedBlob) === 1) {
      // A ref already in use but not in the table is a file: bytes of another length.
      if (tx.db.get('SELECT 1 AS x FROM message WHERE blob_ref = ? LIMIT 1', ref) !== undefined) {
        throw conflict();
      }
      return;
    }
    const stored = tx.db.get('SELECT data FROM blob WHERE ref = ?', ref)?.['data'];
    if (!(stored instanceof Uint8Array) || Buffer.compare(stored, m.sealedBlob) !== 0) throw conflict();
  }

  /** Inside the transaction: delete the inline blobs among `refs`; returns the others. */
  dropInline(tx: Tx, refs: readonly string[]): string[] {
    return refs.filter((ref) => tx.db.run('DELETE FROM blob WHERE ref = ?', ref) === 0);
  }

  /**
   * Right after the commit that unreferenced them: unlink file blobs, synchronously
   * (see the invariants). A failure leaves an orphan and is reported, never thrown:
   * the commit has happened.
   */
  dropFiles(refs: readonly string[]): void {
    for (const ref of refs) {
      try {
        this.files.deleteSync(ref);
      } catch (e) {
        this.onFileError(e);
      }
    }
  }

  async read(ref: string): Promise<Uint8Array> {
    checkRef(ref);
    const row = this.db.get('SELECT data FROM blob WHERE ref = ?', ref);
    const data = row?.['data'];
    if (data instanceof Uint8Array) return data;
    return this.files.get(ref);
  }

  /** Inline refs in ref order, then the file refs. */
  async *list(): AsyncIterable<string> {
    const page = 1000;
    for (let after = ''; ; ) {
      const rows = this.db.all('SELECT ref FROM blob WHERE ref > ? ORDER BY ref LIMIT ?', after, page);
      for (const row of rows) {
        after = String(row['ref']);
        yield after;
      }
      if (rows.length < page) break;
    }
    yield* this.files.list();
  }
}
