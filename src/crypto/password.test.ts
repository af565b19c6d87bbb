import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hash as argon2Hash } from '@node-rs/argon2';
import {
  ARGON2_PARAMS,
  DUMMY_HASH,
  hashPassword,
  needsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from './password.ts';

describe('password hashing', () => {
  it('hashes with argon2id at the OWASP parameters and verifies', async () => {
    const hash = await hashPassword('correct horse battery staple');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.deepEqual(ARGON2_PARAMS, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    assert.equal(await verifyPassword(hash, 'correct horse battery staple'), true);
    assert.equal(await verifyPassword(hash, 'correct horse battery stapl'), false);
    assert.equal(await verifyPassword(hash, ''), false);
    assert.equal(needsRehash(hash), false);
  });

  it('salts every hash', async () => {
    assert.notEqual(await hashPassword('same'), await hashPassword('same'));
  });

  it('matches a password typed in another Unicode normal form', async () => {
    const hash = await hashPassword('Gr\u00fc\u00dfe'); // precomposed ü
    assert.equal(await verifyPassword(hash, 'Gru\u0308\u00dfe'), true); // u + combining diaeresis
  });

  it('answers false, never throws, for malformed hashes', async () => {
    for (const bad of [
      '',
      'plaintext',
      '$argon2id$v=19$m=19456',
      '$2b$12$abcdefghijklmnopqrstuv',
      DUMMY_HASH.slice(0, -5),
    ]) {
      assert.equal(await verifyPassword(bad, 'anything'), false, bad);
    }
  });

  it('flags weaker or malformed hashes for rehash', async () => {
    const weak = await argon2Hash('pw', { algorithm: 2, memoryCost: 4096, timeCost: 3, parallelism: 1 });
    assert.equal(needsRehash(weak), true);
    const fewPasses = await argon2Hash('pw', {
      algorithm: 2,
      memoryCost: 19456,
      timeCost: 1,
      parallelism: 1,
    });
    assert.equal(needsRehash(fewPasses), true);
    const argon2i = await argon2Hash('pw', { algorithm: 1, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    assert.equal(needsRehash(argon2i), true);
    const stronger = await argon2Hash('pw', { algorithm: 2, memoryCost: 65536, timeCost: 3, parallelism: 1 });
    assert.equal(needsRehash(stronger), false);
    assert.equal(needsRehash('not a hash'), true);
    assert.equal(await verifyPassword(weak, 'pw'), true, 'an old hash still verifies until it is upgraded');
  });

  it('costs an unknown user about what a wrong password costs', async () => {
    const hash = await hashPassword('secret');
    assert.equal(needsRehash(DUMMY_HASH), false);
    // Interleave the two so that load from other processes hits both alike.
    let wrong = 0;
    let unknown = 0;
    const elapsed = async (fn: () => Promise<unknown>): Promise<number> => {
      const t0 = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    await verifyAgainstDummy('warm-up');
    for (let i = 0; i < 6; i++) {
      wrong += await elapsed(() => verifyPassword(hash, 'guess'));
      unknown += await elapsed(() => verifyAgainstDummy('guess'));
    }
    assert.equal(await verifyAgainstDummy('guess'), false);
    // Both run one full argon2id at the same parameters; allow for scheduler noise.
    assert.ok(unknown > wrong / 3 && unknown < wrong * 3, `unknown ${unknown}ms vs wrong ${wrong}ms`);
    assert.ok(unknown / 6 > 2, `dummy verification took only ${unknown / 6}ms: it is not doing the work`);
  });
});
