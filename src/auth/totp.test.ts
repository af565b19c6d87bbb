import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { IntegrityError, isSealpostError } from '../core/errors.ts';
import {
  newTotpSecret,
  openTotpSecret,
  sealTotpSecret,
  totpCode,
  totpStep,
  totpUri,
  verifyTotp,
} from './totp.ts';

// RFC 6238 Appendix B, SHA1 rows: the seed is the ASCII string "12345678901234567890".
const RFC_SEED = new Uint8Array(Buffer.from('12345678901234567890', 'ascii'));
const RFC_VECTORS: ReadonlyArray<readonly [number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP codes (RFC 6238)', () => {
  it('matches the Appendix B SHA1 test vectors (8 digits)', () => {
    for (const [seconds, expected] of RFC_VECTORS) {
      assert.equal(totpCode(RFC_SEED, totpStep(seconds * 1000), 8), expected, `T=${seconds}`);
    }
  });

  it('accepts the 6-digit truncation of each vector at its own time', () => {
    for (const [seconds, expected] of RFC_VECTORS) {
      const result = verifyTotp({
        secret: RFC_SEED,
        code: expected.slice(-6),
        now: seconds * 1000,
        lastStep: null,
      });
      assert.deepEqual(result, { ok: true, step: Math.floor(seconds / 30) }, `T=${seconds}`);
    }
  });

  it('makes 160-bit secrets and refuses short ones', () => {
    const a = newTotpSecret();
    assert.equal(a.length, 20);
    assert.notDeepEqual(a, newTotpSecret());
    assert.throws(
      () => totpCode(new Uint8Array(15), 1),
      (e: unknown) => isSealpostError(e, 'key.invalid'),
    );
  });

  it('uses only the given bytes of a Buffer that is a view into a larger pool', () => {
    const pooled = Buffer.from('xxxx12345678901234567890yyyy', 'ascii').subarray(4, 24);
    assert.equal(totpCode(pooled, totpStep(59_000), 8), '94287082');
  });
});

describe('verifyTotp', () => {
  const secret = newTotpSecret();
  const now = 1_700_000_015_000; // 15 s into a step
  const step = totpStep(now);

  it('accepts the current code once, then refuses it as replayed', () => {
    const code = totpCode(secret, step);
    const first = verifyTotp({ secret, code, now, lastStep: null });
    assert.deepEqual(first, { ok: true, step });
    assert.ok(first.ok);
    const again = verifyTotp({ secret, code, now: now + 5_000, lastStep: first.step });
    assert.deepEqual(again, { ok: false, reason: 'replayed' });
  });

  it('accepts a code from the previous window once', () => {
    const code = totpCode(secret, step - 1);
    const first = verifyTotp({ secret, code, now, lastStep: step - 5 });
    assert.deepEqual(first, { ok: true, step: step - 1 });
    assert.deepEqual(verifyTotp({ secret, code, now, lastStep: step - 1 }), {
      ok: false,
      reason: 'replayed',
    });
  });

  it('accepts the next window (clock skew) but no further', () => {
    assert.deepEqual(verifyTotp({ secret, code: totpCode(secret, step + 1), now, lastStep: null }), {
      ok: true,
      step: step + 1,
    });
    const twoAhead = totpCode(secret, step + 2);
    const twoBack = totpCode(secret, step - 2);
    for (const code of [twoAhead, twoBack]) {
      // Guard against a chance collision with an accepted window (the test must be able to fail).
      const accepted = [step - 1, step, step + 1].map((s) => totpCode(secret, s));
      if (accepted.includes(code)) continue;
      assert.deepEqual(verifyTotp({ secret, code, now, lastStep: null }), { ok: false, reason: 'wrong' });
    }
  });

  it('refuses an older code after a newer one was used', () => {
    const older = totpCode(secret, step - 1);
    assert.deepEqual(verifyTotp({ secret, code: older, now, lastStep: step }), {
      ok: false,
      reason: 'replayed',
    });
  });

  it('refuses a wrong code', () => {
    const right = totpCode(secret, step);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    const result = verifyTotp({ secret, code: wrong, now, lastStep: null });
    // A wrong code may, with tiny probability, equal a neighbouring window's code.
    const neighbours = [totpCode(secret, step - 1), totpCode(secret, step + 1)];
    if (!neighbours.includes(wrong)) assert.deepEqual(result, { ok: false, reason: 'wrong' });
  });

  it('trims surrounding spaces', () => {
    const code = ` ${totpCode(secret, step)}  `;
    assert.deepEqual(verifyTotp({ secret, code, now, lastStep: null }), { ok: true, step });
  });

  it('refuses malformed codes before any comparison', () => {
    for (const code of ['12345', '1234567', 'abcdef', '', '   ', '12 345', '١٢٣٤٥٦', '12345\n6', '+12345']) {
      assert.deepEqual(verifyTotp({ secret, code, now, lastStep: null }), {
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it('refuses a time that is not a finite non-negative number', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      assert.throws(
        () => verifyTotp({ secret, code: '123456', now: bad, lastStep: null }),
        (e: unknown) => isSealpostError(e, 'input.invalid'),
      );
    }
  });
});

describe('totpUri', () => {
  it('is an otpauth URI with SHA1, 6 digits, 30 s and the base32 secret', () => {
    const uri = new URL(totpUri({ secret: RFC_SEED, account: 'alice@example.org' }));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Sealpost:alice@example.org');
    assert.equal(uri.searchParams.get('issuer'), 'Sealpost');
    assert.equal(uri.searchParams.get('secret'), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.searchParams.get('period'), '30');
  });

  it('takes another issuer', () => {
    const uri = new URL(totpUri({ secret: RFC_SEED, account: 'bob', issuer: 'Mail at Example' }));
    assert.equal(uri.searchParams.get('issuer'), 'Mail at Example');
    assert.equal(decodeURIComponent(uri.pathname), '/Mail at Example:bob');
  });
});

describe('sealed TOTP secrets', () => {
  const key = randomBytes(32);
  const secret = newTotpSecret();

  it('round-trip for the same account and factor', () => {
    const sealed = sealTotpSecret(key, secret, 'acc_1', 'factor_1');
    assert.ok(!sealed.includes(Buffer.from(secret)));
    assert.deepEqual(openTotpSecret(key, sealed, 'acc_1', 'factor_1'), secret);
  });

  it('cannot be opened under another account, factor or key', () => {
    const sealed = sealTotpSecret(key, secret, 'acc_1', 'factor_1');
    const attempts = [
      () => openTotpSecret(key, sealed, 'acc_2', 'factor_1'),
      () => openTotpSecret(key, sealed, 'acc_1', 'factor_2'),
      () => openTotpSecret(randomBytes(32), sealed, 'acc_1', 'factor_1'),
    ];
    for (const attempt of attempts) {
      assert.throws(attempt, (e: unknown) => e instanceof IntegrityError && /totp-secret/.test(e.message));
    }
  });

  it('refuses to seal a short secret', () => {
    assert.throws(
      () => sealTotpSecret(key, new Uint8Array(8), 'acc_1', 'factor_1'),
      (e: unknown) => isSealpostError(e, 'key.invalid'),
    );
  });
});
