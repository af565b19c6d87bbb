// BlobStore over a directory of files: sealed message bodies beside the SQLite file.
// Layout: <root>/<h0h1>/<h2h3>/<ref>, where h = hex SHA-256 of the ref, so no
// directory grows past a few thousand entries.
// Invariants:
// - a ref is 1..100 characters of [A-Za-z0-9_-]; anything else is refused with
//   'input.invalid' before the file system is touched (no traversal, no dot files);
// - put is atomic and durable: write a temp file (mode 0600) in the target folder,
//   fsync it, rename it over the final name, fsync the folder, and fsync the parent
//   of every folder it had to create. A reader sees the old blob or the whole new
//   one, never a torn write; a resolved put survives a power loss;
// - folders are created mode 0700; temp names contain '.', so list() never
//   reports one.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SealpostError } from '../../core/errors.ts';
import type { BlobStore } from '../types.ts';

const REF = /^[A-Za-z0-9_-]{1,100}$/;

function checkRef(ref: string): void {
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
    const dir = dirname(path);
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
      await rename(temp, path);
    } catch (e) {
      await unlink(temp).catch(() => {});
      throw e;
    }
    await fsyncDir(dir);
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
