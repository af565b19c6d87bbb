// Durability of the outbound queue (issue 5, "Must show"): the sending instance runs as
// a child process and is killed with SIGKILL while its delivery role is working through
// the queue (every attempt failing: the receiver is not up yet). After a restart every
// message that submission acknowledged is delivered, exactly once.
//
// Why the receiver is down at the kill: a crash between the next hop's 250 and the
// queue's record of it makes SMTP deliver that message twice (RFC 5321 §6.1 accepts the
// duplicate to never lose mail). That window is milliseconds wide and cannot be closed by
// the sender; killing while attempts fail tests what the queue guarantees (nothing
// acknowledged is lost, nothing finished is sent again) without making the test a
// lottery.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { type DnsTestServer, startDnsServer } from '../support/dns-server.ts';
import { readMailbox } from '../support/mailbox.ts';
import { receiverEnv, senderEnv } from '../support/outbound.ts';
import {
  type Child,
  freePort,
  type InProcess,
  type Installation,
  install,
  PASSWORD,
  runCli,
  startChild,
  startInProcess,
} from '../support/server.ts';

const TOTAL = 40;
const ALICE = 'alice@sender.test';
const BOB = 'bob@receiver.test';

describe('kill -9 of the delivery role mid-queue', () => {
  let dns: DnsTestServer;
  let sender: Installation;
  let receiver: Installation;
  let child: Child | null = null;
  let receiverSrv: InProcess | null = null;
  let submissionPort: number;

  before(async () => {
    dns = await startDnsServer();
    const mxPort = await freePort();
    submissionPort = await freePort();
    receiver = await install({
      domains: ['receiver.test'],
      users: [BOB],
      env: receiverEnv({ dnsPort: dns.port, hostname: 'mx.receiver.test', address: '127.0.0.3', mxPort }),
    });
    sender = await install({
      domains: ['sender.test'],
      users: [ALICE],
      env: {
        ...senderEnv({
          dnsPort: dns.port,
          hostname: 'mx.sender.test',
          sourceAddress: '127.0.0.2',
          remotePort: mxPort,
        }),
        SEALPOST_SUBMISSION_PORT: String(submissionPort),
        SEALPOST_DELIVERY_FIRST_RETRY_SECONDS: '1',
        SEALPOST_DELIVERY_MAX_RETRY_MINUTES: '1',
        SEALPOST_DELIVERY_CONNECT_TIMEOUT_SECONDS: '2',
      },
    });
    dns.set('receiver.test', 'MX', [{ preference: 10, exchange: 'mx.receiver.test' }]);
    dns.set('mx.receiver.test', 'A', ['127.0.0.3']);
    child = await startChild(sender, await freePort());
  });

  after(async () => {
    await child?.stop();
    await receiverSrv?.server.stop();
    await dns?.close();
    await sender?.cleanup();
    await receiver?.cleanup();
  });

  it('delivers every acknowledged message exactly once after the restart', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: submissionPort,
      secure: true,
      pool: true,
      maxConnections: 4,
      auth: { user: ALICE, pass: PASSWORD },
      tls: { rejectUnauthorized: false },
    });
    const acked = await Promise.all(
      Array.from({ length: TOTAL }, async (_, i) => {
        const info = await transport.sendMail({
          from: ALICE,
          to: BOB,
          subject: `crash-${i}`,
          text: `message ${i}`,
        });
        assert.match(info.response, /^250 2\.0\.0 Ok: queued as que_/);
        return `crash-${i}`;
      }),
    );
    transport.close();
    // Let the delivery role work (and fail) on the queue for a moment, then kill it.
    await new Promise((r) => setTimeout(r, 1500));
    const before = JSON.parse((await runCli(sender, ['queue', 'list', '--json'])).stdout) as {
      recipients: { attempts: number }[];
    }[];
    assert.equal(before.length, TOTAL, 'nothing could be delivered yet');
    assert.ok(
      before.some((m) => m.recipients[0]!.attempts > 0),
      'the delivery role was working on the queue',
    );
    child!.process.kill('SIGKILL');
    await new Promise((r) => child!.process.once('exit', r));

    receiverSrv = await startInProcess(receiver);
    child = await startChild(sender, await freePort());
    const retry = await runCli(sender, ['queue', 'retry', '--all']);
    assert.equal(retry.code, 0, retry.stderr);

    const deadline = Date.now() + 60_000;
    let subjects: string[] = [];
    while (Date.now() < deadline) {
      subjects = (await readMailbox(receiver, BOB)).map((m) => m.summary.subject ?? '');
      if (subjects.length >= TOTAL) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 1000)); // a late duplicate would show up here
    subjects = (await readMailbox(receiver, BOB)).map((m) => m.summary.subject ?? '');
    assert.deepEqual([...subjects].sort(), [...acked].sort(), 'each acknowledged message exactly once');
    const left = JSON.parse((await runCli(sender, ['queue', 'list', '--json'])).stdout) as unknown[];
    assert.deepEqual(left, [], 'the queue is empty');
  });
});
