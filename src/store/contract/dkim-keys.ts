// Store contract: DKIM signing keys (issue 5) — adding a generated pair, listing in a
// stable order, the compare-and-set state changes (all or nothing), the input checks
// made at the store edge, and removal with the domain. Registered by runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DkimKeyRecord, DkimKeyTransition } from '../types.ts';
import { addDomain, bytes, type OpenStore, rejectsWith, useStore } from './fixtures.ts';

const T0 = 1_800_000_000_000;

export function dkimKey(domain: string, selector: string, over: Partial<DkimKeyRecord> = {}): DkimKeyRecord {
  return {
    domain,
    selector,
    algorithm: selector.endsWith('r') ? 'rsa' : 'ed25519',
    generation: selector.slice(0, -1),
    publicKey: Buffer.from(bytes(44)).toString('base64'),
    masterVersion: 1,
    sealedPrivateKey: bytes(80),
    state: 'pending',
    createdAt: T0,
    activatedAt: null,
    retireAt: null,
    ...over,
  };
}

function pair(domain: string, generation: string, over: Partial<DkimKeyRecord> = {}): DkimKeyRecord[] {
  return [dkimKey(domain, `${generation}e`, over), dkimKey(domain, `${generation}r`, over)];
}

const activate = (selector: string, at: number): DkimKeyTransition => ({
  selector,
  from: 'pending',
  state: 'active',
  activatedAt: at,
  retireAt: null,
});

export function dkimKeysContract(open: OpenStore): void {
  const s = useStore(open);

  it('adds a pair and lists it by domain, creation time and selector; reads back every field', async () => {
    await addDomain(s(), 'example.test');
    await addDomain(s(), 'another.test');
    const older = pair('example.test', 'sp202611', { createdAt: T0 - 1000 });
    const newer = pair('example.test', 'sp202612');
    const other = pair('another.test', 'sp202612');
    await s().addDkimKeys(newer);
    await s().addDkimKeys(older);
    await s().addDkimKeys(other);
    assert.deepEqual(await s().listDkimKeys('example.test'), [...older, ...newer]);
    assert.deepEqual(await s().listDkimKeys(), [...other, ...older, ...newer]);
    assert.deepEqual(await s().listDkimKeys('nothosted.test'), []);
  });

  it('refuses an unhosted domain and a taken selector, changing nothing', async () => {
    await addDomain(s(), 'example.test');
    await s().addDkimKeys(pair('example.test', 'sp202612'));
    await rejectsWith(s().addDkimKeys(pair('nothosted.test', 'sp202612')), 'store.not-found');
    // One new key and one taken selector: the new one is not added either.
    const mixed = [dkimKey('example.test', 'sp202701e'), dkimKey('example.test', 'sp202612r')];
    await rejectsWith(s().addDkimKeys(mixed), 'store.conflict');
    const twice = [dkimKey('example.test', 'sp202702e'), dkimKey('example.test', 'sp202702e')];
    await rejectsWith(s().addDkimKeys(twice), 'store.conflict');
    const selectors = (await s().listDkimKeys()).map((k) => k.selector);
    assert.deepEqual(selectors, ['sp202612e', 'sp202612r']);
  });

  it('refuses malformed keys instead of storing them', async () => {
    await addDomain(s(), 'example.test');
    const bad: Partial<DkimKeyRecord>[] = [
      { selector: '' },
      { selector: 'Upper' },
      { selector: 'a b' },
      { selector: '-lead' },
      { selector: 'x'.repeat(64) },
      { generation: '' },
      { algorithm: 'dsa' as 'rsa' },
      { state: 'revoked' as 'active' },
      { publicKey: '' },
      { publicKey: 'not base64!' },
      { sealedPrivateKey: new Uint8Array(0) },
      { masterVersion: 0 },
      { createdAt: 1.5 },
      { retireAt: 2.5 },
    ];
    for (const over of bad) {
      await rejectsWith(s().addDkimKeys([dkimKey('example.test', 'sp202612e', over)]), 'input.invalid');
    }
    assert.deepEqual(await s().listDkimKeys(), []);
  });

  describe('state changes', () => {
    it('activates a new pair and retires the old one in one step', async () => {
      await addDomain(s(), 'example.test');
      await s().addDkimKeys(pair('example.test', 'sp202611'));
      await s().updateDkimKeys('example.test', [activate('sp202611e', T0), activate('sp202611r', T0)]);
      await s().addDkimKeys(pair('example.test', 'sp202612'));
      const retire = (selector: string): DkimKeyTransition => ({
        selector,
        from: 'active',
        state: 'retiring',
        activatedAt: T0,
        retireAt: T0 + 7 * 86_400_000,
      });
      await s().updateDkimKeys('example.test', [
        activate('sp202612e', T0 + 5),
        activate('sp202612r', T0 + 5),
        retire('sp202611e'),
        retire('sp202611r'),
      ]);
      const states = (await s().listDkimKeys('example.test')).map((k) => [
        k.selector,
        k.state,
        k.activatedAt,
        k.retireAt,
      ]);
      assert.deepEqual(states, [
        ['sp202611e', 'retiring', T0, T0 + 7 * 86_400_000],
        ['sp202611r', 'retiring', T0, T0 + 7 * 86_400_000],
        ['sp202612e', 'active', T0 + 5, null],
        ['sp202612r', 'active', T0 + 5, null],
      ]);
    });

    it('is all or nothing: a stale state or an unknown selector changes no key', async () => {
      await addDomain(s(), 'example.test');
      await s().addDkimKeys(pair('example.test', 'sp202612'));
      const before = await s().listDkimKeys();
      const stale: DkimKeyTransition = { ...activate('sp202612r', T0), from: 'active' };
      await rejectsWith(
        s().updateDkimKeys('example.test', [activate('sp202612e', T0), stale]),
        'store.conflict',
      );
      await rejectsWith(
        s().updateDkimKeys('example.test', [activate('sp202612e', T0), activate('sp209912e', T0)]),
        'store.not-found',
      );
      await rejectsWith(s().updateDkimKeys('nothosted.test', [activate('sp202612e', T0)]), 'store.not-found');
      await rejectsWith(
        s().updateDkimKeys('example.test', [activate('sp202612e', T0), activate('sp202612e', T0)]),
        'input.invalid',
      );
      await rejectsWith(
        s().updateDkimKeys('example.test', [{ ...activate('sp202612e', T0), state: 'gone' as 'active' }]),
        'input.invalid',
      );
      assert.deepEqual(await s().listDkimKeys(), before);
    });

    it('touches only the named domain', async () => {
      await addDomain(s(), 'example.test');
      await addDomain(s(), 'another.test');
      await s().addDkimKeys(pair('example.test', 'sp202612'));
      await s().addDkimKeys(pair('another.test', 'sp202612'));
      await s().updateDkimKeys('example.test', [activate('sp202612e', T0)]);
      assert.deepEqual(
        (await s().listDkimKeys('another.test')).map((k) => k.state),
        ['pending', 'pending'],
      );
    });
  });

  it('goes with its domain', async () => {
    await addDomain(s(), 'example.test');
    await s().addDkimKeys(pair('example.test', 'sp202612'));
    await s().removeDomain('example.test');
    assert.deepEqual(await s().listDkimKeys(), []);
    await addDomain(s(), 'example.test');
    assert.deepEqual(await s().listDkimKeys('example.test'), []);
    await s().addDkimKeys(pair('example.test', 'sp202612'));
    assert.equal((await s().listDkimKeys('example.test')).length, 2);
  });
}
