import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { constantTimeEqual, hmacHex, keyedHash, sha256Hex } from './hash.ts';

describe('hash helpers', () => {
  it('computes the RFC 4231 test case 2 HMAC-SHA256', () => {
    const expected = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
    assert.equal(hmacHex(Buffer.from('Jefe'), 'what do ya want for nothing?'), expected);
    assert.equal(
      keyedHash(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')).toString('hex'),
      expected,
    );
  });

  it('gives different keyed hashes for different keys (blind index per account)', () => {
    assert.notDeepEqual(keyedHash(randomBytes(32), 'invoice'), keyedHash(randomBytes(32), 'invoice'));
  });

  it('hashes strings as UTF-8', () => {
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(sha256Hex('Grüße'), sha256Hex(Buffer.from('Grüße', 'utf8')));
  });

  it('compares bytes: equal, different content, different lengths', () => {
    const a = randomBytes(32);
    assert.equal(constantTimeEqual(a, Buffer.from(a)), true);
    const b = Buffer.from(a);
    b[31]! ^= 1;
    assert.equal(constantTimeEqual(a, b), false);
    assert.equal(constantTimeEqual(a, a.subarray(0, 31)), false);
    assert.equal(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)), true);
  });
});
