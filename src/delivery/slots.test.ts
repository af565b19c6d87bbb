import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedSlots } from './slots.ts';

describe('KeyedSlots', () => {
  it('lets at most `limit` hold a key, in arrival order, and other keys through', async () => {
    const slots = new KeyedSlots(2);
    const order: string[] = [];
    const a = await slots.acquire('d');
    const b = await slots.acquire('d');
    const third = slots.acquire('d').then((release) => {
      order.push('third');
      return release;
    });
    const fourth = slots.acquire('d').then((release) => {
      order.push('fourth');
      return release;
    });
    const other = await slots.acquire('e');
    assert.equal(slots.held('e'), 1, 'another key is not held up');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'both waiters wait while two hold the key');
    a();
    a(); // releasing twice frees one slot only
    const r3 = await third;
    assert.deepEqual(order, ['third']);
    assert.equal(slots.held('d'), 2);
    b();
    const r4 = await fourth;
    assert.deepEqual(order, ['third', 'fourth']);
    r3();
    r4();
    other();
    assert.equal(slots.held('d'), 0);
    assert.equal(slots.held('e'), 0);
  });

  it('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new KeyedSlots(0), RangeError);
    assert.throws(() => new KeyedSlots(1.5), RangeError);
  });
});
