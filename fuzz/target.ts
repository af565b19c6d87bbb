// The shape of a fuzz target (issue 6, item 3) and the helpers targets share.
// A target is a fast-check arbitrary plus a property that throws on a violation
// (node:assert), a way to turn a committed corpus file into an input of the same
// type, and the limits the runner enforces around every input (CPU time).
// Invariants: `check` is deterministic for a given input (no hidden randomness
// beyond what the input carries), so fast-check can shrink a failure; it asserts
// properties of the result, never only that nothing was thrown.

import type fc from 'fast-check';

export interface FuzzLimits {
  /**
   * Time one input may take (the "never hangs" property); over it is a failure. Measured
   * as CPU time of the worker thread, so a loaded CI machine does not fail the gate; a
   * wall-clock hang is caught by the runner's heartbeat watchdog.
   */
  readonly maxMillis: number;
}

export interface FuzzTarget<T> {
  readonly name: string;
  /** One line: what is fuzzed and which properties are asserted. */
  readonly description: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** A committed seed file (fuzz/corpus/<name>/*) as an input. */
  readonly fromCorpus: (bytes: Buffer, file: string) => T;
  /** Throws (AssertionError or the offending error) when a property is violated. */
  readonly check: (input: T) => void | Promise<void>;
  readonly limits: FuzzLimits;
}

/** A target with its input type erased, for the runner's list. */
// biome-ignore lint/suspicious/noExplicitAny: targets differ in input type
export type AnyTarget = FuzzTarget<any>;

export const DEFAULT_LIMITS: FuzzLimits = { maxMillis: 100 };

/** Thrown by the runner's wrapper when one input took longer than the target allows. */
export class SlowInputError extends Error {
  constructor(millis: number, limit: number) {
    super(`input took ${millis.toFixed(1)} ms of CPU time (limit ${limit} ms): the parser must not hang`);
    this.name = 'SlowInputError';
  }
}

/** CPU time (user + system) of the calling thread, in ms: what an input costs, whatever else runs. */
export function cpuMillis(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

/** Call `f`; if it throws, the error must be an instance of one of `allowed`, else it is rethrown. */
export function onlyThrows<R>(
  f: () => R,
  allowed: readonly (abstract new (...a: never[]) => Error)[],
): R | Error {
  try {
    return f();
  } catch (e) {
    if (allowed.some((k) => e instanceof k)) return e as Error;
    throw e;
  }
}

/**
 * Run `f` and return its result; if it took more than `limitMs` of CPU time, run it
 * twice more and fail when even the fastest try was over (a GC pause is not a hang).
 * For targets whose property does slow checking around a fast parser: only the parser is timed.
 */
export function withinTime<R>(limitMs: number, f: () => R): R {
  let best = Number.POSITIVE_INFINITY;
  let result: R | undefined;
  for (let attempt = 0; attempt < 3 && best > limitMs; attempt++) {
    const start = cpuMillis();
    result = f();
    best = Math.min(best, cpuMillis() - start);
  }
  if (best > limitMs) throw new SlowInputError(best, limitMs);
  return result as R;
}
