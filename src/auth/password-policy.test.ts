import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePassword } from '../cli/password-input.ts';
import { hashPassword } from '../crypto/password.ts';
import {
  checkPassword,
  identityWords,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  matchesRecent,
  type PasswordVerdict,
} from './password-policy.ts';

const alice = { address: 'alice@example.com' };

function refused(v: PasswordVerdict): Exclude<PasswordVerdict, { ok: true }> {
  assert.equal(v.ok, false, 'expected a refusal');
  if (v.ok) throw new Error('unreachable');
  return v;
}

describe('checkPassword', () => {
  it('counts NFC code points: 12 minimum by default, configurable, 1024 maximum', () => {
    assert.equal(MIN_PASSWORD_LENGTH, 12);
    assert.equal(refused(checkPassword('short', alice)).reason, 'too-short');
    assert.match(refused(checkPassword('short', alice)).message, /at least 12 characters/);
    // 11 emoji are 22 UTF-16 units but 11 code points: still too short.
    assert.equal(refused(checkPassword('🦊'.repeat(11), alice)).reason, 'too-short');
    // "e" + combining acute (2 code points) composes to one under NFC.
    assert.equal(refused(checkPassword('e\u0301'.repeat(11), alice)).reason, 'too-short');
    assert.equal(refused(checkPassword('violet anchor', alice, { minLength: 15 })).reason, 'too-short');
    const long = refused(checkPassword('x'.repeat(MAX_PASSWORD_LENGTH + 1), alice));
    assert.equal(long.reason, 'too-long');
  });

  it('refuses common, breached-pattern and keyboard-walk passwords', () => {
    for (const p of [
      'password1234',
      'Password123!',
      'qwertyuiop12',
      'aaaaaaaaaaaa',
      'correcthorse',
      '1qaz2wsx3edc',
      'qwertyuiopasdfgh',
      'zxcvbnmasdfg',
      '123456789012',
      'abcdefghijkl',
    ]) {
      const v = refused(checkPassword(p, alice));
      assert.equal(v.reason, 'too-weak', p);
      assert.ok(v.suggestions.length > 0, p);
    }
  });

  it('refuses passwords built around the address, the domain, "sealpost" or extra words', () => {
    const cases: [string, { address?: string; extraWords?: readonly string[] }][] = [
      ['alice2026alice', alice],
      ['alicesmith2026', alice],
      ['ex4mple-4lice-2026', alice],
      ['Sealpost2026!!', alice],
      ['examplealice1!', alice],
      ['ex4mple-alice-2026', alice],
      ['ecila-2026-ecila', alice],
      ['AL1CE-2026-!!', alice],
      ['carolyn.jones99', { address: 'carolyn.jones@corp.test' }],
      ['hypatiaxyz2026', { extraWords: ['Hypatia'] }],
    ];
    for (const [p, ctx] of cases) {
      const v = refused(checkPassword(p, ctx));
      assert.ok(v.reason === 'contains-identity' || v.reason === 'too-weak', `${p}: ${v.reason}`);
    }
    assert.equal(refused(checkPassword('alice2026alice', alice)).reason, 'contains-identity');
  });

  it('accepts passphrases and random strings, including ones that mention the address', () => {
    for (const p of [
      'violet anchor mosaic thunder',
      'correct horse battery staple',
      'Xk9#mQ2vLp7!rT4w',
      'q7Rz0pLm4sWx8vNc',
      'alice violet anchor mosaic thunder',
      'violet common mosaic thunder',
      'sealpost violet anchor mosaic thunder',
    ]) {
      const v = checkPassword(p, alice);
      assert.ok(v.ok, `${p}: ${v.ok ? '' : v.reason}`);
      assert.ok(v.score >= 3);
    }
    // Estimation is bounded: a strong prefix of a very long password is enough.
    assert.ok(checkPassword('violet anchor mosaic thunder '.repeat(30), alice).ok);
  });

  it('accepts what `--generate` produces', () => {
    for (let i = 0; i < 20; i++) {
      const p = generatePassword();
      assert.ok(checkPassword(p, alice).ok, 'a generated password passes the policy');
    }
  });

  it('never puts the password in the verdict', () => {
    for (const p of ['hunter2', 'password1234', 'alice2026alice', 'x'.repeat(2000)]) {
      const v = checkPassword(p, alice);
      assert.ok(!JSON.stringify(v).includes(p), 'the password is not echoed');
    }
  });

  it('derives identity words from the address and extra words', () => {
    const words = identityWords({ address: 'carolyn.jones@mail.corp.test', extraWords: ['Ada Lovelace'] });
    for (const w of [
      'sealpost',
      'carolyn.jones',
      'carolyn',
      'jones',
      'mail',
      'corp',
      'test',
      'ada lovelace',
    ]) {
      assert.ok(words.includes(w), w);
    }
  });
});

describe('matchesRecent', () => {
  it('finds a password among recent hashes, and ignores malformed ones', async () => {
    const recent = [
      await hashPassword('violet anchor mosaic thunder'),
      await hashPassword('other words here'),
    ];
    assert.equal(await matchesRecent('violet anchor mosaic thunder', recent), true);
    assert.equal(await matchesRecent('other words here', ['not-a-hash', ...recent]), true);
    assert.equal(await matchesRecent('a brand new passphrase', recent), false);
    assert.equal(await matchesRecent('violet anchor mosaic thunder', []), false);
  });
});
