import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { isSealpostError } from '../core/errors.ts';
import {
  createMasterKeyFile,
  loadMasterKeyFile,
  MasterKeyRing,
  masterKeyRingFromEnv,
  rotateMasterKeyFile,
} from './master-key.ts';

let dir: string;
let n = 0;
const fresh = (): string => join(dir, `master-${++n}.key`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealpost-master-key-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function line(version: number, key: Buffer): string {
  return `sealpost-master-key v${version} ${key.toString('base64')}\n`;
}

async function writeKeyFile(path: string, text: string, mode = 0o600): Promise<void> {
  await writeFile(path, text, { mode });
  await chmod(path, mode);
}

describe('createMasterKeyFile / loadMasterKeyFile', () => {
  it('creates a 0600 file with one version-1 key that loads back', async () => {
    const path = fresh();
    const ring = await createMasterKeyFile(path);
    assert.deepEqual(ring.versions(), [1]);
    assert.equal(ring.current.key.length, 32);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const loaded = await loadMasterKeyFile(path);
    assert.deepEqual(loaded.current.key, ring.current.key);
    assert.match(await readFile(path, 'utf8'), /^sealpost-master-key v1 [A-Za-z0-9+/]{43}=$/m);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('refuses to overwrite an existing file and leaves it intact', async () => {
    const path = fresh();
    const ring = await createMasterKeyFile(path);
    const before = await readFile(path);
    await assert.rejects(createMasterKeyFile(path), (e: unknown) => {
      return (
        isSealpostError(e, 'key.invalid') && /already exists/.test(e.message) && e.message.includes(path)
      );
    });
    assert.deepEqual(await readFile(path), before);
    assert.deepEqual((await loadMasterKeyFile(path)).current.key, ring.current.key);
  });

  it('refuses a 0644 key file, naming the file, the mode and the fix', async () => {
    const path = fresh();
    await writeKeyFile(path, line(1, randomBytes(32)), 0o644);
    await assert.rejects(loadMasterKeyFile(path), (e: unknown) => {
      assert.ok(isSealpostError(e, 'key.file-permissions'));
      assert.match(e.message, /0644/);
      assert.ok(e.message.includes(`chmod 600 ${path}`));
      return true;
    });
  });

  it('refuses group-only access too (0640), and accepts 0600 and 0400', async () => {
    const path = fresh();
    await writeKeyFile(path, line(1, randomBytes(32)), 0o640);
    await assert.rejects(loadMasterKeyFile(path), (e: unknown) => isSealpostError(e, 'key.file-permissions'));
    await chmod(path, 0o600);
    assert.deepEqual((await loadMasterKeyFile(path)).versions(), [1]);
    await chmod(path, 0o400);
    assert.deepEqual((await loadMasterKeyFile(path)).versions(), [1]);
  });

  it('reports a missing file as key.missing', async () => {
    const path = join(dir, 'absent.key');
    await assert.rejects(
      loadMasterKeyFile(path),
      (e: unknown) => isSealpostError(e, 'key.missing') && e.message.includes(path),
    );
  });

  it('names the malformed line without printing its key', async () => {
    const path = fresh();
    const good = randomBytes(32);
    const leaked = randomBytes(32).toString('base64');
    const cases = [
      `sealpost-master-key v0 ${leaked}`, // bad version
      `sealpost-master-key v2 ${leaked.slice(0, 40)}`, // short key
      `master-key v2 ${leaked}`, // wrong tag
      leaked, // a bare key inside a file
    ];
    for (const bad of cases) {
      await writeKeyFile(path, `# comment\n\n${line(1, good)}${bad}\n`);
      await assert.rejects(loadMasterKeyFile(path), (e: unknown) => {
        assert.ok(isSealpostError(e, 'key.invalid'), String(e));
        assert.match(e.message, /line 4\b/);
        assert.ok(!e.message.includes(leaked.slice(0, 20)), 'key material in message');
        assert.ok(!e.message.includes(good.toString('base64').slice(0, 20)), 'key material in message');
        assert.ok(!JSON.stringify(e.detail).includes(leaked.slice(0, 20)));
        return true;
      });
    }
  });

  it('refuses duplicate versions and a file without keys', async () => {
    const path = fresh();
    await writeKeyFile(path, line(1, randomBytes(32)) + line(1, randomBytes(32)));
    await assert.rejects(
      loadMasterKeyFile(path),
      (e: unknown) => isSealpostError(e, 'key.invalid') && /line 2/.test(e.message),
    );
    await writeKeyFile(path, '# only a comment\n');
    await assert.rejects(loadMasterKeyFile(path), (e: unknown) => isSealpostError(e, 'key.invalid'));
  });
});

describe('rotateMasterKeyFile', () => {
  it('appends a new current version, keeps old ones, and keeps mode 0600', async () => {
    const path = fresh();
    const first = await createMasterKeyFile(path);
    const rotated = await rotateMasterKeyFile(path);
    assert.deepEqual(rotated.versions(), [1, 2]);
    assert.equal(rotated.current.version, 2);
    assert.deepEqual(rotated.get(1).key, first.current.key);
    assert.notDeepEqual(rotated.current.key, first.current.key);
    const again = await rotateMasterKeyFile(path);
    assert.deepEqual(again.versions(), [1, 2, 3]);
    const loaded = await loadMasterKeyFile(path);
    assert.deepEqual(loaded.versions(), [1, 2, 3]);
    assert.deepEqual(loaded.get(2).key, rotated.current.key);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.match(await readFile(path, 'utf8'), /^# Sealpost master keys/);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock')),
      [],
    );
  });

  it('refuses to rotate a file others can read, and while another rotation holds the lock', async () => {
    const path = fresh();
    await createMasterKeyFile(path);
    await chmod(path, 0o644);
    await assert.rejects(rotateMasterKeyFile(path), (e: unknown) =>
      isSealpostError(e, 'key.file-permissions'),
    );
    await chmod(path, 0o600);
    await writeFile(`${path}.lock`, '');
    await assert.rejects(
      rotateMasterKeyFile(path),
      (e: unknown) => isSealpostError(e, 'key.invalid') && /lock/.test(e.message),
    );
    assert.deepEqual((await loadMasterKeyFile(path)).versions(), [1]);
  });
});

describe('masterKeyRingFromEnv', () => {
  it('accepts one bare base64 key as version 1', () => {
    const key = randomBytes(32);
    const ring = masterKeyRingFromEnv(` ${key.toString('base64')}\n`);
    assert.deepEqual(ring.versions(), [1]);
    assert.deepEqual(ring.current.key, key);
  });

  it('accepts key lines separated by ";" or newlines', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const value = `sealpost-master-key v1 ${k1.toString('base64')};sealpost-master-key v2 ${k2.toString('base64')}`;
    for (const v of [value, value.replace(';', '\n')]) {
      const ring = masterKeyRingFromEnv(v);
      assert.equal(ring.current.version, 2);
      assert.deepEqual(ring.get(1).key, k1);
    }
  });

  it('refuses a malformed value without echoing it', () => {
    const secret = randomBytes(24).toString('base64');
    assert.throws(
      () => masterKeyRingFromEnv(secret),
      (e: unknown) =>
        isSealpostError(e, 'key.invalid') && /entry 1/.test(e.message) && !e.message.includes(secret),
    );
    assert.throws(
      () => masterKeyRingFromEnv('  '),
      (e: unknown) => isSealpostError(e, 'key.missing'),
    );
  });
});

describe('MasterKeyRing', () => {
  const k1 = randomBytes(32);
  const k3 = randomBytes(32);
  const ring = new MasterKeyRing([
    { version: 3, key: k3 },
    { version: 1, key: k1 },
  ]);

  it('makes the highest version current and finds each version', () => {
    assert.equal(ring.current.version, 3);
    assert.deepEqual(ring.versions(), [1, 3]);
    assert.deepEqual(ring.get(1).key, k1);
    assert.throws(
      () => ring.get(2),
      (e: unknown) => isSealpostError(e, 'key.missing') && /v2/.test(e.message),
    );
  });

  it('never shows key bytes when logged or serialised', () => {
    const shown = [
      inspect(ring),
      JSON.stringify(ring),
      inspect(ring.current),
      JSON.stringify({ k: ring.get(1) }),
    ];
    for (const s of shown) {
      for (const k of [k1, k3]) {
        assert.ok(!s.includes(k.toString('base64')) && !s.includes(k.toString('hex')), s);
        assert.ok(!/\b[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}\b/.test(s), `buffer bytes in ${s}`);
      }
    }
  });

  it('refuses an empty ring, bad versions and short keys', () => {
    assert.throws(
      () => new MasterKeyRing([]),
      (e: unknown) => isSealpostError(e),
    );
    assert.throws(
      () => new MasterKeyRing([{ version: 0, key: k1 }]),
      (e: unknown) => isSealpostError(e, 'key.invalid'),
    );
    assert.throws(
      () => new MasterKeyRing([{ version: 1, key: randomBytes(16) }]),
      (e: unknown) => isSealpostError(e, 'key.invalid'),
    );
  });
});
