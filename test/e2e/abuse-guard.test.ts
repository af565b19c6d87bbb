// The abuse guard (issue 5 item 7) with the real server and real clients: an account
// that sends far above its own baseline is suspended (550 5.7.1 from then on, an
// audit entry by 'system', a notice in the owner's INBOX and one to postmaster), and
// `sealpost sending resume` lifts it; an hourly limit answers 451 4.7.1 and changes
// nothing; a suspended sender's queued mail is held and goes out after the lift; a
// burst of real bounces (recipients deleted while the mail waited) suspends.
// Baselines are seeded through the store, as weeks of sending cannot be waited for.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { deleteAccount } from '../../src/admin/accounts.ts';
import { type RunningServer, startServer } from '../../src/app/start.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { readMailbox } from '../support/mailbox.ts';
import { saslPlain as plain, waitFor } from '../support/outbound.ts';
import {
  type InProcess,
  type Installation,
  install,
  openStore,
  PASSWORD,
  runCli,
  startInProcess,
} from '../support/server.ts';
import { RawSmtp } from '../support/smtp-raw.ts';

const HOUR = 3_600_000;
const ALICE = 'alice@sealpost.test';
const BOB = 'bob@sealpost.test';
const DAVE = 'dave@sealpost.test';
const CAROL = 'carol@sealpost.test';
const POSTMASTER = 'postmaster@sealpost.test';

/**
 * Seed `hours` past hours (ending two hours ago) of one message each to the same
 * `perHour` recipients (new only the first time, as a steady correspondent's are).
 */
async function seedBaseline(
  inst: Installation,
  address: string,
  hours: number,
  perHour: number,
): Promise<void> {
  const rt = await openStore(inst);
  try {
    const account = (await rt.store.getAccountByAddress(address))!;
    const now = Date.now();
    const usual = Array.from({ length: perHour }, () => randomBytes(32).toString('hex'));
    for (let h = hours + 1; h >= 2; h--) {
      const at = now - h * HOUR;
      await rt.store.recordSending({
        accountId: account.id,
        at,
        recipientHashes: usual,
        newSince: at - 30 * 24 * HOUR,
        forgetBefore: at - 40 * 24 * HOUR,
      });
    }
  } finally {
    await rt.close();
  }
}

async function seedNow(inst: Installation, address: string, messages: number): Promise<void> {
  const rt = await openStore(inst);
  try {
    const account = (await rt.store.getAccountByAddress(address))!;
    for (let i = 0; i < messages; i++) {
      const at = Date.now();
      await rt.store.recordSending({
        accountId: account.id,
        at,
        recipientHashes: [randomBytes(32).toString('hex')],
        newSince: at - 30 * 24 * HOUR,
        forgetBefore: at - 40 * 24 * HOUR,
      });
    }
  } finally {
    await rt.close();
  }
}

async function auditActions(inst: Installation, target: string): Promise<string[][]> {
  const rt = await openStore(inst);
  try {
    return (await rt.store.listAudit(1, 10_000))
      .filter((e) => e.target === target && ['sending.suspend', 'sending.resume'].includes(e.action))
      .map((e) => [e.actor, e.action]);
  } finally {
    await rt.close();
  }
}

async function status(inst: Installation, address: string) {
  const r = await runCli(inst, ['sending', 'status', address, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as {
    suspended: boolean;
    baseline: number;
    spikeThreshold: number;
    lastHour: { messages: number; recipients: number };
    suspension: { reason: string; suspendedBy: string } | null;
  };
}

const subjects = async (inst: Installation, address: string) =>
  (await readMailbox(inst, address)).map((m) => m.summary.subject ?? '');

describe('abuse guard: spike suspension, limits and resume with the real server', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;

  before(async () => {
    inst = await install({
      users: [ALICE, BOB, DAVE, POSTMASTER],
      env: {
        SEALPOST_ABUSE_SPIKE_MIN_RECIPIENTS: '10',
        SEALPOST_ABUSE_MESSAGES_PER_HOUR: '40',
      },
    });
    // Alice: two recipients an hour in 20 hours of the last day: baseline 2, so the
    // bar is max(10, 10 x 2) = 20 recipients in an hour.
    await seedBaseline(inst, ALICE, 20, 2);
    // Dave: a busy sender (30 recipients per active hour: bar 300) with 39 messages
    // already this hour, one under the hourly limit of 40.
    await seedBaseline(inst, DAVE, 20, 30);
    await seedNow(inst, DAVE, 39);
    srv = await startInProcess(inst);
    port = srv.server.listening.find((l) => l.role === 'submission' && l.security === 'tls')!.port;
  });
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  const transport = (user: string) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: true,
      pool: true,
      maxConnections: 1,
      maxMessages: 1000,
      auth: { user, pass: PASSWORD },
      tls: { rejectUnauthorized: false },
    });

  it('suspends an account that sends far above its baseline; resume lifts it', async () => {
    const before = await status(inst, ALICE);
    assert.deepEqual([before.suspended, before.baseline, before.spikeThreshold], [false, 2, 20]);
    const t = transport(ALICE);
    try {
      for (let i = 1; i <= 20; i++) {
        const info = await t.sendMail({ from: ALICE, to: BOB, subject: `burst ${i}`, text: 'x' });
        assert.match(info.response, /^250 /, `message ${i}`);
      }
      await assert.rejects(
        t.sendMail({ from: ALICE, to: BOB, subject: 'burst 21', text: 'x' }),
        (e: Error & { responseCode?: number }) => {
          assert.equal(e.responseCode, 550);
          assert.match(e.message, /5\.7\.1 Sending suspended for this account; contact your administrator/);
          return true;
        },
      );
    } finally {
      t.close();
    }
    // From now on MAIL FROM itself is refused.
    const { client } = await RawSmtp.connectTls(port);
    await client.cmd('EHLO client.example');
    assert.equal((await client.cmd(`AUTH PLAIN ${plain(ALICE, PASSWORD)}`)).code, 235);
    const mail = await client.cmd(`MAIL FROM:<${ALICE}>`);
    assert.equal(mail.code, 550);
    assert.match(mail.text, /^5\.7\.1 Sending suspended/);
    client.close();

    assert.deepEqual(await auditActions(inst, ALICE), [['system', 'sending.suspend']]);
    const suspended = await status(inst, ALICE);
    assert.equal(suspended.suspended, true);
    assert.deepEqual([suspended.suspension?.reason, suspended.suspension?.suspendedBy], ['spike', 'system']);
    // Rounded: across the turn of an hour the sliding window weighs the older bucket.
    assert.equal(Math.round(suspended.lastHour.messages), 20, 'the refused message was not counted');
    await waitFor('the owner notice', async () =>
      (await subjects(inst, ALICE)).includes('Sending from your account is suspended') ? true : null,
    );
    const admin = await waitFor('the admin notice', async () => {
      const got = (await readMailbox(inst, POSTMASTER)).find(
        (m) => m.summary.subject === `Sending suspended for ${ALICE}`,
      );
      return got ?? null;
    });
    assert.match(admin.raw, /sealpost sending resume alice@sealpost\.test/);
    assert.match(admin.raw, /Return-Path: <>/);
    const bob = await subjects(inst, BOB);
    assert.equal(bob.filter((s) => s.startsWith('burst ')).length, 20);
    assert.equal(bob.includes('burst 21'), false);

    const resume = await runCli(inst, ['sending', 'resume', ALICE]);
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stdout, /sending resumed for alice@sealpost\.test/);
    const audited = await auditActions(inst, ALICE);
    assert.deepEqual(
      audited.map(([, action]) => action),
      ['sending.suspend', 'sending.resume'],
    );
    assert.match(audited[1]![0]!, /^cli:/, 'the lift names the admin who ran it');
    const again = await runCli(inst, ['sending', 'resume', ALICE]);
    assert.match(again.stdout, /was not suspended/);
    const t2 = transport(ALICE);
    try {
      const info = await t2.sendMail({ from: ALICE, to: BOB, subject: 'after resume', text: 'x' });
      assert.match(info.response, /^250 /);
    } finally {
      t2.close();
    }
    await waitFor('delivery after resume', async () =>
      (await subjects(inst, BOB)).includes('after resume') ? true : null,
    );
  });

  it('the hourly limit answers 451 4.7.1 and changes nothing', async () => {
    const t = transport(DAVE);
    try {
      const info = await t.sendMail({ from: DAVE, to: BOB, subject: 'fortieth', text: 'x' });
      assert.match(info.response, /^250 /);
      await assert.rejects(
        t.sendMail({ from: DAVE, to: BOB, subject: 'forty-first', text: 'x' }),
        (e: Error & { responseCode?: number }) => {
          assert.equal(e.responseCode, 451);
          assert.match(
            e.message,
            /4\.7\.1 Sending limit reached: at most 40 messages per hour from this account/,
          );
          return true;
        },
      );
    } finally {
      t.close();
    }
    const s = await status(inst, DAVE);
    assert.deepEqual([s.suspended, s.suspension, Math.round(s.lastHour.messages)], [false, null, 40]);
    assert.deepEqual(await auditActions(inst, DAVE), [], 'no suspension');
    await waitFor('the 40th message', async () =>
      (await subjects(inst, BOB)).includes('fortieth') ? true : null,
    );
    assert.equal((await subjects(inst, BOB)).includes('forty-first'), false);
  });
});

describe('abuse guard: held mail and a burst of real bounces', () => {
  let inst: Installation;
  const doomed = Array.from({ length: 6 }, (_, i) => `gone${i}@sealpost.test`);
  let submission: RunningServer;
  let delivery: RunningServer | null = null;
  let port: number;

  before(async () => {
    inst = await install({
      users: [ALICE, BOB, CAROL, POSTMASTER, ...doomed],
      env: { SEALPOST_ABUSE_BOUNCE_MIN: '5', SEALPOST_ABUSE_HOLD_MINUTES: '60' },
    });
    // The submission role alone: mail waits in the queue until a delivery role starts.
    submission = await startServer(inst.config(), {
      logger: silentLogger(),
      env: inst.env,
      roles: ['submission'],
    });
    port = submission.listening.find((l) => l.role === 'submission' && l.security === 'tls')!.port;
  });
  after(async () => {
    await delivery?.stop();
    await submission.stop();
    await inst.cleanup();
  });

  const send = async (to: string, subject: string, user = ALICE) => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: true,
      auth: { user, pass: PASSWORD },
      tls: { rejectUnauthorized: false },
    });
    try {
      return await t.sendMail({ from: user, to, subject, text: 'x' });
    } finally {
      t.close();
    }
  };

  it('holds a suspended sender queued mail and delivers it after the lift', async () => {
    assert.match((await send(BOB, 'queued before the suspension')).response, /^250 /);
    const suspend = await runCli(inst, ['sending', 'suspend', ALICE, '--reason', 'checking a complaint']);
    assert.equal(suspend.code, 0, suspend.stderr);
    const noReason = await runCli(inst, ['sending', 'suspend', ALICE]);
    assert.equal(noReason.code, 2);
    assert.match(noReason.stderr, /--reason is required/);
    delivery = await startServer(inst.config(), {
      logger: silentLogger(),
      env: inst.env,
      roles: ['delivery'],
    });
    // The notice (no sender account) goes out; alice's own message is held.
    await waitFor('the owner notice', async () =>
      (await subjects(inst, ALICE)).includes('Sending from your account is suspended') ? true : null,
    );
    const held = await waitFor('the hold', async () => {
      const r = await runCli(inst, ['queue', 'list', '--json']);
      const list = JSON.parse(r.stdout) as {
        mailFrom: string;
        recipients: { nextAttemptAt: number; attempts: number }[];
      }[];
      const m = list.find((x) => x.mailFrom === ALICE);
      return m !== undefined && m.recipients[0]!.nextAttemptAt > Date.now() + 30 * 60_000 ? m : null;
    });
    assert.equal(held.recipients[0]!.attempts, 0, 'a hold is not a delivery attempt');
    assert.equal((await subjects(inst, BOB)).includes('queued before the suspension'), false);
    const resume = await runCli(inst, ['sending', 'resume', ALICE]);
    assert.equal(resume.code, 0, resume.stderr);
    await waitFor('the held message', async () =>
      (await subjects(inst, BOB)).includes('queued before the suspension') ? true : null,
    );
  });

  it('a burst of bounces suspends the sender', async () => {
    await delivery?.stop();
    delivery = null;
    // Carol, not alice: the rules rest for two hours after alice's lift above.
    for (const to of doomed) assert.match((await send(to, `to ${to}`, CAROL)).response, /^250 /);
    // The recipients are deleted while the mail waits: each attempt is a 5.1.1 bounce.
    const rt = await openStore(inst);
    try {
      for (const a of doomed) await deleteAccount(rt, 'test', a);
    } finally {
      await rt.close();
    }
    delivery = await startServer(inst.config(), {
      logger: silentLogger(),
      env: inst.env,
      roles: ['delivery'],
    });
    const s = await waitFor('the suspension', async () => {
      const st = await status(inst, CAROL);
      return st.suspended ? st : null;
    });
    assert.deepEqual([s.suspension?.reason, s.suspension?.suspendedBy], ['bounces', 'system']);
    const actions = await auditActions(inst, CAROL);
    assert.deepEqual(actions.at(-1), ['system', 'sending.suspend']);
    const mail = await RawSmtp.connectTls(port);
    await mail.client.cmd('EHLO client.example');
    await mail.client.cmd(`AUTH PLAIN ${plain(CAROL, PASSWORD)}`);
    assert.equal((await mail.client.cmd(`MAIL FROM:<${CAROL}>`)).code, 550);
    mail.client.close();
    await waitFor('the admin notice', async () =>
      (await subjects(inst, POSTMASTER)).includes(`Sending suspended for ${CAROL}`) ? true : null,
    );
  });
});
