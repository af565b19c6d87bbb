// BlobStore over a directory of files: the SQLite store keeps its large sealed
// message bodies here (small ones live in its `blob` table; see sqlite/blobs.ts).
// Layout: <root>/<h0h1>/<h2h3>/<ref>, where h = hex SHA-256 of the ref, so no
// directory grows past a few thousand entries.
// Invariants:
// - a ref is 1..100 characters of [A-Za-z0-9_-]; anything else is refused with
//   'input.invalid' before the file system is touched (no traversal, no dot files);
// - put and create are atomic and durable: write a temp file (mode 0600) in the
//   target folder, fsync it, move it to the final name (rename for put; link, which
//   never replaces, for create), fsync the folder, and fsync the parent of every
//   folder it had to create. A reader sees the old blob or the whole new one, never
//   a torn write; a resolved put or create survives a power loss;
// - create never replaces a blob: the same bytes again is a no-op, other bytes are
//   'store.conflict';
// - folders are created mode 0700; temp names contain '.', so list() never
//   reports one.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, unlinkSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SealpostError } from '../../core/errors.ts';
import type { BlobStore } from '../types.ts';

const REF = /^[A-Za-z0-9_-]{1,100}$/;

/** 'input.invalid' unless `ref` is 1..100 characters of [A-Za-z0-9_-]. */
export function checkRef(ref: string): void {
  if (typeof ref !== 'string' || !REF.test(ref)) {
    throw new SealpostError('input.invalid', 'invalid blob ref', { length: String(ref).length });
  }
}

function isCode(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class FileBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  private folder(ref: string): string {
    const h = createHash('sha256').update(ref).digest('hex');
    return join(this.root, h.slice(0, 2), h.slice(2, 4));
  }

  /** Path of the blob for `ref` (validated). */
  pathOf(ref: string): string {
    checkRef(ref);
    return join(this.folder(ref), ref);
  }

  async put(ref: string, data: Uint8Array): Promise<void> {
    const path = this.pathOf(ref);
    const temp = await this.writeTemp(ref, data);
    try {
      await rename(temp, path);
    } catch (e) {
      await unlink(temp).catch(() => {});
      throw e;
    }
    await fsyncDir(dirname(path));
  }

  /**
   * Store a new blob, never replacing one: resolves true once it is durable, false if
   * the same bytes were already there; 'store.conflict' if other bytes are.
   */
  async create(ref: string, data: Uint8Array): Promise<boolean> {
    const path = this.pathOf(ref);
    const temp = await this.writeTemp(ref, data);
    try {
      await link(temp, path);
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
      if (Buffer.compare(await readFile(path), data) !== 0) {
        throw new SealpostError('store.conflict', 'blob ref already holds other bytes', { ref });
      }
      return false;
    } finally {
      await unlink(temp).catch(() => {});
    }
    await fsyncDir(dirname(path));
    return true;
  }

  /** Whether the blob is there (a synchronous stat, for checks inside a transaction). */
  hasSync(ref: string): boolean {
    return existsSync(this.pathOf(ref));
  }

  /**
   * Remove the blob now, without fsyncing its folder: a blob that comes back after a
   * crash is an unreferenced orphan (harmless ciphertext, found by fsck). Absent is fine.
   */
  deleteSync(ref: string): void {
    try {
      unlinkSync(this.pathOf(ref));
    } catch (e) {
      if (!isCode(e, 'ENOENT')) throw e;
    }
  }

  async get(ref: string): Promise<Uint8Array> {
    try {
      return await readFile(this.pathOf(ref));
    } catch (e) {
      if (isCode(e, 'ENOENT')) throw new SealpostError('store.not-found', 'no such blob', { ref });
      throw e;
    }
  }

  async delete(ref: string): Promise<void> {
    const path = this.pathOf(ref);
    try {
      await unlink(path);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return;
      throw e;
    }
    await fsyncDir(dirname(path));
  }

  async *list(): AsyncIterable<string> {
    for (const a of await this.entries(this.root)) {
      for (const b of await this.entries(join(this.root, a))) {
        const dir = join(this.root, a, b);
        for (const name of await this.entries(dir)) {
          if (REF.test(name) && this.folder(name) === dir) yield name;
        }
      }
    }
  }

  private async entries(dir: string): Promise<string[]> {
    try {
      return (await readdir(dir)).sort();
    } catch (e) {
      if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return [];
      throw e;
    }
  }

  /** Write `data` to a fresh temp file (mode 0600) in the ref's folder and fsync it. */
  private async writeTemp(ref: string, data: Uint8Array): Promise<string> {
    const dir = dirname(this.pathOf(ref));
    await this.makeDirs(dir);
    const temp = join(dir, `.${ref}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (e) {
      await unlink(temp).catch(() => {});
      throw e;
    }
    return temp;
  }

  /** mkdir -p, fsyncing the parent of each folder created so the new entry is durable. */
  private async makeDirs(dir: string): Promise<void> {
    const missing: string[] = [];
    for (let d = dir; ; d = dirname(d)) {
      try {
        await stat(d);
        break;
      } catch (e) {
        if (!isCode(e, 'ENOENT') || dirname(d) === d) throw e;
        missing.unshift(d);
      }
    }
    for (const d of missing) {
      try {
        await mkdir(d, { mode: 0o700 });
      } catch (e) {
        if (!isCode(e, 'EEXIST')) throw e; // a concurrent put made it
      }
      await fsyncDir(dirname(d));
    }
  }
}
