// The master key ring: the root of managed-mode encryption at rest (DESIGN.md,
// "Encryption at rest"). Master keys wrap account keys; they come from a key file
// (mode 0600) or from SEALPOST_MASTER_KEY. The text format is in master-key-format.ts.
//
// Invariants:
// - A key file that grants any permission to group or others (mode & 0o077) is
//   refused before it is read; the message names the file, its mode and the fix.
// - Key files are written atomically (temporary file 0600, fsync, link/rename, fsync
//   of the directory): a crash leaves the old file or the new one, never a torn one.
// - createMasterKeyFile never overwrites an existing file; rotation only appends a
//   version, so backups sealed under older versions still open.
// - No error message, log line or serialisation of a ring contains key bytes.

import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SealpostError } from '../core/errors.ts';
import { decodeKey, formatKeyLine, parseKeyEntries } from './master-key-format.ts';
import { REDACTED, redacted } from './redact.ts';

export interface MasterKey {
  readonly version: number;
  readonly key: Buffer; // 32 bytes
}

const MAX_KEY_FILE_BYTES = 64 * 1024;

function masterKey(version: number, key: Buffer): MasterKey {
  return redacted({ version, key }, () => ({ version, key: REDACTED }));
}

export class MasterKeyRing {
  /** The highest version: it wraps every new or re-wrapped account key. */
  readonly current: MasterKey;
  readonly #keys: ReadonlyMap<number, MasterKey>;

  constructor(keys: MasterKey[]) {
    const map = new Map<number, MasterKey>();
    for (const k of keys) {
      if (!Number.isSafeInteger(k.version) || k.version < 1) {
        throw new SealpostError(
          'key.invalid',
          `master key version must be a positive integer, got ${k.version}`,
        );
      }
      if (!(k.key instanceof Uint8Array) || k.key.length !== 32) {
        throw new SealpostError('key.invalid', `master key v${k.version} must be 32 bytes`);
      }
      if (map.has(k.version))
        throw new SealpostError('key.invalid', `master key v${k.version} appears twice`);
      map.set(k.version, masterKey(k.version, Buffer.from(k.key)));
    }
    const top = Math.max(...map.keys());
    const current = map.get(top);
    if (current === undefined) throw new SealpostError('key.missing', 'the master key ring is empty');
    this.#keys = map;
    this.current = current;
  }

  /** The key of `version`, or SealpostError 'key.missing'. */
  get(version: number): MasterKey {
    const key = this.#keys.get(version);
    if (key === undefined) {
      throw new SealpostError('key.missing', `master key v${version} is not in the key ring`, { version });
    }
    return key;
  }

  /** Versions held, ascending. */
  versions(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  toJSON(): Record<string, unknown> {
    return { versions: this.versions(), current: this.current.version };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `MasterKeyRing { versions: [${this.versions().join(', ')}], current: ${this.current.version} }`;
  }
}

const FILE_HEADER =
  '# Sealpost master keys. Keep this file secret (mode 0600) and back it up apart from\n' +
  '# the data: without it the mail store and its backups cannot be read.\n' +
  '# One key per line: sealpost-master-key v<version> <base64 of 32 bytes>.\n' +
  '# The highest version wraps new keys; keep older lines so older data still opens.\n';

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

async function readKeyFile(path: string): Promise<{ text: string; ring: MasterKeyRing }> {
  let fh: FileHandle;
  try {
    fh = await open(path, fsConstants.O_RDONLY);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT') {
      throw new SealpostError(
        'key.missing',
        `master key file ${path} does not exist; create one with \`sealpost init\` or set SEALPOST_MASTER_KEY`,
        { path },
      );
    }
    if (code === 'EACCES') {
      throw new SealpostError('key.file-permissions', `master key file ${path} cannot be read by this user`, {
        path,
      });
    }
    throw e;
  }
  try {
    // fstat the open descriptor: the file checked is the file read.
    const st = await fh.stat();
    if (!st.isFile())
      throw new SealpostError('key.invalid', `master key file ${path} is not a regular file`, { path });
    if ((st.mode & 0o077) !== 0) {
      throw new SealpostError(
        'key.file-permissions',
        `master key file ${path} has mode ${octal(st.mode)}, which lets group or others access it; ` +
          `run \`chmod 600 ${path}\``,
        { path, mode: octal(st.mode) },
      );
    }
    if (st.size > MAX_KEY_FILE_BYTES) {
      throw new SealpostError('key.invalid', `master key file ${path} is too large to be a key file`, {
        path,
      });
    }
    const text = await fh.readFile('utf8');
    const keys = parseKeyEntries(text.split('\n'), `master key file ${path}`, 'line');
    return { text, ring: new MasterKeyRing(keys) };
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsConstants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write `text` to `path` atomically with mode 0600. 'create' refuses an existing
 * `path` (hard link of the temporary file, which fails if the name exists);
 * 'replace' renames over it.
 */
async function writeKeyFileAtomic(path: string, text: string, mode: 'create' | 'replace'): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  let linked = false;
  try {
    try {
      await fh.chmod(0o600); // independent of the umask
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (mode === 'create') {
      await link(tmp, path);
    } else {
      await rename(tmp, path);
      linked = true;
    }
  } finally {
    if (!linked) await unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
}

/** Create a new key file holding one random key, version 1. Never overwrites. */
export async function createMasterKeyFile(path: string): Promise<MasterKeyRing> {
  const key = masterKey(1, randomBytes(32));
  try {
    await writeKeyFileAtomic(path, FILE_HEADER + formatKeyLine(key), 'create');
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') {
      throw new SealpostError(
        'key.invalid',
        `master key file ${path} already exists; refusing to overwrite it (it may be the only key to your data)`,
        { path },
      );
    }
    if (errnoOf(e) === 'ENOENT') {
      throw new SealpostError(
        'key.invalid',
        `cannot create master key file ${path}: its directory does not exist`,
        {
          path,
        },
      );
    }
    throw e;
  }
  return new MasterKeyRing([key]);
}

/** Load a key file, refusing one that group or others can access. */
export async function loadMasterKeyFile(path: string): Promise<MasterKeyRing> {
  return (await readKeyFile(path)).ring;
}

/**
 * SEALPOST_MASTER_KEY: either one base64 32-byte key (version 1) or key lines
 * separated by ';' or newlines.
 */
export function masterKeyRingFromEnv(value: string): MasterKeyRing {
  const trimmed = value.trim();
  if (trimmed === '') throw new SealpostError('key.missing', 'SEALPOST_MASTER_KEY is empty');
  const single = decodeKey(trimmed);
  if (single !== null) return new MasterKeyRing([{ version: 1, key: single }]);
  return new MasterKeyRing(parseKeyEntries(trimmed.split(/[;\n]/), 'SEALPOST_MASTER_KEY', 'entry'));
}

/**
 * Append a new random key (highest version + 1) to the key file, keeping every older
 * version. A lock file beside the key file keeps two rotations from racing.
 */
export async function rotateMasterKeyFile(path: string): Promise<MasterKeyRing> {
  const lockPath = `${path}.lock`;
  let lock: FileHandle;
  try {
    lock = await open(lockPath, 'wx', 0o600);
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') {
      throw new SealpostError(
        'key.invalid',
        `another key rotation holds ${lockPath}; if none is running, remove that file and retry`,
        { path: lockPath },
      );
    }
    throw e;
  }
  try {
    const { text, ring } = await readKeyFile(path);
    const next = masterKey(ring.current.version + 1, randomBytes(32));
    const base = text.endsWith('\n') || text === '' ? text : `${text}\n`;
    await writeKeyFileAtomic(path, base + formatKeyLine(next), 'replace');
    return new MasterKeyRing([...ring.versions().map((v) => ring.get(v)), next]);
  } finally {
    await lock.close();
    await unlink(lockPath).catch(() => undefined);
  }
}
