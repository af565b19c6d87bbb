// The event-loop watchdog (test/support/watchdog.ts) itself: a task that keeps the
// main thread busy for 200 ms is caught with a timestamp; a 200 ms idle wait is not,
// and neither is time the main thread spends waiting for the thread pool.

import assert from 'node:assert/strict';
import { pbkdf2 } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Watchdog } from '../support/watchdog.ts';

/** Spin until the main thread has used `ms` of CPU (not wall time: the machine may be loaded). */
function busy(ms: number): void {
  const cpu = () => {
    const u = process.threadCpuUsage();
    return (u.user + u.system) / 1000;
  };
  const end = cpu() + ms;
  while (cpu() < end) {
    // spin: the event loop cannot come round
  }
}

describe('event-loop watchdog', () => {
  it('catches a 200 ms busy loop and names when it happened', async () => {
    const dog = new Watchdog(100);
    dog.start();
    await sleep(30);
    const before = Date.now();
    busy(200);
    await sleep(30);
    assert.throws(() => dog.assertClean('busy'), /busy: 1 task\(s\) blocked the event loop over 100 ms/);
    const r = dog.report();
    assert.equal(r.stalls.length, 1);
    assert.ok(r.stalls[0]!.gapMs >= 200, `gap ${r.stalls[0]!.gapMs}`);
    assert.ok(r.stalls[0]!.cpuMs > 100, `cpu ${r.stalls[0]!.cpuMs}`);
    assert.ok(Date.parse(r.stalls[0]!.at) >= before);
    assert.ok(r.maxTaskMs > 100, `max task ${r.maxTaskMs}`);
  });

  it('does not flag a 200 ms idle wait', async () => {
    const dog = new Watchdog(100);
    dog.start();
    await sleep(200);
    const r = dog.assertClean('idle');
    assert.equal(r.stalls.length, 0);
    assert.ok(r.watchedMs >= 190);
  });

  it('does not flag the main thread waiting on the thread pool (hashing off-thread)', async () => {
    const dog = new Watchdog(100);
    dog.start();
    await promisify(pbkdf2)('pw', 'salt', 300_000, 32, 'sha256');
    assert.equal(dog.assertClean('pool').stalls.length, 0);
  });

  it('does not flag short tasks that add up to more than the limit', async () => {
    const dog = new Watchdog(100);
    dog.start();
    for (let i = 0; i < 10; i++) {
      busy(20);
      await sleep(1);
    }
    const r = dog.assertClean('short');
    assert.ok(r.maxTaskMs < 100, `max task ${r.maxTaskMs}`);
  });
});
