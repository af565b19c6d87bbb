// Store contract, part 3: the change feed (rows and listeners) and the audit log.
// Registered by runStoreContract.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AuditRow, Change } from '../types.ts';
import { mailbox, newMessage, type OpenStore, rejectsWith, seedAccount, useStore } from './fixtures.ts';

/** A stand-in for src/audit: hash = SHA-256(prevHash | fields). */
function nextRow(last: AuditRow | null, action: string): AuditRow {
  const seq = (last?.seq ?? 0) + 1;
  const prevHash = last?.hash ?? '0'.repeat(64);
  const fields = { seq, at: 1_700_000_000_000 + seq, actor: 'admin', action, target: 'acc_x', detail: '{}' };
  const hash = createHash('sha256').update(prevHash).update(JSON.stringify(fields)).digest('hex');
  return { ...fields, prevHash, hash };
}

export function feedAuditContract(open: OpenStore): void {
  const s = useStore(open);

  describe('change feed', () => {
    it('records append, flags and expunge in order with increasing seq', async () => {
      const { account, inbox } = await seedAccount(s());
      const start = (await s().changesSince(account.id, 0)).at(-1)?.seq ?? 0;
      const [a] = await s().appendMessages([newMessage(inbox)]);
      await s().appendMessages([newMessage(inbox)]);
      await s().setFlags(inbox.id, [1, 2], ['\\Seen'], 'add');
      await s().expunge(inbox.id, [1]);
      const feed = await s().changesSince(account.id, start);
      assert.deepEqual(
        feed.map((c) => [c.kind, c.uid]),
        [
          ['append', 1],
          ['append', 2],
          ['flags', 1],
          ['flags', 2],
          ['expunge', 1],
        ],
      );
      for (let i = 1; i < feed.length; i++) assert.ok(feed[i]!.seq > feed[i - 1]!.seq);
      assert.equal(feed[0]!.messageId, a!.messageId);
      assert.equal(feed[0]!.modseq, a!.modseq);
      assert.equal(feed[4]!.modseq, (await mailbox(s(), inbox.id)).highestModseq);
      assert.ok(feed.every((c) => c.accountId === account.id && c.mailboxId === inbox.id));
      assert.deepEqual(
        (await s().changesSince(account.id, start, 2)).map((c) => c.seq),
        [feed[0]!.seq, feed[1]!.seq],
      );
      assert.deepEqual(await s().changesSince(account.id, feed[4]!.seq), []);
      const bob = await seedAccount(s(), 'bob');
      assert.ok((await s().changesSince(bob.account.id, 0)).every((c) => c.accountId === bob.account.id));
    });

    it('onChange fires after commit, survives a throwing listener, and unsubscribes', async () => {
      const { account, inbox } = await seedAccount(s());
      const heard: Change[] = [];
      const visible: Promise<unknown>[] = [];
      const offBad = s().onChange(() => {
        throw new Error('listener bug');
      });
      const off = s().onChange((c) => {
        heard.push(c);
        if (c.uid !== null) visible.push(s().getMessage(c.mailboxId, c.uid));
      });
      const results = await Promise.all([
        s().appendMessages([newMessage(inbox)]),
        s().appendMessages([newMessage(inbox)]),
      ]);
      assert.equal(heard.length, 2, 'listeners ran before the appends resolved');
      assert.ok(heard[1]!.seq > heard[0]!.seq);
      assert.deepEqual(
        heard.map((c) => c.messageId),
        results.map((r) => r[0]!.messageId),
      );
      for (const m of await Promise.all(visible)) assert.ok(m !== null, 'the change was committed');
      assert.deepEqual(heard, (await s().changesSince(account.id, heard[0]!.seq - 1)).slice(0, 2));

      // A failed write tells no one.
      await rejectsWith(s().appendMessages([newMessage(inbox, { flags: [' '] })]), 'input.invalid');
      assert.equal(heard.length, 2);
      off();
      offBad();
      await s().setFlags(inbox.id, [1], ['x'], 'add');
      assert.equal(heard.length, 2);
    });
  });

  describe('audit log', () => {
    it('50 concurrent appends form one chain, seq 1..50', async () => {
      const rows = await Promise.all(
        Array.from({ length: 50 }, (_, i) => s().appendAudit((last) => nextRow(last, `action-${i}`))),
      );
      assert.deepEqual(
        rows.map((r) => r.seq).sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      const listed = await s().listAudit();
      assert.equal(listed.length, 50);
      listed.forEach((r, i) => {
        assert.equal(r.seq, i + 1);
        assert.equal(r.prevHash, i === 0 ? '0'.repeat(64) : listed[i - 1]!.hash);
      });
      assert.deepEqual(await s().listAudit(10, 3), listed.slice(9, 12));
    });

    it('refuses a row that breaks the chain, and a failing build writes nothing', async () => {
      await s().appendAudit((last) => nextRow(last, 'first'));
      await rejectsWith(
        s().appendAudit((last) => ({ ...nextRow(last, 'x'), prevHash: 'f'.repeat(64) })),
        'audit.broken-chain',
      );
      await rejectsWith(
        s().appendAudit((last) => ({ ...nextRow(last, 'x'), seq: 5 })),
        'audit.broken-chain',
      );
      await assert.rejects(
        s().appendAudit(() => {
          throw new Error('build failed');
        }),
        /build failed/,
      );
      const second = await s().appendAudit((last) => nextRow(last, 'second'));
      assert.equal(second.seq, 2);
      assert.equal((await s().listAudit()).length, 2);
    });
  });
}
