// Several worker processes behind the supervisor: connections are spread over the
// workers, the per-address limit holds for the whole node (not per worker), a killed
// worker is replaced without the listener going away, and SIGTERM stops every process.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { countAll } from '../support/mailbox.ts';
import { type Child, freePort, type Installation, install, startChild } from '../support/server.ts';
import { message, RawSmtp } from '../support/smtp-raw.ts';

function workerPids(supervisor: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(supervisor)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function deliver(port: number, i: number): Promise<number> {
  const { client } = await RawSmtp.connect(port);
  await client.cmd('EHLO client.example.org');
  await client.cmd('MAIL FROM:<sender@example.org>');
  await client.cmd('RCPT TO:<alice@sealpost.test>');
  await client.cmd('DATA');
  const r = await client.cmd(`${message({ subject: `w${i}` })}.`);
  await client.cmd('QUIT').catch(() => null);
  client.close();
  return r.code;
}

describe('worker processes', () => {
  let inst: Installation;
  let child: Child;

  before(async () => {
    inst = await install({
      env: {
        SEALPOST_WORKERS: '2',
        SEALPOST_MX_MAX_CONNECTIONS_PER_ADDRESS: '3',
        SEALPOST_LOG_LEVEL: 'info',
      },
    });
    child = await startChild(inst, await freePort());
  });
  after(async () => {
    await child.stop();
    await inst.cleanup();
  });

  it('runs two workers and spreads concurrent connections over both', async () => {
    assert.match(child.output(), /2 worker processes/);
    assert.equal(workerPids(child.process.pid!).length, 2);
    const codes = await Promise.all(Array.from({ length: 3 }, (_, i) => deliver(child.mxPort, i)));
    assert.deepEqual(codes, [250, 250, 250]);
    const pids = new Set(
      [...child.output().matchAll(/"pid":(\d+),"role":"mx"[^\n]*message delivered/g)].map((m) => m[1]),
    );
    assert.equal(pids.size, 2, 'both workers delivered mail');
  });

  it('applies the per-address limit across all workers', async () => {
    const open = await Promise.all([1, 2, 3].map(() => RawSmtp.connect(child.mxPort)));
    for (const o of open) assert.equal(o.greeting.code, 220);
    const fourth = await RawSmtp.connect(child.mxPort);
    assert.equal(fourth.greeting.code, 421);
    assert.match(fourth.greeting.text, /4\.7\.0 Too many connections/);
    fourth.client.close();
    for (const o of open) {
      await o.client.cmd('QUIT').catch(() => null);
      o.client.close();
    }
    await sleep(200);
    const again = await RawSmtp.connect(child.mxPort);
    assert.equal(again.greeting.code, 220, 'slots come back when connections end');
    again.client.close();
  });

  it('replaces a killed worker and keeps serving', async () => {
    const [victim] = workerPids(child.process.pid!);
    process.kill(victim!, 'SIGKILL');
    let pids: number[] = [];
    for (let i = 0; i < 100; i++) {
      await sleep(100);
      pids = workerPids(child.process.pid!);
      if (pids.length === 2 && !pids.includes(victim!)) break;
    }
    assert.equal(pids.length, 2, 'a replacement worker runs');
    assert.ok(!pids.includes(victim!));
    // Three at once: the per-address limit of this installation.
    const codes = await Promise.all(Array.from({ length: 3 }, (_, i) => deliver(child.mxPort, 10 + i)));
    assert.deepEqual(codes, [250, 250, 250]);
    assert.equal(await countAll(inst, 'alice@sealpost.test'), 6);
  });

  it('stops every process on SIGTERM, promptly', async () => {
    const pids = workerPids(child.process.pid!);
    const t = Date.now();
    await child.stop();
    assert.ok(Date.now() - t < 5000, `stopped in ${Date.now() - t} ms (no worker needed killing)`);
    await sleep(300);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} exited`);
  });
});
