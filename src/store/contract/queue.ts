// Store contract: the outbound queue (enqueue, claimQueue, finishQueueAttempts,
// releaseQueueLeases, listQueue, getQueuedMessage, retryQueued, deleteQueued).
// Registered by runStoreContract.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewQueuedMessage, QueueOutcome } from '../types.ts';
import { bytes, type OpenStore, rejectsWith, seedAccount, useStore } from './fixtures.ts';

const T0 = 1_800_000_000_000;

function queued(id: string, accountId: string | null, domains: string[], at = T0): NewQueuedMessage {
  return {
    id,
    accountId,
    kind: 'mail',
    createdAt: at,
    size: 100,
    keyVersion: 1,
    sealedEnvelope: bytes(40),
    sealedData: bytes(100),
    recipients: domains.map((domain) => ({ domain, sealedAddress: bytes(30) })),
    firstAttemptAt: at,
  };
}

function outcome(messageId: string, idx: number, over: Partial<QueueOutcome> = {}): QueueOutcome {
  return {
    messageId,
    idx,
    state: 'delivered',
    at: T0 + 10,
    nextAttemptAt: T0 + 10,
    sealedStatus: bytes(20),
    delayNotified: false,
    ...over,
  };
}

export function queueContract(open: OpenStore): void {
  const s = useStore(open);

  describe('outbound queue', () => {
    it('keeps what was enqueued, byte for byte, with every recipient due', async () => {
      const { account } = await seedAccount(s());
      const m = queued('q1', account.id, ['Example.ORG', 'example.net']);
      await s().enqueue(m);
      const got = await s().getQueuedMessage('q1');
      assert.ok(got);
      assert.deepEqual(Buffer.from(got.sealedData), Buffer.from(m.sealedData));
      assert.deepEqual(Buffer.from(got.sealedEnvelope), Buffer.from(m.sealedEnvelope));
      assert.equal(got.accountId, account.id);
      assert.deepEqual(
        got.recipients.map((r) => [r.idx, r.domain, r.state, r.attempts]),
        [
          [0, 'example.org', 'queued', 0],
          [1, 'example.net', 'queued', 0],
        ],
      );
      assert.deepEqual(
        (await s().listQueue(10)).map((q) => q.id),
        ['q1'],
      );
    });

    it('refuses a message without recipients, a duplicate id and a missing sender account', async () => {
      const { account } = await seedAccount(s());
      await rejectsWith(s().enqueue(queued('q0', account.id, [])), 'input.invalid');
      await s().enqueue(queued('q1', account.id, ['a.test']));
      await rejectsWith(s().enqueue(queued('q1', account.id, ['a.test'])), 'store.conflict');
      await rejectsWith(s().enqueue(queued('q2', 'acc_missing', ['a.test'])), 'store.not-found');
      assert.deepEqual(
        (await s().listQueue(10)).map((q) => q.id),
        ['q1'],
      );
    });

    it('leases due recipients to one owner until the lease lapses', async () => {
      await s().enqueue(queued('q1', null, ['a.test', 'b.test']));
      await s().enqueue(queued('later', null, ['c.test'], T0 + 60_000));
      const first = await s().claimQueue('node-a', T0, 30_000, 10);
      assert.deepEqual(
        first.map((r) => `${r.messageId}/${r.idx}`),
        ['q1/0', 'q1/1'],
      );
      assert.deepEqual(
        await s().claimQueue('node-b', T0 + 1000, 30_000, 10),
        [],
        'leased rows are not claimed twice',
      );
      const lapsed = await s().claimQueue('node-b', T0 + 30_000, 30_000, 1);
      assert.deepEqual(
        lapsed.map((r) => `${r.messageId}/${r.idx}`),
        ['q1/0'],
        'a lapsed lease is taken over',
      );
      assert.equal(await s().releaseQueueLeases('node-a'), 1);
      assert.deepEqual(
        (await s().claimQueue('node-c', T0 + 30_000, 30_000, 10)).map((r) => `${r.messageId}/${r.idx}`),
        ['q1/1'],
      );
    });

    it('records outcomes only for the lease holder and removes a finished message', async () => {
      await s().enqueue(queued('q1', null, ['a.test', 'b.test']));
      await s().claimQueue('node-a', T0, 30_000, 10);
      await s().finishQueueAttempts('intruder', [outcome('q1', 0)], []);
      assert.equal((await s().getQueuedMessage('q1'))?.recipients[0]?.state, 'queued', 'not the holder');
      await s().finishQueueAttempts(
        'node-a',
        [
          outcome('q1', 0),
          outcome('q1', 1, { state: 'queued', nextAttemptAt: T0 + 600_000, delayNotified: true }),
        ],
        [],
      );
      const after = await s().getQueuedMessage('q1');
      assert.ok(after);
      assert.deepEqual(
        after.recipients.map((r) => [r.state, r.attempts, r.nextAttemptAt, r.delayNotified]),
        [
          ['delivered', 1, T0 + 10, false],
          ['queued', 1, T0 + 600_000, true],
        ],
      );
      assert.deepEqual(await s().claimQueue('node-a', T0 + 1000, 30_000, 10), [], 'not due yet');
      await s().claimQueue('node-a', T0 + 600_000, 30_000, 10);
      await s().finishQueueAttempts(
        'node-a',
        [outcome('q1', 1, { state: 'failed' })],
        [queued('dsn1', null, ['x.test'])],
      );
      assert.equal(await s().getQueuedMessage('q1'), null, 'every recipient final: the message is gone');
      assert.equal(await s().countQueued(), 1, 'only the notice is left');
      assert.deepEqual(
        (await s().listQueue(10)).map((q) => q.id),
        ['dsn1'],
        'the notice was enqueued with it',
      );
    });

    it('a final recipient never moves again', async () => {
      await s().enqueue(queued('q1', null, ['a.test', 'b.test']));
      await s().claimQueue('node-a', T0, 30_000, 10);
      await s().finishQueueAttempts('node-a', [outcome('q1', 0, { state: 'failed' })], []);
      await s().finishQueueAttempts('node-a', [outcome('q1', 0)], []);
      assert.equal((await s().getQueuedMessage('q1'))?.recipients[0]?.state, 'failed');
    });

    it('retry makes waiting recipients due now; delete removes the message', async () => {
      await s().enqueue(queued('q1', null, ['a.test'], T0 + 3_600_000));
      assert.deepEqual(await s().claimQueue('n', T0, 1000, 10), []);
      assert.equal(await s().retryQueued('q1', T0), true);
      assert.equal(await s().retryQueued('nope', T0), false);
      assert.equal((await s().claimQueue('n', T0, 1000, 10)).length, 1);
      assert.equal(await s().deleteQueued('q1'), true);
      assert.equal(await s().deleteQueued('q1'), false);
      assert.equal(await s().getQueuedMessage('q1'), null);
    });

    it('keeps queued mail when its sender account is deleted', async () => {
      const { account } = await seedAccount(s());
      await s().enqueue(queued('q1', account.id, ['a.test']));
      await s().deleteAccount(account.id);
      assert.equal((await s().getQueuedMessage('q1'))?.accountId, null);
    });
  });
}
