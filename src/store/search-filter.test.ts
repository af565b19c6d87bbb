import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildFilter, filterMayContain } from './search-filter.ts';

const terms = (n: number) => Array.from({ length: n }, () => new Uint8Array(randomBytes(16)));

describe('search filter', () => {
  it('never misses a term it was built from, alone or together', () => {
    for (const n of [1, 2, 10, 500, 5000]) {
      const t = terms(n);
      const f = buildFilter(t);
      assert.ok(
        t.every((x) => filterMayContain(f, [x])),
        `n=${n}`,
      );
      assert.ok(filterMayContain(f, t.slice(0, 20)));
    }
  });

  it('has about 1% false positives per term, far fewer for several terms', () => {
    const f = buildFilter(terms(500));
    const probes = terms(20_000);
    const one = probes.filter((p) => filterMayContain(f, [p])).length / probes.length;
    assert.ok(one < 0.025, `false positive rate ${one}`);
    let two = 0;
    for (let i = 0; i < probes.length; i += 2) if (filterMayContain(f, [probes[i]!, probes[i + 1]!])) two++;
    assert.ok(two / (probes.length / 2) < 0.005);
  });

  it('refuses malformed terms and reads malformed filters as empty', () => {
    assert.throws(() => buildFilter([new Uint8Array(15)]), /16 bytes/);
    assert.equal(buildFilter([]).length, 0);
    const t = terms(1);
    assert.equal(filterMayContain(new Uint8Array(0), t), false);
    const f = buildFilter(t);
    assert.equal(filterMayContain(f.subarray(0, 7), t), false);
    const wrongVersion = Uint8Array.from(f);
    wrongVersion[0] = 9;
    assert.equal(filterMayContain(wrongVersion, t), false);
  });
});
