import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetaCache } from './meta-cache.ts';

describe('MetaCache', () => {
  it('keeps entries read since they were last passed over, within its byte budget', () => {
    const c = new MetaCache<string>(1600);
    for (let i = 0; i < 20; i++) c.set(`m${i}`, `v${i}`, 100);
    assert.equal(c.size, 16);
    assert.equal(c.get('m0'), undefined);
    assert.equal(c.get('m4'), 'v4');
    c.set('m20', 'v20', 100); // m4 was read: it gets a second chance and m5 goes
    assert.equal(c.get('m4'), 'v4');
    assert.equal(c.get('m5'), undefined);
    assert.equal(c.size, 16);
  });

  it('does not let one huge entry flush the rest, and replaces an entry in place', () => {
    const c = new MetaCache<string>(1600);
    c.set('a', 'x', 100);
    c.set('huge', 'y', 1000);
    assert.equal(c.get('huge'), undefined);
    c.set('a', 'z', 100);
    assert.equal(c.get('a'), 'z');
    assert.equal(c.size, 1);
  });
});
