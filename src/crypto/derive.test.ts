import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { AUDIT_KEY_INFO, auditKey, deriveKey } from './derive.ts';
import { MasterKeyRing } from './master-key.ts';

describe('deriveKey / auditKey', () => {
  it('is HKDF-SHA256 with an empty salt, one key per info string', () => {
    const master = randomBytes(32);
    const expected = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), Buffer.from('x v1'), 32));
    assert.deepEqual(deriveKey(master, 'x v1'), expected);
    assert.notDeepEqual(deriveKey(master, 'x v1'), deriveKey(master, 'x v2'));
    assert.notDeepEqual(deriveKey(master, 'x v1'), master);
  });

  it('keeps the audit key stable across master key rotation', () => {
    const v1 = { version: 1, key: randomBytes(32) };
    const before = auditKey(new MasterKeyRing([v1]));
    const after = auditKey(new MasterKeyRing([v1, { version: 2, key: randomBytes(32) }]));
    assert.deepEqual(after, before);
    assert.deepEqual(before, deriveKey(v1.key, AUDIT_KEY_INFO));
  });
});
