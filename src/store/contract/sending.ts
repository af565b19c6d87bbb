// Store contract: the abuse guard's memory (issue 5 item 7) — hourly sending
// counters, remembered recipients (keyed hashes), pruning, suspensions as a
// compare-and-set, lifting that releases held mail, and the hold of a queued
// message. Registered by runStoreContract.

import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { NewQueuedMessage, SendingRecord } from '../types.ts';
import { bytes, type OpenStore, rejectsWith, seedAccount, useStore } from './fixtures.ts';

const H = 3_600_000;
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % H); // an hour boundary
const DAY = 24 * H;

function sent(
  accountId: string,
  at: number,
  hashes: string[],
  over: Partial<SendingRecord> = {},
): SendingRecord {
  return {
    accountId,
    at,
    recipientHashes: hashes,
    newSince: at - 30 * DAY,
    forgetBefore: at - 40 * DAY,
    ...over,
  };
}

function queued(id: string, accountId: string | null, at = T0): NewQueuedMessage {
  return {
    id,
    accountId,
    kind: 'mail',
    createdAt: at,
    size: 10,
    keyVersion: 1,
    sealedEnvelope: bytes(20),
    sealedData: bytes(20),
    recipients: [{ domain: 'example.org', sealedAddress: bytes(20) }],
    firstAttemptAt: at,
  };
}

export function sendingContract(open: OpenStore): void {
  const s = useStore(open);

  it('counts messages, recipients and new recipients per hour; duplicates count once', async () => {
    const { account } = await seedAccount(s());
    assert.equal(await s().recordSending(sent(account.id, T0 + 10, ['a', 'b', 'b'])), 2);
    assert.equal(await s().recordSending(sent(account.id, T0 + 20, ['a', 'c'])), 1, 'a is known');
    assert.equal(await s().recordSending(sent(account.id, T0 + H + 5, ['c'])), 0);
    await s().recordBounces(account.id, T0 + H + 6, 3);
    await s().recordBounces(account.id, T0 + H + 7, 0);
    assert.deepEqual(await s().listSendingHours(account.id, T0), [
      { hour: T0, messages: 2, recipients: 4, newRecipients: 3, bounces: 0 },
      { hour: T0 + H, messages: 1, recipients: 1, newRecipients: 0, bounces: 3 },
    ]);
    assert.deepEqual(
      (await s().listSendingHours(account.id, T0 + 1)).map((h) => h.hour),
      [T0 + H],
      'hours starting at or after from',
    );
    assert.deepEqual([...(await s().knownRecipients(account.id, ['a', 'z', 'c'], T0))].sort(), ['a', 'c']);
    assert.deepEqual([...(await s().knownRecipients(account.id, ['a', 'c'], T0 + 21))], ['c']);
    assert.deepEqual([...(await s().knownRecipients(account.id, [], T0))], []);
  });

  it('keeps accounts apart: a recipient of one account is new to another', async () => {
    const alice = await seedAccount(s(), 'alice');
    const bob = await seedAccount(s(), 'bob');
    await s().recordSending(sent(alice.account.id, T0, ['x']));
    assert.equal(await s().recordSending(sent(bob.account.id, T0, ['x'])), 1);
    assert.equal((await s().listSendingHours(alice.account.id, 0)).length, 1);
    assert.equal((await s().knownRecipients(bob.account.id, ['x'], 0)).size, 1);
  });

  it('a recipient not written to since newSince is new again; old hours and hashes are pruned', async () => {
    const { account } = await seedAccount(s());
    await s().recordSending(sent(account.id, T0, ['old']));
    await s().recordSending(sent(account.id, T0 + 10 * DAY, ['mid']));
    const later = T0 + 20 * DAY;
    const n = await s().recordSending(
      sent(account.id, later, ['old', 'mid'], { newSince: T0 + 5 * DAY, forgetBefore: T0 + DAY }),
    );
    assert.equal(n, 1, "'old' was last written to before newSince");
    assert.deepEqual(
      (await s().listSendingHours(account.id, 0)).map((h) => h.hour),
      [T0 + 10 * DAY, later],
      'the hour before forgetBefore is gone',
    );
    assert.equal((await s().knownRecipients(account.id, ['old'], 0)).size, 1, 'old re-remembered at `later`');
    await s().recordSending(sent(account.id, later + 1, ['new'], { forgetBefore: later + 1 }));
    assert.deepEqual(
      [...(await s().knownRecipients(account.id, ['mid', 'old', 'new'], 0))],
      ['new'],
      'hashes last written to before forgetBefore are forgotten',
    );
  });

  it('refuses a missing account and bad input, changing nothing', async () => {
    const { account } = await seedAccount(s());
    await rejectsWith(s().recordSending(sent('acc_missing', T0, ['a'])), 'store.not-found');
    await rejectsWith(s().recordBounces('acc_missing', T0, 1), 'store.not-found');
    await rejectsWith(s().recordSending(sent(account.id, 1.5, ['a'])), 'input.invalid');
    await rejectsWith(s().recordSending(sent(account.id, T0, [''])), 'input.invalid');
    await rejectsWith(s().recordBounces(account.id, T0, -1), 'input.invalid');
    await rejectsWith(
      s().suspendSending({ accountId: 'acc_missing', at: T0, reason: 'spike', detail: null, by: 'system' }),
      'store.not-found',
    );
    await rejectsWith(
      s().suspendSending({ accountId: account.id, at: T0, reason: '', detail: null, by: 'system' }),
      'input.invalid',
    );
    assert.deepEqual(await s().listSendingHours(account.id, 0), []);
    assert.equal(await s().getSendingSuspension(account.id), null);
  });

  it('suspends once (compare-and-set), lifts once, and suspends again after a lift', async () => {
    const { account } = await seedAccount(s());
    const first = { accountId: account.id, at: T0, reason: 'spike', detail: '120 in an hour', by: 'system' };
    assert.equal(await s().suspendSending(first), true);
    assert.equal(await s().suspendSending({ ...first, at: T0 + 5, reason: 'bounces' }), false);
    assert.deepEqual(await s().getSendingSuspension(account.id), {
      accountId: account.id,
      suspendedAt: T0,
      reason: 'spike',
      detail: '120 in an hour',
      suspendedBy: 'system',
      liftedAt: null,
      liftedBy: null,
    });
    assert.equal(await s().liftSendingSuspension(account.id, T0 + 100, 'cli:root'), true);
    assert.equal(await s().liftSendingSuspension(account.id, T0 + 200, 'cli:root'), false);
    const lifted = await s().getSendingSuspension(account.id);
    assert.equal(lifted?.liftedAt, T0 + 100);
    assert.equal(lifted?.liftedBy, 'cli:root');
    assert.equal(await s().liftSendingSuspension('acc_missing', T0, 'cli:root'), false);
    assert.equal(
      await s().suspendSending({ ...first, at: T0 + 300, reason: 'admin', detail: null, by: 'cli:root' }),
      true,
    );
    const again = await s().getSendingSuspension(account.id);
    assert.deepEqual([again?.reason, again?.suspendedBy, again?.liftedAt], ['admin', 'cli:root', null]);
  });

  it('holds a leased message without counting an attempt; lifting makes held mail due', async () => {
    const alice = await seedAccount(s(), 'alice');
    const bob = await seedAccount(s(), 'bob');
    await s().enqueue(queued('qa', alice.account.id));
    await s().enqueue(queued('qb', bob.account.id));
    const claimed = await s().claimQueue('node1', T0, 60_000, 10);
    assert.equal(claimed.length, 2);
    assert.equal(await s().holdQueued('other-node', 'qa', T0 + H), 0, 'only the lease owner holds');
    assert.equal(await s().holdQueued('node1', 'qa', T0 + H), 1);
    const held = (await s().getQueuedMessage('qa'))!.recipients[0]!;
    assert.deepEqual([held.nextAttemptAt, held.attempts], [T0 + H, 0]);
    assert.deepEqual(
      (await s().claimQueue('node1', T0 + 1, 60_000, 10)).map((r) => r.messageId),
      [],
      'held, and qb still leased',
    );
    await s().suspendSending({
      accountId: alice.account.id,
      at: T0,
      reason: 'spike',
      detail: null,
      by: 'system',
    });
    assert.equal(await s().liftSendingSuspension(alice.account.id, T0 + 2, 'cli:root'), true);
    assert.equal((await s().getQueuedMessage('qa'))!.recipients[0]!.nextAttemptAt, T0 + 2);
    assert.deepEqual(
      (await s().claimQueue('node1', T0 + 3, 60_000, 10)).map((r) => r.messageId),
      ['qa'],
    );
  });

  it('counters and suspensions go with their account', async () => {
    const { account } = await seedAccount(s());
    await s().recordSending(sent(account.id, T0, ['a']));
    await s().suspendSending({ accountId: account.id, at: T0, reason: 'spike', detail: null, by: 'system' });
    await s().deleteAccount(account.id);
    assert.deepEqual(await s().listSendingHours(account.id, 0), []);
    assert.equal(await s().getSendingSuspension(account.id), null);
    assert.equal((await s().knownRecipients(account.id, ['a'], 0)).size, 0);
  });
}
