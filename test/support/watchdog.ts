// Event-loop watchdog for the hostile suite (issue 6 item 5): fails a test file when
// any single task blocks this process's event loop for more than 100 ms. It watches
// the process that runs the in-process server (startInProcess), which is the test
// process itself.
//
// How a blocked task is told apart from a busy machine: a repeating timer records the
// wall-clock gap between its ticks and the CPU time the main thread consumed in that
// gap (process.threadCpuUsage, Node 24). A gap over the limit during which the main
// thread itself ran for more than the limit is a task that kept the loop: recorded
// with a timestamp. A long gap with little main-thread CPU is the machine (other test
// files on two cores, the scheduler), or a wait in the thread pool, and is not.
// perf_hooks' monitorEventLoopDelay adds the delay histogram for the report.
//
// Invariants: the timer is unref'd (it never keeps the process alive); a watchdog
// measures only between start() and stop(); the test's own synchronous work counts
// too, so a hostile test must build large inputs asynchronously or before start().

import { type ELDHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { after, before } from 'node:test';

export const DEFAULT_LIMIT_MS = 100;
const TICK_MS = 10;

export interface Stall {
  /** When the stall ended (ISO 8601). */
  readonly at: string;
  /** Wall-clock time the loop did not come round. */
  readonly gapMs: number;
  /** Main-thread CPU time consumed in that gap. */
  readonly cpuMs: number;
}

export interface WatchdogReport {
  readonly limitMs: number;
  /** Wall-clock time watched. */
  readonly watchedMs: number;
  /** The largest gap in which the main thread was itself busy (CPU time), i.e. the longest task. */
  readonly maxTaskMs: number;
  /** The largest wall-clock gap between ticks, busy or not. */
  readonly maxGapMs: number;
  /** perf_hooks event-loop delay: max and p99, in ms. */
  readonly delayMaxMs: number;
  readonly delayP99Ms: number;
  readonly stalls: readonly Stall[];
}

function cpuMsNow(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

export class Watchdog {
  readonly limitMs: number;
  #timer: NodeJS.Timeout | null = null;
  #histogram: ELDHistogram | null = null;
  #startedAt = 0;
  #stoppedAt = 0;
  #lastWall = 0;
  #lastCpu = 0;
  #maxTaskMs = 0;
  #maxGapMs = 0;
  readonly #stalls: Stall[] = [];

  constructor(limitMs = DEFAULT_LIMIT_MS) {
    this.limitMs = limitMs;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#startedAt = performance.now();
    this.#lastWall = this.#startedAt;
    this.#lastCpu = cpuMsNow();
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  #tick(): void {
    const wall = performance.now();
    const cpu = cpuMsNow();
    const gap = wall - this.#lastWall;
    const used = cpu - this.#lastCpu;
    this.#lastWall = wall;
    this.#lastCpu = cpu;
    // The task's length is at most the gap and at most the CPU the thread used in it.
    const task = Math.min(gap, used);
    if (gap > this.#maxGapMs) this.#maxGapMs = gap;
    if (task > this.#maxTaskMs) this.#maxTaskMs = task;
    if (gap > this.limitMs && used > this.limitMs) {
      this.#stalls.push({
        at: new Date(performance.timeOrigin + wall).toISOString(),
        gapMs: Math.round(gap),
        cpuMs: Math.round(used),
      });
    }
  }

  /** Stop measuring (the last partial gap is measured too); idempotent. */
  stop(): WatchdogReport {
    if (this.#timer !== null) {
      this.#tick();
      clearInterval(this.#timer);
      this.#timer = null;
      this.#histogram?.disable();
      this.#stoppedAt = performance.now();
    }
    return this.report();
  }

  report(): WatchdogReport {
    const h = this.#histogram;
    const end = this.#timer === null ? this.#stoppedAt : performance.now();
    return {
      limitMs: this.limitMs,
      watchedMs: Math.round(end - this.#startedAt),
      maxTaskMs: Math.round(this.#maxTaskMs),
      maxGapMs: Math.round(this.#maxGapMs),
      delayMaxMs: h && h.count > 0 ? Math.round(h.max / 1e6) : 0,
      delayP99Ms: h && h.count > 0 ? Math.round(h.percentile(99) / 1e6) : 0,
      stalls: [...this.#stalls],
    };
  }

  /** Throws (fails the test) when any task blocked the loop for more than the limit. */
  assertClean(label = 'event loop'): WatchdogReport {
    const r = this.stop();
    if (r.stalls.length > 0) {
      const list = r.stalls.map((s) => `  ${s.at}: blocked ${s.gapMs} ms (${s.cpuMs} ms CPU)`).join('\n');
      throw new Error(
        `${label}: ${r.stalls.length} task(s) blocked the event loop over ${r.limitMs} ms:\n${list}`,
      );
    }
    return r;
  }
}

/**
 * Watch the event loop for the rest of the enclosing describe: call it after the
 * before() that starts the server, so start-up is not measured. The after() hook
 * fails the suite with the offenders and prints the measurements (SEALPOST_WATCHDOG_QUIET
 * silences the line).
 */
export function useWatchdog(label: string, limitMs = DEFAULT_LIMIT_MS): Watchdog {
  const dog = new Watchdog(limitMs);
  before(() => dog.start());
  after(() => {
    const r = dog.stop();
    if (process.env['SEALPOST_WATCHDOG_QUIET'] === undefined) {
      process.stdout.write(
        `# watchdog ${label}: max task ${r.maxTaskMs} ms, max gap ${r.maxGapMs} ms, loop delay max ${r.delayMaxMs} ms p99 ${r.delayP99Ms} ms over ${r.watchedMs} ms\n`,
      );
    }
    dog.assertClean(label);
  });
  return dog;
}
