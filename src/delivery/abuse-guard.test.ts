// The abuse guard on a real SQLite store with a settable clock: limits refuse and
// change nothing, a spike and a bounce burst suspend once (audit, security event and
// notices to the owner and postmaster), a standing suspension is honoured even with
// the guard off, resume lifts it, and recipient addresses never reach the database.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AuditLog } from '../audit/log.ts';
import { loadConfig } from '../config/index.ts';
import { auditKey, MasterKeyRing } from '../crypto/index.ts';
import { silentLogger } from '../log/logger.ts';
import { seedAccount } from '../store/contract/fixtures.ts';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Account } from '../store/types.ts';
import { AbuseGuard } from './abuse-guard.ts';
import { HOUR_MS } from './abuse-policy.ts';
import { OutboundQueue } from './queue.ts';

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % HOUR_MS) + 10 * 60_000; // 10 minutes into an hour

describe('abuse guard', () => {
  let dir: string;
  let store: SqliteStore;
  let ring: MasterKeyRing;
  let now = T0;
  let alice: Account;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sealpost-abuse-'));
    store = await openSqliteStore({ path: path.join(dir, 'db.sqlite') });
    await store.migrate();
    ring = new MasterKeyRing([{ version: 1, key: randomBytes(32) }]);
    now = T0;
    alice = (await seedAccount(store, 'alice', 'example.test')).account;
    await seedAccount(store, 'postmaster', 'example.test');
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function guard(env: Record<string, string> = {}) {
    const config = loadConfig({ file: null, env: { SEALPOST_HOSTNAME: 'mx.example.test', ...env } });
    const queue = new OutboundQueue(store, ring, () => now);
    const audit = new AuditLog(store, auditKey(ring), { now: () => now });
    let woken = 0;
    const g = new AbuseGuard({
      config,
      store,
      keys: ring,
      queue,
      audit,
      logger: silentLogger(),
      now: () => now,
      onQueued: () => woken++,
    });
    return { g, queue, audit, woken: () => woken };
  }

  async function send(g: AbuseGuard, to: string[]) {
    const r = await g.beforeQueue(alice, to);
    if (r.ticket !== null) await g.accepted(r.ticket);
    return r.decision;
  }

  const rcpt = (i: number) => `someone${i}@elsewhere.example`;

  it('counts accepted mail; a fresh account may send spike_min_recipients in an hour, then is suspended once', async () => {
    const { g, queue, audit, woken } = guard({ SEALPOST_ABUSE_SPIKE_MIN_RECIPIENTS: '10' });
    for (let i = 0; i < 10; i++) assert.deepEqual(await send(g, [rcpt(i)]), { kind: 'ok' });
    const status = await g.status(alice);
    assert.deepEqual(
      [status.lastHour.messages, status.lastHour.recipients, status.lastHour.newRecipients],
      [10, 10, 10],
    );
    assert.deepEqual(await send(g, [rcpt(10)]), { kind: 'suspended' });
    const s = await store.getSendingSuspension(alice.id);
    assert.equal(s?.reason, 'spike');
    assert.equal(s?.suspendedBy, 'system');
    assert.match(
      s?.detail ?? '',
      /^11 recipients in the last hour; usual 0\.0 per active hour; suspension above 10$/,
    );
    assert.equal((await g.status(alice)).lastHour.messages, 10, 'the refused message is not counted');
    // Exactly one audit entry, one security event and two notices.
    assert.deepEqual(await g.beforeMail(alice), { kind: 'suspended' });
    assert.deepEqual(await send(g, [rcpt(0)]), { kind: 'suspended' });
    assert.equal(await g.suspend(alice, 'bounces', null, 'system'), false, 'already suspended');
    const entries = (await store.listAudit(1, 100)).filter((e) => e.action === 'sending.suspend');
    assert.deepEqual(
      entries.map((e) => [e.actor, e.target]),
      [['system', 'alice@example.test']],
    );
    assert.equal((await audit.verify()).ok, true);
    const events = await store.listSecurityEvents(alice.id, 10);
    assert.deepEqual(
      events.map((e) => [e.kind, e.protocol, e.success]),
      [['sending-suspended', 'smtp', false]],
    );
    const notices = (await store.listQueue(10))
      .map((m) => queue.open(m))
      .sort((a, b) => (a.recipients[0]!.address < b.recipients[0]!.address ? -1 : 1));
    assert.deepEqual(
      notices.map((m) => [m.accountId, m.envelope.mailFrom, m.recipients.map((r) => r.address)]),
      [
        [null, '', ['alice@example.test']],
        [null, '', ['postmaster@example.test']],
      ],
    );
    const owner = notices[0]!.data.toString('utf8');
    assert.match(owner, /^From: Sealpost <postmaster@mx\.example\.test>\r\n/);
    assert.match(owner, /\r\nAuto-Submitted: auto-generated\r\n/);
    assert.match(owner, /Subject: Sending from your account is suspended/);
    assert.match(owner, /far more mail in the last hour than it usually does/);
    const admin = notices[1]!.data.toString('utf8');
    assert.match(admin, /Subject: Sending suspended for alice@example\.test/);
    assert.match(admin, /sealpost sending resume alice@example\.test/);
    assert.equal(woken(), 1);
  });

  it('judges a spike against the account own baseline', async () => {
    const { g } = guard();
    // Six recipients an hour, in 30 hours of the last week: baseline 6, threshold max(50, 60) = 60.
    for (let h = 30; h > 0; h--) {
      now = T0 - (h + 2) * HOUR_MS;
      for (let i = 0; i < 6; i++) await send(g, [rcpt(i)]);
    }
    now = T0;
    const status = await g.status(alice);
    assert.deepEqual([status.baseline, status.spikeThreshold], [6, 60]);
    for (let i = 0; i < 6; i++)
      assert.deepEqual(
        await send(
          g,
          Array.from({ length: 10 }, (_, j) => rcpt(j)),
        ),
        { kind: 'ok' },
      );
    assert.deepEqual(await send(g, [rcpt(99)]), { kind: 'suspended' }, 'the 61st recipient of the hour');
  });

  it('after a lift the spike rule rests for two hours, then judges again', async () => {
    const { g } = guard({ SEALPOST_ABUSE_SPIKE_MIN_RECIPIENTS: '5' });
    for (let i = 0; i < 6; i++) await send(g, [rcpt(i)]);
    assert.equal(await g.isSuspended(alice.id), true);
    now += 60_000;
    assert.equal(await g.resume(alice, 'cli:root'), true);
    for (let i = 0; i < 3; i++)
      assert.deepEqual(await send(g, [rcpt(i)]), { kind: 'ok' }, 'not suspended again');
    now += 2 * HOUR_MS - 1;
    assert.deepEqual(await send(g, [rcpt(7)]), { kind: 'ok' }, 'still resting');
    now += 1;
    for (let i = 0; i < 4; i++) assert.deepEqual(await send(g, [rcpt(i)]), { kind: 'ok' });
    assert.equal(await g.isSuspended(alice.id), false);
    assert.deepEqual(
      await send(g, [rcpt(8), rcpt(9)]),
      { kind: 'suspended' },
      'a new spike two hours later: the hours of the first one are not its baseline',
    );
  });

  it('a hard limit refuses temporarily and changes nothing; known recipients are not new', async () => {
    const { g } = guard({
      SEALPOST_ABUSE_MESSAGES_PER_HOUR: '3',
      SEALPOST_ABUSE_NEW_RECIPIENTS_PER_HOUR: '4',
    });
    assert.deepEqual(await send(g, [rcpt(1), rcpt(2), rcpt(3)]), { kind: 'ok' });
    assert.deepEqual(await send(g, [rcpt(4), rcpt(5)]), {
      kind: 'limited',
      limit: 'new_recipients_per_hour',
      max: 4,
    });
    assert.deepEqual(await send(g, [rcpt(1), rcpt(2), rcpt(4)]), { kind: 'ok' }, 'only rcpt(4) is new');
    assert.deepEqual(await send(g, [rcpt(1)]), { kind: 'ok' });
    const before = await store.listSendingHours(alice.id, 0);
    assert.deepEqual(await g.beforeMail(alice), { kind: 'limited', limit: 'messages_per_hour', max: 3 });
    assert.deepEqual(await send(g, [rcpt(1)]), { kind: 'limited', limit: 'messages_per_hour', max: 3 });
    assert.deepEqual(await store.listSendingHours(alice.id, 0), before, 'nothing counted');
    assert.equal(await store.getSendingSuspension(alice.id), null, 'a limit is not a suspension');
    now = T0 + 2 * HOUR_MS;
    assert.deepEqual(await g.beforeMail(alice), { kind: 'ok' }, 'the window has moved on');
  });

  it('a burst of bounces suspends; a few bounces among much mail do not', async () => {
    const { g } = guard({ SEALPOST_ABUSE_BOUNCE_MIN: '5' });
    for (let i = 0; i < 12; i++) await send(g, [rcpt(i)]);
    await g.bounced(alice.id, 3);
    assert.equal(await g.isSuspended(alice.id), false, 'under bounce_min');
    await g.bounced(alice.id, 2);
    assert.equal(await g.isSuspended(alice.id), true, '5 of 12 recipients: over 30%');
    const s = await store.getSendingSuspension(alice.id);
    assert.equal(s?.reason, 'bounces');
    assert.match(
      s?.detail ?? '',
      /^5 permanent failures in the last hour, 42% of the last day's recipients$/,
    );

    const bob = (await seedAccount(store, 'bob', 'example.test')).account;
    for (let i = 0; i < 40; i++) {
      const r = await g.beforeQueue(bob, [rcpt(i)]);
      now += 60_000;
      if (r.ticket) await g.accepted(r.ticket);
    }
    await g.bounced(bob.id, 6);
    assert.equal(await g.isSuspended(bob.id), false, '6 of 40: 15%');
  });

  it('resume lifts a suspension (audited); an admin suspension holds even with the guard off', async () => {
    const { g, audit } = guard({ SEALPOST_ABUSE_ENABLED: 'false' });
    assert.equal(await g.resume(alice, 'cli:root'), false, 'nothing to lift');
    assert.equal(await g.suspend(alice, 'admin', 'checking a complaint', 'cli:root'), true);
    assert.deepEqual(await g.beforeMail(alice), { kind: 'suspended' });
    assert.deepEqual((await g.beforeQueue(alice, [rcpt(1)])).decision, { kind: 'suspended' });
    now += 1000;
    assert.equal(await g.resume(alice, 'cli:root'), true);
    assert.deepEqual(await g.beforeMail(alice), { kind: 'ok' });
    const r = await g.beforeQueue(alice, [rcpt(1)]);
    assert.deepEqual([r.decision, r.ticket], [{ kind: 'ok' }, null], 'the guard off counts nothing');
    const actions = (await store.listAudit(1, 100)).map((e) => [e.actor, e.action]);
    assert.deepEqual(actions, [
      ['cli:root', 'sending.suspend'],
      ['cli:root', 'sending.resume'],
    ]);
    assert.equal((await audit.verify()).ok, true);
    assert.deepEqual(
      (await store.listSecurityEvents(alice.id, 10)).map((e) => [e.kind, e.protocol]),
      [
        ['sending-resumed', 'cli'],
        ['sending-suspended', 'cli'],
      ],
    );
  });

  it('uses abuse.admin_address when set; without it and without postmaster@ only the owner is told', async () => {
    const { g, queue } = guard({ SEALPOST_ABUSE_ADMIN_ADDRESS: 'abuse@ops.example' });
    await g.suspend(alice, 'admin', null, 'cli:root');
    const to = (await store.listQueue(10)).map((m) => queue.open(m).recipients[0]!.address);
    assert.deepEqual(to.sort(), ['abuse@ops.example', 'alice@example.test']);

    const carol = (await seedAccount(store, 'carol', 'other.test')).account;
    const plain = guard();
    await plain.g.suspend(carol, 'admin', null, 'cli:root');
    const all = (await store.listQueue(10)).map((m) => queue.open(m).recipients[0]!.address);
    assert.deepEqual(all.sort(), ['abuse@ops.example', 'alice@example.test', 'carol@other.test']);
  });

  it('keeps only keyed hashes of recipients: no address reaches the database files', async () => {
    const { g } = guard();
    const secret = 'very-private-correspondent@elsewhere.example';
    await send(g, [secret, secret.toUpperCase()]);
    assert.equal((await g.status(alice)).lastHour.recipients, 1, 'case does not make a new recipient');
    const hash = g.recipientHash(alice.id, secret);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.notEqual(
      hash,
      g.recipientHash((await store.getAccountByAddress('postmaster@example.test'))!.id, secret),
    );
    assert.equal((await store.knownRecipients(alice.id, [hash], 0)).size, 1);
    for (const f of readdirSync(dir)) {
      if (!f.startsWith('db.sqlite')) continue;
      assert.equal(readFileSync(path.join(dir, f)).includes(Buffer.from('very-private')), false, f);
    }
  });
});
