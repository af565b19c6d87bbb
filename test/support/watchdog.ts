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
// Garbage-collection pauses are not tasks: V8's 'gc' performance entries that fall in a
// gap are taken off its CPU time before the gap is judged (a major collection of the
// test process's heap alone once took 102 ms of main-thread CPU in a full CI run).
//
// Invariants: the timer is unref'd (it never keeps the process alive); a watchdog
// measures only between start() and stop(); the test's own synchronous work counts
// too, so a hostile test must build large inputs asynchronously or before start().

import { type ELDHistogram, monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
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
  /** Garbage-collection pauses within the gap (not counted against the limit). */
  readonly gcMs: number;
}

interface Candidate {
  readonly from: number; // performance.now() at the gap's start
  readonly to: number;
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
  /** The longest garbage-collection pause seen, in ms. */
  readonly maxGcMs: number;
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
  readonly #candidates: Candidate[] = [];
  readonly #gc: { start: number; end: number }[] = [];
  #observer: PerformanceObserver | null = null;

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
    this.#observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.#gc.push({ start: e.startTime, end: e.startTime + e.duration });
    });
    this.#observer.observe({ entryTypes: ['gc'] });
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  /** GC pause time within [from, to]. */
  #gcWithin(from: number, to: number): number {
    let ms = 0;
    for (const g of this.#gc) ms += Math.max(0, Math.min(to, g.end) - Math.max(from, g.start));
    return ms;
  }

  /** The candidates that stay over the limit once GC pauses are taken off. */
  #stalls(): Stall[] {
    return this.#candidates
      .map((c) => ({ c, gc: this.#gcWithin(c.from, c.to) }))
      .filter(({ c, gc }) => c.cpuMs - gc > this.limitMs)
      .map(({ c, gc }) => ({
        at: new Date(performance.timeOrigin + c.to).toISOString(),
        gapMs: Math.round(c.to - c.from),
        cpuMs: Math.round(c.cpuMs),
        gcMs: Math.round(gc),
      }));
  }

  #tick(): void {
    const wall = performance.now();
    const cpu = cpuMsNow();
    const from = this.#lastWall;
    const gap = wall - from;
    const used = cpu - this.#lastCpu;
    this.#lastWall = wall;
    this.#lastCpu = cpu;
    // The task's length is at most the gap and at most the CPU the thread used in it.
    const task = Math.min(gap, used);
    if (gap > this.#maxGapMs) this.#maxGapMs = gap;
    if (task > this.#maxTaskMs) this.#maxTaskMs = task;
    // Judged when reported: the 'gc' entries of this gap may not have arrived yet.
    if (gap > this.limitMs && used > this.limitMs) this.#candidates.push({ from, to: wall, cpuMs: used });
  }

  /** Stop measuring (the last partial gap is measured too); idempotent. */
  stop(): WatchdogReport {
    if (this.#timer !== null) {
      this.#tick();
      clearInterval(this.#timer);
      this.#timer = null;
      this.#histogram?.disable();
      this.#stoppedAt = performance.now();
      for (const e of this.#observer?.takeRecords() ?? []) {
        this.#gc.push({ start: e.startTime, end: e.startTime + e.duration });
      }
      this.#observer?.disconnect();
      this.#observer = null;
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
      maxGcMs: Math.round(Math.max(0, ...this.#gc.map((g) => g.end - g.start))),
      delayMaxMs: h && h.count > 0 ? Math.round(h.max / 1e6) : 0,
      delayP99Ms: h && h.count > 0 ? Math.round(h.percentile(99) / 1e6) : 0,
      stalls: this.#stalls(),
    };
  }

  /** Throws (fails the test) when any task blocked the loop for more than the limit. */
  assertClean(label = 'event loop'): WatchdogReport {
    const r = this.stop();
    if (r.stalls.length > 0) {
      const list = r.stalls
        .map((s) => `  ${s.at}: blocked ${s.gapMs} ms (${s.cpuMs} ms CPU, of which ${s.gcMs} ms GC)`)
        .join('\n');
      throw new Error(
        `${label}: ${r.stalls.length} task(s) blocked the event loop over ${r.limitMs} ms:\n${list}`,
      );
    }
    return r;
  }
}

/**
 * Watch the event loop for the rest of the enclosing describe: call it after the
 * before() that starts the server, so start-up is not measured. The after() hook prints
 * the measurements (SEALPOST_WATCHDOG_QUIET silences the line) and, when a task blocked
 * the loop, prints the offenders and fails the test file through its exit code. It does
 * not throw: node:test skips the remaining after() hooks of a suite once one throws,
 * which left the server of a failing file running and the CI run hanging.
 */
export function useWatchdog(label: string, limitMs = DEFAULT_LIMIT_MS): Watchdog {
  const dog = new Watchdog(limitMs);
  before(() => dog.start());
  after(() => {
    const r = dog.stop();
    if (process.env['SEALPOST_WATCHDOG_QUIET'] === undefined) {
      process.stdout.write(
        `# watchdog ${label}: max task ${r.maxTaskMs} ms, max gap ${r.maxGapMs} ms, longest GC ${r.maxGcMs} ms, loop delay max ${r.delayMaxMs} ms p99 ${r.delayP99Ms} ms over ${r.watchedMs} ms\n`,
      );
    }
    try {
      dog.assertClean(label);
    } catch (e) {
      process.stderr.write(`# ${(e as Error).message}\n`);
      process.exitCode = 1;
    }
  });
  return dog;
}
