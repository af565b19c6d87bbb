// Fuzz worker: runs one target in its own thread for the time it is given, so the
// runner (run.ts) can watch for a hang and terminate it. First every committed
// corpus file goes through the property, then fast-check generates inputs in
// batches (a fresh seed per batch) until the time is up or a property fails; a
// failure is shrunk by fast-check and reported with the seed and path to replay it.
// Every input is timed in CPU time of this thread (a loaded machine does not count):
// one over the target's maxMillis (the smallest of three tries, so a GC pause does not
// count either) is a failure.
// The heartbeat (a shared Int32 bumped per input) tells the runner it is alive.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { coverageGuided } from './coverage.ts';
import { type AnyTarget, cpuMillis, SlowInputError } from './target.ts';
import { TARGETS } from './targets/index.ts';

export interface WorkerJob {
  readonly target: string;
  readonly seconds: number;
  readonly seed: number;
  readonly corpusDir: string;
  /** `seed:path` of a reported failure: replay that one input only. */
  readonly replay: string | null;
  readonly heartbeat: SharedArrayBuffer;
  /** Coverage-guided byte mutation (coverage.ts) instead of fast-check generation. */
  readonly coverage: boolean;
  /** With `coverage`: write inputs that reached new coverage to corpus/<target>/cov-<sha1>. */
  readonly growCorpus: boolean;
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
  /** Coverage mode: (block, hit-count bucket) pairs of src/ reached after the corpus and at the end. */
  readonly coverage?: { readonly atStart: number; readonly atEnd: number; readonly newInputs: number };
}

const job = workerData as WorkerJob;
const beat = new Int32Array(job.heartbeat);
const target: AnyTarget | undefined = TARGETS.find((t) => t.name === job.target);
let slowest = 0;

async function timed(t: AnyTarget, input: unknown): Promise<void> {
  Atomics.add(beat, 0, 1);
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3; attempt++) {
    const start = cpuMillis();
    const r = t.check(input);
    if (r instanceof Promise) await r;
    const ms = cpuMillis() - start;
    best = Math.min(best, ms);
    if (best <= t.limits.maxMillis) break;
  }
  slowest = Math.max(slowest, best);
  if (best > t.limits.maxMillis) throw new SlowInputError(best, t.limits.maxMillis);
}

function corpus(t: AnyTarget): { file: string; bytes: Buffer; input: unknown }[] {
  const dir = path.join(job.corpusDir, t.name);
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return files.map((f) => {
    const bytes = readFileSync(path.join(dir, f));
    return { file: f, bytes, input: t.fromCorpus(bytes, f) };
  });
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
  if (job.coverage) {
    const timedTarget: AnyTarget = { ...t, check: (input: unknown) => timed(t, input) };
    const c = await coverageGuided(
      timedTarget,
      seeds.map((s) => s.bytes),
      deadline,
      job.seed,
      () => {},
    );
    if (job.growCorpus) {
      for (const b of c.newInputs) {
        const name = `cov-${createHash('sha1').update(b).digest('hex').slice(0, 12)}`;
        writeFileSync(path.join(job.corpusDir, t.name, name), b);
      }
    }
    const coverage = { atStart: c.featuresAtStart, atEnd: c.features, newInputs: c.newInputs.length };
    if (c.failure === null) return result(true, c.runs, { coverage });
    const e = c.failure.error;
    return result(false, c.runs, {
      coverage,
      failure: e instanceof Error ? (e.stack ?? e.message) : String(e),
      counterexample: fc.stringify(c.failure.input),
    });
  }
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
