import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isSealpostError } from '../core/errors.ts';
import { MasterKeyRing } from '../crypto/master-key.ts';
import {
  findRecoveryCode,
  hashRecoveryCode,
  newRecoveryCodes,
  normaliseRecoveryCode,
  recoveryCodeKey,
} from './recovery-codes.ts';

const FORMAT = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/;
const key = randomBytes(32);

describe('newRecoveryCodes', () => {
  it('makes ten codes in the XXXX-XXXX-XXXX-XXXX Crockford format by default', () => {
    const codes = newRecoveryCodes();
    assert.equal(codes.length, 10);
    for (const code of codes) {
      assert.match(code, FORMAT);
      assert.equal(normaliseRecoveryCode(code), code.replaceAll('-', ''));
    }
  });

  it('makes 10,000 distinct codes that use the whole alphabet', () => {
    const codes = newRecoveryCodes(100);
    for (let i = 0; i < 99; i++) codes.push(...newRecoveryCodes(100));
    assert.equal(codes.length, 10_000);
    assert.equal(new Set(codes).size, 10_000);
    const seen = new Set(codes.join('').replaceAll('-', ''));
    assert.equal(seen.size, 32);
  });

  it('refuses a count out of range', () => {
    for (const count of [0, -1, 1.5, 101, Number.NaN]) {
      assert.throws(
        () => newRecoveryCodes(count),
        (e: unknown) => isSealpostError(e, 'input.invalid'),
      );
    }
  });
});

describe('hashRecoveryCode and findRecoveryCode', () => {
  const codes = newRecoveryCodes();
  const stored = codes.map((c) => hashRecoveryCode(key, c));

  it('stores a keyed hash, not the code', () => {
    const [first] = codes;
    const [hash] = stored;
    assert.ok(first !== undefined && hash !== undefined);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.ok(!hash.includes(first.replaceAll('-', '').toLowerCase()));
    assert.notEqual(hashRecoveryCode(randomBytes(32), first), hash);
  });

  it('finds each code at its index', () => {
    codes.forEach((code, i) => {
      assert.equal(findRecoveryCode(key, code, stored), i);
    });
  });

  it('reads lower case, missing dashes, spaces and O/0, I/L/1 confusion', () => {
    const code = 'AB01-CDEF-GH1J-KM0N';
    const hashes = [hashRecoveryCode(key, code)];
    for (const typed of [
      'ab01-cdef-gh1j-km0n',
      'AB01CDEFGH1JKM0N',
      ' ab01 cdef gh1j km0n ',
      'ABO1-CDEF-GHIJ-KMON',
      'abol-cdef-ghlj-kmon',
    ]) {
      assert.equal(findRecoveryCode(key, typed, hashes), 0, typed);
    }
  });

  it('refuses a wrong code', () => {
    const other = newRecoveryCodes(1)[0] ?? '';
    assert.equal(findRecoveryCode(key, other, stored), -1);
    assert.equal(findRecoveryCode(randomBytes(32), codes[0] ?? '', stored), -1);
  });

  it('refuses malformed codes without throwing', () => {
    const first = codes[0] ?? '';
    for (const typed of [
      '',
      first.slice(0, -1),
      `${first}0`,
      first.replace(/^./, 'U'),
      first.replace(/^./, '*'),
      first.replace(/^./, 'ı'), // dotless i upper-cases to I: refused, ASCII only
      'x'.repeat(10_000),
    ]) {
      assert.equal(findRecoveryCode(key, typed, stored), -1, typed);
    }
    assert.throws(
      () => hashRecoveryCode(key, 'not a code'),
      (e: unknown) => isSealpostError(e, 'input.invalid'),
    );
  });

  it('ignores stored entries that are not hashes', () => {
    const code = codes[3] ?? '';
    const messy = ['', 'zz', stored[0] ?? '', stored[3] ?? ''];
    assert.equal(findRecoveryCode(key, code, messy), 3);
    assert.equal(findRecoveryCode(key, code, []), -1);
  });

  it('is single use once the caller deletes the matching hash', () => {
    const remaining = [...stored];
    const code = codes[5] ?? '';
    const i = findRecoveryCode(key, code, remaining);
    assert.equal(i, 5);
    remaining.splice(i, 1);
    assert.equal(findRecoveryCode(key, code, remaining), -1);
    assert.equal(findRecoveryCode(key, codes[6] ?? '', remaining), 5);
  });

  it('keeps stored codes valid across a master-key rotation', () => {
    const v1 = { version: 1, key: randomBytes(32) };
    const before = new MasterKeyRing([v1]);
    const after = new MasterKeyRing([v1, { version: 2, key: randomBytes(32) }]);
    const [code] = newRecoveryCodes(1);
    const stored = [hashRecoveryCode(recoveryCodeKey(before), code!)];
    assert.equal(findRecoveryCode(recoveryCodeKey(after), code!, stored), 0);
  });
});
