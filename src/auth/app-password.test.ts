import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { MasterKeyRing } from '../crypto/master-key.ts';
import {
  type AppPasswordRecord,
  appPasswordAllows,
  appPasswordKey,
  hashAppSecret,
  isAppPasswordNetwork,
  newAppPassword,
  parseAppPassword,
  verifyAppSecret,
} from './app-password.ts';

const key = randomBytes(32);

describe('newAppPassword / parseAppPassword', () => {
  it('makes an 8-char id and a 24-char secret shown as eight groups of four', () => {
    const p = newAppPassword();
    assert.match(p.id, /^[a-z2-7]{8}$/);
    assert.match(p.secret, /^[a-z2-7]{24}$/);
    assert.match(p.display, /^[a-z2-7]{4}(?:-[a-z2-7]{4}){7}$/);
    assert.equal(p.display.replaceAll('-', ''), p.id + p.secret);
    assert.deepEqual(parseAppPassword(p.display), { id: p.id, secret: p.secret });
  });

  it('is random: no repeats, every base32 character used', () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const p = newAppPassword();
      seen.add(p.id + p.secret);
      for (const c of p.secret) chars.add(c);
    }
    assert.equal(seen.size, 500);
    assert.equal(chars.size, 32);
  });

  it('accepts the display form with or without dashes or spaces, in any case', () => {
    const p = newAppPassword();
    const flat = p.id + p.secret;
    const variants = [
      flat,
      flat.toUpperCase(),
      p.display.toUpperCase(),
      p.display.replaceAll('-', ' '),
      `  ${p.display}\n`,
      (flat.match(/.{4}/g) ?? []).map((g, i) => (i % 2 ? `-${g}` : g)).join(''),
    ];
    for (const v of variants) assert.deepEqual(parseAppPassword(v), { id: p.id, secret: p.secret }, v);
  });

  it('returns null for anything else, so login falls back to the account password', () => {
    const p = newAppPassword();
    const flat = p.id + p.secret;
    const bad = [
      '',
      'correct horse battery staple',
      flat.slice(1), // 31 characters
      `${flat}a`, // 33
      `${flat.slice(0, 31)}1`, // '1' is not base32
      `${flat.slice(0, 31)}0`,
      p.display.replace('-', '--'),
      p.display.replace('-', '_'),
      `${flat.slice(0, 2)}-${flat.slice(2)}`, // dash inside a group
      `${p.display}-`,
      'x'.repeat(10_000),
    ];
    for (const b of bad) assert.equal(parseAppPassword(b), null, b.slice(0, 50));
  });
});

describe('hashAppSecret / verifyAppSecret', () => {
  const p = newAppPassword();
  const stored = hashAppSecret(key, p.id, p.secret);

  it('round-trips, and stores no trace of the secret', () => {
    assert.match(stored, /^[0-9a-f]{64}$/);
    assert.ok(!stored.includes(p.secret));
    const parsed = parseAppPassword(p.display.toUpperCase());
    assert.ok(parsed !== null);
    assert.equal(verifyAppSecret(key, parsed.id, parsed.secret, stored), true);
  });

  it('refuses a wrong secret, another id, another key and a malformed stored hash', () => {
    const other = newAppPassword();
    assert.equal(verifyAppSecret(key, p.id, other.secret, stored), false);
    assert.equal(verifyAppSecret(key, other.id, p.secret, stored), false); // hash bound to its id
    assert.equal(verifyAppSecret(randomBytes(32), p.id, p.secret, stored), false);
    assert.equal(verifyAppSecret(key, p.id, p.secret, stored.toUpperCase()), false);
    assert.equal(verifyAppSecret(key, p.id, p.secret, stored.slice(2)), false);
    assert.equal(verifyAppSecret(key, p.id, p.secret, ''), false);
    assert.equal(verifyAppSecret(key, p.id, `${p.secret}a`, stored), false);
    assert.equal(verifyAppSecret(key, 'bad id', p.secret, stored), false);
    assert.throws(() => hashAppSecret(key, 'short', p.secret));
  });

  it('derives a key from master key v1 that survives rotation', () => {
    const k1 = randomBytes(32);
    const before = appPasswordKey(new MasterKeyRing([{ version: 1, key: k1 }]));
    const after = appPasswordKey(
      new MasterKeyRing([
        { version: 1, key: k1 },
        { version: 2, key: randomBytes(32) },
      ]),
    );
    assert.deepEqual(after, before);
    assert.equal(verifyAppSecret(after, p.id, p.secret, hashAppSecret(before, p.id, p.secret)), true);
  });

  // Measured on the development machine (Node 24, 200,000 calls after a warm-up):
  // 3.1-5.2 µs per verifyAppSecret call, 0.3-0.6 µs per parseAppPassword; argon2id with
  // the account-password parameters takes tens of milliseconds. The bound below is loose
  // so a busy CI machine passes, but still fails a slow hash by orders of magnitude.
  it('verifies in microseconds', () => {
    const n = 20_000;
    for (let i = 0; i < 1000; i++) verifyAppSecret(key, p.id, p.secret, stored); // warm-up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) verifyAppSecret(key, p.id, p.secret, stored);
    const perCallUs = Number(process.hrtime.bigint() - t0) / 1000 / n;
    assert.ok(perCallUs < 100, `verifyAppSecret took ${perCallUs.toFixed(1)} µs per call`);
  });
});

describe('appPasswordAllows', () => {
  const now = Date.UTC(2026, 11, 1);
  const base: AppPasswordRecord = {
    scopes: ['imap', 'smtp'],
    expiresAt: null,
    allowedNetworks: null,
    revokedAt: null,
  };
  const ok = { ok: true };

  it('allows a live password for its protocols from anywhere', () => {
    assert.deepEqual(appPasswordAllows(base, 'imap', '203.0.113.9', now), ok);
    assert.deepEqual(appPasswordAllows(base, 'smtp', '2001:db8::1', now), ok);
  });

  it('refuses a protocol outside its scopes', () => {
    for (const p of ['pop3', 'caldav', 'carddav'] as const) {
      assert.deepEqual(appPasswordAllows(base, p, '203.0.113.9', now), { ok: false, reason: 'scope' });
    }
    assert.deepEqual(appPasswordAllows({ ...base, scopes: [] }, 'imap', '203.0.113.9', now), {
      ok: false,
      reason: 'scope',
    });
  });

  it('refuses at and after expiry, and once revoked', () => {
    const r = { ...base, expiresAt: now + 1000 };
    assert.deepEqual(appPasswordAllows(r, 'imap', '203.0.113.9', now + 999), ok);
    assert.deepEqual(appPasswordAllows(r, 'imap', '203.0.113.9', now + 1000), {
      ok: false,
      reason: 'expired',
    });
    const revoked = { ...base, revokedAt: now - 1 };
    assert.deepEqual(appPasswordAllows(revoked, 'imap', '203.0.113.9', now), {
      ok: false,
      reason: 'revoked',
    });
  });

  it('checks the address against IPv4 and IPv6 networks', () => {
    const r = { ...base, allowedNetworks: ['192.0.2.0/24', '2001:db8:1::/48', '198.51.100.7'] };
    const allowed = ['192.0.2.1', '192.0.2.255', '::ffff:192.0.2.10', '2001:db8:1:ffff::1', '198.51.100.7'];
    for (const a of allowed) assert.deepEqual(appPasswordAllows(r, 'imap', a, now), ok, a);
    const refused = ['192.0.3.1', '198.51.100.8', '2001:db8:2::1', '::1', 'not-an-address', ''];
    for (const a of refused) {
      assert.deepEqual(appPasswordAllows(r, 'imap', a, now), { ok: false, reason: 'address' }, a);
    }
    const none = { ...base, allowedNetworks: [] };
    assert.deepEqual(appPasswordAllows(none, 'imap', '192.0.2.1', now), { ok: false, reason: 'address' });
  });

  it('validates network input', () => {
    for (const n of ['10.0.0.0/8', '0.0.0.0/0', '::/0', '2001:db8::/32', '192.0.2.1', 'fe80::1']) {
      assert.ok(isAppPasswordNetwork(n), n);
    }
    for (const n of [
      '10.0.0.0/33',
      '2001:db8::/129',
      '10.0.0.0/',
      '10.0.0.0/08',
      'example.com',
      '10.0.0/8',
      '',
    ]) {
      assert.ok(!isAppPasswordNetwork(n), n);
    }
  });
});
