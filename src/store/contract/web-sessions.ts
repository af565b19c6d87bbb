// Store contract, part 12: web sessions (issue 4) — create/read, activity, the second
// factor step, rotation to a new id, the WebAuthn/TOTP challenge, listing newest first, revoking one or all
// but the current, the expiry sweep, the input checks made at the store edge, isolation
// between accounts and removal with the account. Registered by runStoreContract.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { WebSession } from '../types.ts';
import { type OpenStore, rejectsWith, seedAccount, useStore } from './fixtures.ts';

const T0 = 1_800_000_000_000;

export function webSession(accountId: string, over: Partial<WebSession> = {}): WebSession {
  return {
    idHash: randomBytes(32).toString('hex'),
    accountId,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 12 * 3600_000,
    address: '192.0.2.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
    pending: true,
    secondFactor: null,
    challenge: null,
    ...over,
  };
}

export function webSessionsContract(open: OpenStore): void {
  const s = useStore(open);

  describe('create and read', () => {
    it('stores and reads a session; a missing one is null', async () => {
      const { account } = await seedAccount(s());
      const w = webSession(account.id);
      const done = webSession(account.id, { pending: false, secondFactor: 'totp', challenge: 'c1' });
      await s().createWebSession(w);
      await s().createWebSession(done);
      assert.deepEqual(await s().getWebSession(w.idHash), w);
      assert.deepEqual(await s().getWebSession(done.idHash), done);
      assert.equal(await s().getWebSession('00'.repeat(32)), null);
    });

    it('refuses a duplicate idHash and a missing account, changing nothing', async () => {
      const { account } = await seedAccount(s());
      const w = webSession(account.id);
      await s().createWebSession(w);
      await rejectsWith(s().createWebSession({ ...w, address: '198.51.100.1' }), 'store.conflict');
      await rejectsWith(s().createWebSession(webSession('acc_none')), 'store.not-found');
      assert.deepEqual(await s().getWebSession(w.idHash), w);
      assert.deepEqual(await s().listWebSessions(account.id), [w]);
    });

    it('refuses invalid input instead of shortening it', async () => {
      const { account } = await seedAccount(s());
      const bad: Partial<WebSession>[] = [
        { idHash: '' },
        { userAgent: 'x'.repeat(513) },
        { createdAt: 1.5 },
        { lastSeenAt: Number.NaN },
        { expiresAt: Number.POSITIVE_INFINITY },
        { secondFactor: '' },
        { challenge: '' },
      ];
      for (const over of bad) {
        await rejectsWith(s().createWebSession(webSession(account.id, over)), 'input.invalid');
      }
      assert.deepEqual(await s().listWebSessions(account.id), []);
      const longest = webSession(account.id, { userAgent: 'y'.repeat(512) });
      await s().createWebSession(longest);
      assert.equal((await s().getWebSession(longest.idHash))?.userAgent, longest.userAgent);
      await rejectsWith(s().getWebSession(''), 'input.invalid');
    });
  });

  describe('activity, second factor and challenge', () => {
    it('touch records activity, never backwards, and ignores a missing session', async () => {
      const { account } = await seedAccount(s());
      const w = webSession(account.id);
      await s().createWebSession(w);
      await s().touchWebSession(w.idHash, T0 + 50);
      assert.equal((await s().getWebSession(w.idHash))?.lastSeenAt, T0 + 50);
      await s().touchWebSession(w.idHash, T0 + 10);
      assert.deepEqual(await s().getWebSession(w.idHash), { ...w, lastSeenAt: T0 + 50 });
      await s().touchWebSession('ff'.repeat(32), T0 + 60);
      assert.equal(await s().getWebSession('ff'.repeat(32)), null);
      await rejectsWith(s().touchWebSession('', T0), 'input.invalid');
      await rejectsWith(s().touchWebSession(w.idHash, 0.5), 'input.invalid');
    });

    it('complete clears pending and records the factor', async () => {
      const { account } = await seedAccount(s());
      const w = webSession(account.id, { challenge: 'chal' });
      await s().createWebSession(w);
      await s().completeWebSession(w.idHash, 'webauthn', T0 + 5);
      assert.deepEqual(await s().getWebSession(w.idHash), {
        ...w,
        pending: false,
        secondFactor: 'webauthn',
        lastSeenAt: T0 + 5,
      });
    });

    it('complete fails for a missing session and for invalid input', async () => {
      const { account } = await seedAccount(s());
      const w = webSession(account.id);
      await s().createWebSession(w);
      await rejectsWith(s().completeWebSession('ee'.repeat(32), 'totp', T0), 'store.not-found');
      await rejectsWith(s().completeWebSession('', 'totp', T0), 'input.invalid');
      await rejectsWith(s().completeWebSession(w.idHash, '', T0), 'input.invalid');
      await rejectsWith(s().completeWebSession(w.idHash, 'totp', Number.NaN), 'input.invalid');
      assert.deepEqual(await s().getWebSession(w.idHash), w);
    });

    it('rotate replaces the session by a new idHash in one step', async () => {
      const { account } = await seedAccount(s());
      const old = webSession(account.id, { challenge: 'chal' });
      const other = webSession(account.id);
      await s().createWebSession(old);
      await s().createWebSession(other);
      const next = { ...old, idHash: randomBytes(32).toString('hex'), pending: false, secondFactor: 'totp' };
      await s().rotateWebSession(old.idHash, { ...next, challenge: null });
      assert.equal(await s().getWebSession(old.idHash), null);
      assert.deepEqual(await s().getWebSession(next.idHash), { ...next, challenge: null });
      assert.deepEqual(await s().getWebSession(other.idHash), other);
      // The old one is gone: rotating it again fails and creates nothing.
      const again = webSession(account.id);
      await rejectsWith(s().rotateWebSession(old.idHash, again), 'store.not-found');
      assert.equal(await s().getWebSession(again.idHash), null);
    });

    it('rotate changes nothing on a conflict, another account or invalid input', async () => {
      const alice = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const w = webSession(alice.account.id);
      const other = webSession(alice.account.id);
      await s().createWebSession(w);
      await s().createWebSession(other);
      await rejectsWith(s().rotateWebSession(w.idHash, other), 'store.conflict');
      await rejectsWith(s().rotateWebSession(w.idHash, w), 'store.conflict');
      await rejectsWith(s().rotateWebSession(w.idHash, webSession(bob.account.id)), 'input.invalid');
      await rejectsWith(
        s().rotateWebSession(w.idHash, webSession(alice.account.id, { idHash: '' })),
        'input.invalid',
      );
      await rejectsWith(s().rotateWebSession('', webSession(alice.account.id)), 'input.invalid');
      assert.deepEqual(await s().getWebSession(w.idHash), w);
      assert.deepEqual(await s().getWebSession(other.idHash), other);
      assert.equal((await s().listWebSessions(alice.account.id)).length, 2);
    });

    it('sets, replaces and clears the challenge', async () => {
      const { account } = await seedAccount(s());
      const w = webSession(account.id);
      await s().createWebSession(w);
      await s().setWebSessionChallenge(w.idHash, 'first');
      assert.equal((await s().getWebSession(w.idHash))?.challenge, 'first');
      await s().setWebSessionChallenge(w.idHash, 'second');
      assert.equal((await s().getWebSession(w.idHash))?.challenge, 'second');
      await s().setWebSessionChallenge(w.idHash, null);
      assert.deepEqual(await s().getWebSession(w.idHash), w);
      await rejectsWith(s().setWebSessionChallenge('dd'.repeat(32), 'x'), 'store.not-found');
      await rejectsWith(s().setWebSessionChallenge('', 'x'), 'input.invalid');
      await rejectsWith(s().setWebSessionChallenge(w.idHash, ''), 'input.invalid');
      assert.deepEqual(await s().getWebSession(w.idHash), w);
    });
  });

  describe('listing and revoking', () => {
    it('lists newest first, per account', async () => {
      const alice = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const a1 = webSession(alice.account.id, { createdAt: T0 + 1 });
      const a2 = webSession(alice.account.id, { createdAt: T0 + 3 });
      const a3 = webSession(alice.account.id, { createdAt: T0 + 2 });
      const b1 = webSession(bob.account.id, { createdAt: T0 + 4 });
      for (const w of [a1, a2, a3, b1]) await s().createWebSession(w);
      assert.deepEqual(await s().listWebSessions(alice.account.id), [a2, a3, a1]);
      assert.deepEqual(await s().listWebSessions(bob.account.id), [b1]);
      assert.deepEqual(await s().listWebSessions('acc_none'), []);
    });

    it('deletes one session; deleting a missing one does nothing', async () => {
      const { account } = await seedAccount(s());
      const a = webSession(account.id);
      const b = webSession(account.id);
      await s().createWebSession(a);
      await s().createWebSession(b);
      await s().deleteWebSession(a.idHash);
      await s().deleteWebSession(a.idHash);
      assert.equal(await s().getWebSession(a.idHash), null);
      assert.deepEqual(await s().listWebSessions(account.id), [b]);
      await rejectsWith(s().deleteWebSession(''), 'input.invalid');
      // The idHash is free again.
      await s().createWebSession(a);
    });

    it('deleteWebSessions ends all but the kept one and counts them, in one account only', async () => {
      const alice = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const keep = webSession(alice.account.id);
      const others = [webSession(alice.account.id), webSession(alice.account.id)];
      const bobs = webSession(bob.account.id);
      for (const w of [keep, ...others, bobs]) await s().createWebSession(w);
      // Bob's session is not Alice's to keep: it neither survives by it nor counts.
      assert.equal(await s().deleteWebSessions(alice.account.id, bobs.idHash), 3);
      assert.deepEqual(await s().getWebSession(bobs.idHash), bobs);
      for (const w of [keep, ...others]) await s().createWebSession(w);
      assert.equal(await s().deleteWebSessions(alice.account.id, keep.idHash), 2);
      assert.deepEqual(await s().listWebSessions(alice.account.id), [keep]);
      assert.equal(await s().deleteWebSessions(alice.account.id), 1);
      assert.equal(await s().deleteWebSessions(alice.account.id), 0);
      assert.equal(await s().deleteWebSessions('acc_none'), 0);
      await rejectsWith(s().deleteWebSessions(bob.account.id, ''), 'input.invalid');
      assert.deepEqual(await s().listWebSessions(bob.account.id), [bobs]);
    });

    it('deleteExpiredWebSessions ends exactly the timed-out sessions of every account', async () => {
      const alice = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const cut = { now: T0 + 1000, idleBefore: T0 + 100, createdBefore: T0 - 500, pendingCreatedBefore: T0 };
      const fresh = webSession(alice.account.id, { pending: false, lastSeenAt: T0 + 101 });
      const freshPending = webSession(bob.account.id, { createdAt: T0 + 1, lastSeenAt: T0 + 900 });
      const past = webSession(alice.account.id, {
        expiresAt: T0 + 1000,
        lastSeenAt: T0 + 900,
        pending: false,
      });
      const idle = webSession(bob.account.id, { lastSeenAt: T0 + 100, pending: false });
      const old = webSession(alice.account.id, { createdAt: T0 - 500, lastSeenAt: T0 + 900, pending: false });
      const stalePending = webSession(bob.account.id, { createdAt: T0, lastSeenAt: T0 + 900 });
      // The same age is fine once the second factor passed.
      const complete = webSession(bob.account.id, {
        createdAt: T0,
        lastSeenAt: T0 + 900,
        pending: false,
        secondFactor: 'totp',
      });
      for (const w of [fresh, freshPending, past, idle, old, stalePending, complete]) {
        await s().createWebSession(w);
      }
      assert.equal(await s().deleteExpiredWebSessions(cut), 4);
      for (const gone of [past, idle, old, stalePending])
        assert.equal(await s().getWebSession(gone.idHash), null);
      assert.deepEqual(await s().listWebSessions(alice.account.id), [fresh]);
      assert.deepEqual(
        (await s().listWebSessions(bob.account.id)).map((w) => w.idHash).sort(),
        [freshPending.idHash, complete.idHash].sort(),
      );
      assert.equal(await s().deleteExpiredWebSessions(cut), 0, 'a second sweep finds nothing');
    });

    it('deleteExpiredWebSessions refuses a cutoff that is not an integer time, deleting nothing', async () => {
      const { account } = await seedAccount(s());
      const w = webSession(account.id, { expiresAt: T0 });
      await s().createWebSession(w);
      const cut = { now: T0 + 1, idleBefore: 0, createdBefore: 0, pendingCreatedBefore: 0 };
      for (const over of [
        { now: Number.NaN },
        { idleBefore: 1.5 },
        { createdBefore: Number.POSITIVE_INFINITY },
        { pendingCreatedBefore: Number.NaN },
      ]) {
        await rejectsWith(s().deleteExpiredWebSessions({ ...cut, ...over }), 'input.invalid');
      }
      assert.deepEqual(await s().getWebSession(w.idHash), w);
    });

    it('deleteAccount removes its sessions, not those of others', async () => {
      const alice = await seedAccount(s());
      const bob = await seedAccount(s(), 'bob');
      const a = webSession(alice.account.id);
      const b = webSession(bob.account.id);
      await s().createWebSession(a);
      await s().createWebSession(b);
      await s().deleteAccount(alice.account.id);
      assert.equal(await s().getWebSession(a.idHash), null);
      assert.deepEqual(await s().listWebSessions(alice.account.id), []);
      assert.deepEqual(await s().getWebSession(b.idHash), b);
      await s().touchWebSession(a.idHash, T0 + 1);
      await rejectsWith(s().completeWebSession(a.idHash, 'totp', T0 + 1), 'store.not-found');
      // The idHash is free again once the account is gone.
      const carol = await seedAccount(s(), 'carol');
      await s().createWebSession({ ...a, accountId: carol.account.id });
    });
  });
}
