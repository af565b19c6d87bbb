// Coverage-guided mode of the fuzz worker (`run.ts --coverage`): a small mutational
// fuzzer in the style of libFuzzer/AFL, with V8's own block coverage as the signal,
// because no native coverage runtime can load here (see README.md: Jazzer.js 4 needs
// glibc 2.38; AFL++ cannot see JavaScript coverage without a native addon).
// Inputs are bytes (each target's `fromCorpus` turns bytes into its input). A pool
// starts as the corpus; each step mutates a pool entry (byte edits, or a splice with
// another entry), runs the property, and reads precise block coverage through the
// inspector (`Profiler.takePreciseCoverage`, which also resets the counters). An input
// that reaches a new (block, hit-count bucket) pair in src/ joins the pool.
// Invariants: deterministic for a seed apart from timing; only coverage of src/ counts
// (the property's own code in fuzz/ does not); failures are reported, not shrunk.

import { createHash } from 'node:crypto';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import type { AnyTarget } from './target.ts';
import { applyEdits } from './targets/mutate.ts';

export interface CoverageResult {
  readonly runs: number;
  readonly featuresAtStart: number;
  readonly features: number;
  readonly pool: number;
  readonly newInputs: readonly Buffer[];
  readonly failure: { readonly input: Buffer; readonly error: unknown } | null;
}

interface ScriptCoverage {
  readonly url: string;
  readonly functions: readonly {
    readonly ranges: readonly { startOffset: number; endOffset: number; count: number }[];
  }[];
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** AFL's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
function bucket(n: number): number {
  return n < 4 ? n : n < 8 ? 4 : n < 16 ? 5 : n < 32 ? 6 : n < 128 ? 7 : 8;
}

const INTERESTING = [0x00, 0x0a, 0x0d, 0x20, 0x22, 0x28, 0x29, 0x2d, 0x3b, 0x3d, 0x5c, 0x7b, 0x7d, 0xff];

function mutateBytes(rand: () => number, input: Buffer, other: Buffer): Buffer {
  const n = 1 + Math.floor(rand() * 4);
  const edits: Parameters<typeof applyEdits>[1][number][] = [];
  const at = (): number => Math.floor(rand() * 1e9);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.35) {
      const byte =
        rand() < 0.5 ? INTERESTING[Math.floor(rand() * INTERESTING.length)]! : Math.floor(rand() * 256);
      edits.push({ op: 'flip', at: at(), byte });
    } else if (r < 0.55) {
      const from = Math.floor(rand() * Math.max(1, other.length));
      edits.push({ op: 'insert', at: at(), bytes: other.subarray(from, from + 1 + Math.floor(rand() * 32)) });
    } else if (r < 0.75) edits.push({ op: 'delete', at: at(), n: 1 + Math.floor(rand() * 16) });
    else
      edits.push({
        op: 'repeat',
        at: at(),
        n: 1 + Math.floor(rand() * 16),
        times: 1 + Math.floor(rand() * 8),
      });
  }
  return applyEdits(input, edits);
}

export async function coverageGuided(
  t: AnyTarget,
  seeds: readonly Buffer[],
  deadline: number,
  seed: number,
  onInput: () => void,
): Promise<CoverageResult> {
  const session = new Session();
  session.connect();
  let taken: ScriptCoverage[] = [];
  const post = (method: string, params: object = {}): void =>
    session.post(method, params, (err, res) => {
      if (err) throw err;
      if (res && 'result' in res) taken = (res as { result: ScriptCoverage[] }).result;
    });
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const seen = new Set<string>();
  /** Run one input; true when it reached coverage not seen before. */
  const run = async (bytes: Buffer): Promise<boolean> => {
    onInput();
    const r = t.check(t.fromCorpus(bytes, 'coverage'));
    if (r instanceof Promise) await r;
    post('Profiler.takePreciseCoverage');
    let fresh = false;
    for (const script of taken) {
      if (!script.url.includes('/src/')) continue;
      for (const f of script.functions) {
        for (const range of f.ranges) {
          if (range.count === 0) continue;
          const key = `${script.url}:${range.startOffset}:${range.endOffset}:${bucket(range.count)}`;
          if (!seen.has(key)) {
            seen.add(key);
            fresh = true;
          }
        }
      }
    }
    return fresh;
  };
  post('Profiler.takePreciseCoverage'); // reset the counters after loading
  const pool: Buffer[] = [];
  const newInputs: Buffer[] = [];
  const known = new Set<string>();
  const hash = (b: Buffer): string => createHash('sha1').update(b).digest('hex');
  let runs = 0;
  try {
    for (const s of seeds.length > 0 ? seeds : [Buffer.alloc(0)]) {
      runs++;
      await run(s);
      pool.push(s);
      known.add(hash(s));
    }
  } catch (error) {
    return {
      runs,
      featuresAtStart: seen.size,
      features: seen.size,
      pool: pool.length,
      newInputs,
      failure: { input: pool.at(-1) ?? Buffer.alloc(0), error },
    };
  }
  const featuresAtStart = seen.size;
  const rand = prng(seed);
  while (performance.now() < deadline) {
    const base = pool[Math.floor(rand() * pool.length)]!;
    const other = pool[Math.floor(rand() * pool.length)]!;
    const input = mutateBytes(rand, base, other).subarray(0, 1 << 16);
    runs++;
    try {
      if (await run(input)) {
        const h = hash(input);
        if (!known.has(h)) {
          known.add(h);
          pool.push(input);
          newInputs.push(input);
        }
      }
    } catch (error) {
      session.disconnect();
      return {
        runs,
        featuresAtStart,
        features: seen.size,
        pool: pool.length,
        newInputs,
        failure: { input, error },
      };
    }
  }
  session.disconnect();
  return { runs, featuresAtStart, features: seen.size, pool: pool.length, newInputs, failure: null };
}
