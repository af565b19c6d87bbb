// Fuzz worker: runs one target in its own thread for the time it is given, so the
// runner (run.ts) can watch for a hang and terminate it. First every committed
// corpus file goes through the property, then fast-check generates inputs in
// batches (a fresh seed per batch) until the time is up or a property fails; a
// failure is shrunk by fast-check and reported with the seed and path to replay it.
// Every input is timed: one over the target's maxMillis (the smallest of three tries,
// so a GC pause does not count) is a failure.
// The heartbeat (a shared Int32 bumped per input) tells the runner it is alive.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { type AnyTarget, SlowInputError } from './target.ts';
import { TARGETS } from './targets/index.ts';

export interface WorkerJob {
  readonly target: string;
  readonly seconds: number;
  readonly seed: number;
  readonly corpusDir: string;
  /** `seed:path` of a reported failure: replay that one input only. */
  readonly replay: string | null;
  readonly heartbeat: SharedArrayBuffer;
}

export interface WorkerResult {
  readonly target: string;
  readonly ok: boolean;
  readonly runs: number;
  readonly corpusFiles: number;
  readonly seconds: number;
  readonly runsPerSecond: number;
  readonly slowestMillis: number;
  readonly seed: number;
  readonly failure: string | null;
  /** The shrunk counterexample, pretty-printed (fc.stringify). */
  readonly counterexample: string | null;
  readonly replay: string | null;
}

const job = workerData as WorkerJob;
const beat = new Int32Array(job.heartbeat);
const target: AnyTarget | undefined = TARGETS.find((t) => t.name === job.target);
let slowest = 0;

async function timed(t: AnyTarget, input: unknown): Promise<void> {
  Atomics.add(beat, 0, 1);
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3; attempt++) {
    const start = performance.now();
    const r = t.check(input);
    if (r instanceof Promise) await r;
    const ms = performance.now() - start;
    best = Math.min(best, ms);
    if (best <= t.limits.maxMillis) break;
  }
  slowest = Math.max(slowest, best);
  if (best > t.limits.maxMillis) throw new SlowInputError(best, t.limits.maxMillis);
}

function corpus(t: AnyTarget): { file: string; input: unknown }[] {
  const dir = path.join(job.corpusDir, t.name);
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return files.map((f) => ({ file: f, input: t.fromCorpus(readFileSync(path.join(dir, f)), f) }));
}

async function main(t: AnyTarget): Promise<WorkerResult> {
  const started = performance.now();
  const property = fc.asyncProperty(t.arbitrary, (input) => timed(t, input));
  const result = (ok: boolean, runs: number, extra: Partial<WorkerResult> = {}): WorkerResult => {
    const seconds = (performance.now() - started) / 1000;
    return {
      target: t.name,
      ok,
      runs,
      corpusFiles: seeds.length,
      seconds,
      runsPerSecond: Math.round(runs / Math.max(seconds, 0.001)),
      slowestMillis: Math.round(slowest * 10) / 10,
      seed: job.seed,
      failure: null,
      counterexample: null,
      replay: null,
      ...extra,
    };
  };
  const seeds = corpus(t);
  if (job.replay !== null) {
    const [seed, replayPath] = job.replay.split(':');
    const d = await fc.check(property, { seed: Number(seed), path: replayPath ?? '', numRuns: 1 });
    if (!d.failed) return result(true, 1);
    return result(false, 1, {
      failure: fc.defaultReportMessage(d) ?? 'failed',
      counterexample: fc.stringify(d.counterexample?.[0]),
    });
  }
  for (const s of seeds) {
    try {
      await timed(t, s.input);
    } catch (e) {
      return result(false, 0, {
        failure: `corpus file ${s.file}: ${e instanceof Error ? e.stack : String(e)}`,
        counterexample: fc.stringify(s.input),
      });
    }
  }
  const deadline = started + job.seconds * 1000;
  let runs = seeds.length;
  let batch = 20;
  for (let i = 0; performance.now() < deadline; i++) {
    const seed = (job.seed + i) | 0;
    const t0 = performance.now();
    const d = await fc.check(property, { seed, numRuns: batch });
    runs += d.numRuns;
    if (d.failed) {
      const why =
        d.errorInstance instanceof Error
          ? (d.errorInstance.stack ?? d.errorInstance.message)
          : String(d.errorInstance);
      return result(false, runs, {
        failure: `${why.split('\n').slice(0, 12).join('\n')}\n${fc.defaultReportMessage(d) ?? 'failed'}`,
        counterexample: fc.stringify(d.counterexample?.[0]),
        replay: `${d.seed}:${d.counterexample === null ? '' : d.counterexamplePath}`,
      });
    }
    const perRun = (performance.now() - t0) / Math.max(1, d.numRuns);
    const left = deadline - performance.now();
    batch = Math.max(5, Math.min(5000, Math.floor(Math.min(500, left) / Math.max(perRun, 0.001))));
  }
  return result(true, runs);
}

if (target === undefined) throw new Error(`no fuzz target named ${job.target}`);
parentPort?.postMessage(await main(target));
