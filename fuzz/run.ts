// Fuzz runner (issue 6, item 3): runs every target of fuzz/targets for a bounded
// time, each in a worker thread, `--jobs` at a time.
//   node_modules/.bin/node fuzz/run.ts [--seconds N per target] [--target NAME[,NAME]]
//     [--seed S] [--jobs N] [--replay SEED:PATH (with one --target)] [--list]
//     [--coverage [--grow-corpus]]  (coverage-guided byte mutation, coverage.ts)
// Exit status 1 when any target fails: a property violated, an input slower than its
// limit, or a hang (no input finished for HANG_SECONDS: the worker is terminated).
// With RESULTS set, statistics and counterexamples go to $RESULTS/fuzz/.
// Invariants: the run is bounded (targets × seconds / jobs, plus shrinking of a
// failure); a failure prints the seed and path that replay it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { TARGETS } from './targets/index.ts';
import type { WorkerJob, WorkerResult } from './worker.ts';

const HANG_SECONDS = 20;
/** Characters of a failure report printed (a counterexample can be a megabyte). */
const MAX_SHOWN = 4000;
const here = path.dirname(new URL(import.meta.url).pathname);

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    jobs: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    replay: { type: 'string' },
    list: { type: 'boolean', default: false },
    coverage: { type: 'boolean', default: false },
    'grow-corpus': { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const t of TARGETS) console.log(`${t.name.padEnd(16)} ${t.description}`);
  process.exit(0);
}

const wanted = (values.target ?? []).flatMap((t) => t.split(','));
for (const w of wanted) {
  if (!TARGETS.some((t) => t.name === w)) {
    console.error(`fuzz: no target named ${w}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
}
const names = wanted.length > 0 ? wanted : TARGETS.map((t) => t.name);
const seconds = Number(values.seconds);
const seed = values.seed === undefined ? (Math.random() * 2 ** 31) | 0 : Number(values.seed);
const jobs = Math.max(1, Number(values.jobs));
if (values.replay !== undefined && names.length !== 1) {
  console.error('fuzz: --replay needs exactly one --target');
  process.exit(2);
}

function runOne(name: string): Promise<WorkerResult> {
  const heartbeat = new SharedArrayBuffer(4);
  const beat = new Int32Array(heartbeat);
  const job: WorkerJob = {
    target: name,
    seconds,
    seed,
    corpusDir: path.join(here, 'corpus'),
    replay: values.replay ?? null,
    heartbeat,
    coverage: values.coverage,
    growCorpus: values['grow-corpus'],
  };
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: job });
  const started = Date.now();
  return new Promise((resolve) => {
    let last = -1;
    let lastChange = Date.now();
    let done = false;
    const finish = (r: WorkerResult): void => {
      if (done) return;
      done = true;
      clearInterval(watch);
      resolve(r);
    };
    const failed = (failure: string): WorkerResult => ({
      target: name,
      ok: false,
      runs: Atomics.load(beat, 0),
      corpusFiles: 0,
      seconds: (Date.now() - started) / 1000,
      runsPerSecond: 0,
      slowestMillis: 0,
      seed,
      failure,
      counterexample: null,
      replay: null,
    });
    const watch = setInterval(() => {
      const now = Atomics.load(beat, 0);
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > HANG_SECONDS * 1000) {
        void worker.terminate();
        finish(
          failed(
            `hang: no input finished for ${HANG_SECONDS} s (input #${now}); rerun with --target ${name} --seed ${seed}`,
          ),
        );
      }
    }, 1000);
    worker.on('message', (r: WorkerResult) => finish(r));
    worker.on('error', (e) => finish(failed(`worker crashed: ${e.stack ?? e.message}`)));
    worker.on('exit', (code) => finish(failed(`worker exited with code ${code} before reporting`)));
  });
}

async function main(): Promise<number> {
  console.log(`fuzz: ${names.length} target(s), ${seconds} s each, ${jobs} at a time, seed ${seed}`);
  const queue = [...names];
  const results: WorkerResult[] = [];
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const r = await runOne(name);
        results.push(r);
        const status = r.ok ? 'ok  ' : 'FAIL';
        console.log(
          `fuzz: ${status} ${r.target.padEnd(16)} ${String(r.runs).padStart(8)} runs ${String(r.runsPerSecond).padStart(6)}/s` +
            `  corpus ${r.corpusFiles}  slowest ${r.slowestMillis} ms` +
            (r.coverage
              ? `  coverage ${r.coverage.atStart} -> ${r.coverage.atEnd} (+${r.coverage.newInputs} inputs)`
              : ''),
        );
        if (!r.ok) {
          const text = r.failure ?? '';
          const shown =
            text.length > MAX_SHOWN
              ? `${text.slice(0, MAX_SHOWN)}… (${text.length} characters; all in $RESULTS/fuzz/${r.target}.json)`
              : text;
          console.log(`fuzz: ${r.target} failed:\n${shown}`);
          if (r.replay !== null)
            console.log(
              `fuzz: replay with: node_modules/.bin/node fuzz/run.ts --target ${r.target} --replay ${r.replay}`,
            );
        }
      }
    }),
  );
  results.sort((a, b) => names.indexOf(a.target) - names.indexOf(b.target));
  const dir = process.env['RESULTS'] ? path.join(process.env['RESULTS'], 'fuzz') : null;
  if (dir !== null) {
    mkdirSync(dir, { recursive: true });
    for (const r of results)
      writeFileSync(path.join(dir, `${r.target}.json`), `${JSON.stringify(r, null, 2)}\n`);
    const summary = results.map((r) => ({
      target: r.target,
      ok: r.ok,
      runs: r.runs,
      runsPerSecond: r.runsPerSecond,
      slowestMillis: r.slowestMillis,
    }));
    writeFileSync(
      path.join(dir, 'summary.json'),
      `${JSON.stringify({ seed, seconds, results: summary }, null, 2)}\n`,
    );
    console.log(`fuzz: statistics in ${dir}`);
  }
  const failed = results.filter((r) => !r.ok);
  console.log(
    failed.length === 0
      ? 'fuzz: all targets passed'
      : `fuzz: ${failed.length} target(s) failed: ${failed.map((r) => r.target).join(', ')}`,
  );
  return failed.length === 0 ? 0 : 1;
}

process.exit(await main());
