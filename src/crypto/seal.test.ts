import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { IntegrityError, isSealpostError } from '../core/errors.ts';
import { type Aad, open, openJson, seal, sealJson } from './seal.ts';

const key = randomBytes(32);
const aad: Aad = { purpose: 'meta', accountId: 'acc_1', objectId: 'msg_1' };

function assertIntegrity(fn: () => unknown, purpose = aad.purpose): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IntegrityError, `expected IntegrityError, got ${inspect(e)}`);
    assert.equal(e.code, 'crypto.integrity');
    assert.match(e.message, new RegExp(purpose));
    assert.ok(!e.message.includes(key.toString('hex')) && !e.message.includes(key.toString('base64')));
    return true;
  });
}

describe('seal/open', () => {
  it('round-trips empty, text and binary plaintexts', () => {
    for (const plaintext of [Buffer.alloc(0), Buffer.from('Subject: hello'), randomBytes(5000)]) {
      const sealed = seal(key, plaintext, aad);
      assert.equal(sealed[0], 0x01);
      assert.equal(sealed.length, 1 + 12 + plaintext.length + 16);
      assert.deepEqual(open(key, sealed, aad), plaintext);
    }
  });

  it('uses a fresh nonce every time', () => {
    const a = seal(key, Buffer.from('same'), aad);
    const b = seal(key, Buffer.from('same'), aad);
    assert.notDeepEqual(a, b);
  });

  it('detects a flipped bit in every single byte', () => {
    const sealed = seal(key, Buffer.from('confidential subject line'), aad);
    for (let i = 0; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i]! ^= 0x01;
      assertIntegrity(() => open(key, tampered, aad));
    }
  });

  it('refuses a value moved to another account, object or purpose', () => {
    const sealed = seal(key, Buffer.from('x'), aad);
    assertIntegrity(() => open(key, sealed, { ...aad, accountId: 'acc_2' }));
    assertIntegrity(() => open(key, sealed, { ...aad, objectId: 'msg_2' }));
    assertIntegrity(() => open(key, sealed, { ...aad, purpose: 'blob' }), 'blob');
  });

  it('encodes the associated data unambiguously', () => {
    const sealed = seal(key, Buffer.from('x'), { purpose: 'p', accountId: 'ab', objectId: 'c' });
    assertIntegrity(() => open(key, sealed, { purpose: 'p', accountId: 'a', objectId: 'bc' }), 'p');
    assertIntegrity(() => open(key, sealed, { purpose: 'pa', accountId: 'b', objectId: 'c' }), 'pa');
  });

  it('refuses a lone surrogate in the associated data', () => {
    assert.throws(
      () => seal(key, Buffer.from('x'), { ...aad, objectId: '\ud800' }),
      (e: unknown) => isSealpostError(e, 'input.invalid'),
    );
  });

  it('refuses the wrong key, truncation, extension and an unknown format version', () => {
    const sealed = seal(key, Buffer.from('hello'), aad);
    assertIntegrity(() => open(randomBytes(32), sealed, aad));
    assertIntegrity(() => open(key, sealed.subarray(0, sealed.length - 1), aad));
    assertIntegrity(() => open(key, sealed.subarray(0, 10), aad));
    assertIntegrity(() => open(key, Buffer.alloc(0), aad));
    assertIntegrity(() => open(key, Buffer.concat([sealed, Buffer.of(0)]), aad));
    const v2 = Buffer.from(sealed);
    v2[0] = 0x02;
    assertIntegrity(() => open(key, v2, aad));
  });

  it('rejects a key of the wrong length without showing it', () => {
    const short = randomBytes(16);
    assert.throws(
      () => seal(short, Buffer.from('x'), aad),
      (e: unknown) => isSealpostError(e, 'key.invalid') && !e.message.includes(short.toString('hex')),
    );
  });
});

describe('sealJson/openJson', () => {
  it('round-trips a value and binds it like seal', () => {
    const value = { subject: 'Grüße', to: ['a@example.org'], size: 42, seen: false };
    const sealed = sealJson(key, value, aad);
    assert.deepEqual(openJson<typeof value>(key, sealed, aad), value);
    assert.ok(!sealed.includes(Buffer.from('Grüße')));
    assertIntegrity(() => openJson(key, sealed, { ...aad, objectId: 'msg_2' }));
  });

  it('refuses a value that is not JSON', () => {
    assert.throws(
      () => sealJson(key, undefined, aad),
      (e: unknown) => isSealpostError(e, 'input.invalid'),
    );
  });
});
