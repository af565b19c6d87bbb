import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_THROTTLE, LoginThrottle } from './throttle.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('LoginThrottle', () => {
  it('lets the free failures of a pair through, then backs off exponentially up to the ceiling', () => {
    const c = clock();
    const t = new LoginThrottle(DEFAULT_THROTTLE, c.now);
    for (let i = 0; i < DEFAULT_THROTTLE.freeFailures.pair; i++) {
      assert.equal(t.waitMs('192.0.2.1', 'a@x'), 0);
      t.failure('192.0.2.1', 'a@x');
    }
    t.failure('192.0.2.1', 'a@x');
    const first = t.waitMs('192.0.2.1', 'a@x');
    assert.ok(first > 0 && first <= 2 * DEFAULT_THROTTLE.baseDelayMs, String(first));
    t.failure('192.0.2.1', 'a@x');
    assert.ok(t.waitMs('192.0.2.1', 'a@x') > first);
    for (let i = 0; i < 40; i++) t.failure('192.0.2.1', 'a@x');
    assert.ok(t.waitMs('192.0.2.1', 'a@x') <= DEFAULT_THROTTLE.maxDelayMs);
    c.advance(DEFAULT_THROTTLE.maxDelayMs + 1);
    assert.equal(t.waitMs('192.0.2.1', 'a@x'), 0, 'never a permanent lock');
  });

  it('slows guesses spread over many addresses against one account, but not other accounts', () => {
    const c = clock();
    const t = new LoginThrottle(DEFAULT_THROTTLE, c.now);
    for (let i = 0; i < 50; i++) t.failure(`198.51.100.${i}`, 'victim@x');
    assert.ok(t.waitMs('203.0.113.9', 'victim@x') > 0, 'account-wide back-off');
    assert.equal(t.waitMs('203.0.113.9', 'other@x'), 0);
  });

  it('slows one address guessing many accounts; a /64 counts as one address', () => {
    const c = clock();
    const t = new LoginThrottle(DEFAULT_THROTTLE, c.now);
    for (let i = 0; i < 50; i++) t.failure(`2001:db8::${i.toString(16)}`, `user${i}@x`);
    assert.ok(t.waitMs('2001:db8::ffff', 'fresh@x') > 0);
    assert.equal(t.waitMs('2001:db8:1::1', 'fresh@x'), 0);
  });

  it('forgets after a quiet period, clears the pair on success, and bounds its memory', () => {
    const c = clock();
    const t = new LoginThrottle({ ...DEFAULT_THROTTLE, maxEntries: 30 }, c.now);
    for (let i = 0; i < 10; i++) t.failure('192.0.2.7', 'a@x');
    t.success('192.0.2.7', 'a@x');
    c.advance(DEFAULT_THROTTLE.forgetMs + 1);
    assert.equal(t.waitMs('192.0.2.7', 'a@x'), 0);
    for (let i = 0; i < 1000; i++) t.failure(`192.0.2.${i % 250}`, `u${i}@x`);
    assert.equal(t.waitMs('192.0.2.7', 'a@x'), 0);
  });
});
