import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { IntegrityError, isSealpostError } from '../core/errors.ts';
import type { AccountKeyRecord } from '../store/types.ts';
import {
  createAccountKeys,
  newDataKey,
  openDataKeyWithPrivateKey,
  rewrapAccountKey,
  sealDataKeyToPublicKey,
  unwrapAccountKey,
  unwrapDataKey,
  wrapDataKey,
} from './account-keys.ts';
import { openBlob, sealBlob } from './blob.ts';
import { createMasterKeyFile, loadMasterKeyFile, MasterKeyRing, rotateMasterKeyFile } from './master-key.ts';
import { openJson, sealJson } from './seal.ts';

const ring = new MasterKeyRing([{ version: 1, key: randomBytes(32) }]);
const isIntegrity = (e: unknown): boolean => e instanceof IntegrityError;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealpost-account-keys-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createAccountKeys / unwrapAccountKey', () => {
  it('creates a record that unwraps to the same keys', () => {
    const { record, accountKey } = createAccountKeys(ring, 'acc_1', 1_700_000_000_000);
    assert.equal(record.accountId, 'acc_1');
    assert.equal(record.version, 1);
    assert.equal(record.masterVersion, 1);
    assert.equal(record.createdAt, 1_700_000_000_000);
    assert.equal(record.publicKey.length, 32);
    assert.ok(!Buffer.from(record.wrappedKey).includes(accountKey.key));
    const unwrapped = unwrapAccountKey(ring, record);
    assert.deepEqual(unwrapped.key, accountKey.key);
    assert.deepEqual(unwrapped.searchKey, accountKey.searchKey);
    assert.deepEqual(unwrapped.threadKey, accountKey.threadKey);
  });

  it('derives distinct search and thread keys, different per account', () => {
    const a = createAccountKeys(ring, 'acc_a', 0).accountKey;
    const b = createAccountKeys(ring, 'acc_b', 0).accountKey;
    assert.notDeepEqual(a.searchKey, a.threadKey);
    assert.notDeepEqual(a.searchKey, a.key);
    assert.notDeepEqual(a.searchKey, b.searchKey);
  });

  it('refuses another master key and a key wrapped for another account', () => {
    const { record } = createAccountKeys(ring, 'acc_1', 0);
    const other = new MasterKeyRing([{ version: 1, key: randomBytes(32) }]);
    assert.throws(() => unwrapAccountKey(other, record), isIntegrity);
    const victim = createAccountKeys(ring, 'acc_2', 0).record;
    const swapped: AccountKeyRecord = { ...victim, wrappedKey: record.wrappedKey };
    assert.throws(() => unwrapAccountKey(ring, swapped), isIntegrity);
  });

  it('detects a substituted public key', () => {
    const { record } = createAccountKeys(ring, 'acc_1', 0);
    const attacker = createAccountKeys(ring, 'acc_x', 0).record;
    assert.throws(() => unwrapAccountKey(ring, { ...record, publicKey: attacker.publicKey }), isIntegrity);
  });

  it('explains a zero-access record and a missing master version', () => {
    const { record } = createAccountKeys(ring, 'acc_1', 0);
    assert.throws(
      () => unwrapAccountKey(ring, { ...record, masterVersion: 0 }),
      (e: unknown) => isSealpostError(e, 'key.missing') && /zero-access/.test(e.message),
    );
    assert.throws(
      () => unwrapAccountKey(ring, { ...record, masterVersion: 7 }),
      (e: unknown) => isSealpostError(e, 'key.missing') && /v7/.test(e.message),
    );
  });

  it('never shows key bytes when an account key is logged', () => {
    const { accountKey } = createAccountKeys(ring, 'acc_1', 0);
    for (const s of [inspect(accountKey), JSON.stringify(accountKey)]) {
      for (const k of [accountKey.key, accountKey.searchKey, accountKey.threadKey]) {
        assert.ok(!s.includes(k.toString('hex')) && !s.includes(k.toString('base64')));
      }
      assert.match(s, /acc_1/);
    }
  });
});

describe('master key rotation with real key files', () => {
  it('keeps mail readable after rotation and re-wrap, even without the old master key', async () => {
    const path = join(dir, 'master.key');
    const ring1 = await createMasterKeyFile(path);
    const { record, accountKey } = createAccountKeys(ring1, 'acc_1', 0);
    const dataKey = newDataKey();
    const wrapped = wrapDataKey(accountKey, dataKey, 'msg_1');
    const body = Buffer.from('From: a@example.org\r\nSubject: before rotation\r\n\r\nhello\r\n');
    const blob = sealBlob(dataKey, body, { purpose: 'blob', accountId: 'acc_1', objectId: 'msg_1' });
    const meta = sealJson(
      dataKey,
      { subject: 'before rotation' },
      { purpose: 'meta', accountId: 'acc_1', objectId: 'msg_1' },
    );

    const ring2 = await rotateMasterKeyFile(path);
    assert.deepEqual(ring2.versions(), [1, 2]);
    // The old record still opens with the rotated ring (it keeps v1).
    assert.deepEqual(unwrapAccountKey(await loadMasterKeyFile(path), record).key, accountKey.key);

    const rewrapped = rewrapAccountKey(ring2, record);
    assert.equal(rewrapped.masterVersion, 2);
    assert.deepEqual(rewrapped.publicKey, record.publicKey);
    assert.deepEqual(rewrapped.sealedPrivateKey, record.sealedPrivateKey);
    const onlyNew = new MasterKeyRing([ring2.current]);
    const after = unwrapAccountKey(onlyNew, rewrapped);
    const dk = unwrapDataKey(after, wrapped, 'msg_1');
    assert.deepEqual(openBlob(dk, blob, { purpose: 'blob', accountId: 'acc_1', objectId: 'msg_1' }), body);
    assert.deepEqual(openJson(dk, meta, { purpose: 'meta', accountId: 'acc_1', objectId: 'msg_1' }), {
      subject: 'before rotation',
    });
    // The new wrapping is not the old one under a new label.
    assert.throws(
      () => unwrapAccountKey(onlyNew, { ...rewrapped, wrappedKey: record.wrappedKey }),
      isIntegrity,
    );
  });
});

describe('data keys', () => {
  const { accountKey } = createAccountKeys(ring, 'acc_1', 0);

  it('round-trips and binds the message id and account', () => {
    const dataKey = newDataKey();
    assert.equal(dataKey.length, 32);
    const wrapped = wrapDataKey(accountKey, dataKey, 'msg_1');
    assert.deepEqual(unwrapDataKey(accountKey, wrapped, 'msg_1'), dataKey);
    assert.throws(() => unwrapDataKey(accountKey, wrapped, 'msg_2'), isIntegrity);
    const other = createAccountKeys(ring, 'acc_2', 0).accountKey;
    assert.throws(() => unwrapDataKey(other, wrapped, 'msg_1'), isIntegrity);
  });
});

describe('sealing data keys to the public key (zero-access groundwork)', () => {
  const { record, accountKey } = createAccountKeys(ring, 'acc_1', 0);

  it('round-trips through the private key', () => {
    const dataKey = newDataKey();
    const sealed = sealDataKeyToPublicKey(record.publicKey, dataKey, 'acc_1', 'msg_1');
    assert.equal(sealed[0], 0x01);
    assert.equal(sealed.length, 1 + 32 + 12 + 32 + 16);
    assert.deepEqual(openDataKeyWithPrivateKey(accountKey, record, sealed, 'msg_1'), dataKey);
    // Ephemeral keys: two seals of the same data key differ.
    assert.notDeepEqual(sealDataKeyToPublicKey(record.publicKey, dataKey, 'acc_1', 'msg_1'), sealed);
  });

  it('fails with another account key, message id or account, or any flipped byte', () => {
    const sealed = sealDataKeyToPublicKey(record.publicKey, newDataKey(), 'acc_1', 'msg_1');
    const other = createAccountKeys(ring, 'acc_2', 0);
    assert.throws(() => openDataKeyWithPrivateKey(other.accountKey, record, sealed, 'msg_1'), isIntegrity);
    assert.throws(
      () => openDataKeyWithPrivateKey(other.accountKey, other.record, sealed, 'msg_1'),
      isIntegrity,
    );
    assert.throws(() => openDataKeyWithPrivateKey(accountKey, record, sealed, 'msg_2'), isIntegrity);
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i]! ^= 0x04;
      assert.throws(
        () => openDataKeyWithPrivateKey(accountKey, record, tampered, 'msg_1'),
        isIntegrity,
        `byte ${i}`,
      );
    }
    assert.throws(
      () => openDataKeyWithPrivateKey(accountKey, record, sealed.subarray(0, 60), 'msg_1'),
      isIntegrity,
    );
  });

  it('refuses a low-order (all-zero) public key', () => {
    assert.throws(
      () => sealDataKeyToPublicKey(new Uint8Array(32), newDataKey(), 'acc_1', 'msg_1'),
      (e: unknown) => isSealpostError(e, 'key.invalid'),
    );
  });
});
