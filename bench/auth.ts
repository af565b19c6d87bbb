// Auth benchmark (issue 4): what one password login costs with the chosen argon2id
// parameters (src/crypto/password.ts, ARGON2_PARAMS), measured on the functions the
// login path calls, without the network.
//
// - one core: verifyPassword awaited one after another for --seconds: logins/s and
//   p50/p99 ms per verification (a wrong password costs exactly as much as a right one);
// - --concurrency (default 4) verifications in flight on libuv's threadpool (where
//   @node-rs/argon2 runs; UV_THREADPOOL_SIZE is set to 4 unless given): logins/s;
// - hashPassword p50 (a password change or a rehash on login).
// Prints one JSON line on stdout; progress on stderr.
//
// node_modules/.bin/node bench/auth.ts [--seconds 5] [--concurrency 4]

process.env['UV_THREADPOOL_SIZE'] ??= '4';

import os from 'node:os';
import { parseArgs } from 'node:util';
import { ARGON2_PARAMS, hashPassword, verifyPassword } from '../src/crypto/password.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '4' } },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
if (!(seconds > 0) || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: bench/auth.ts [--seconds S>0] [--concurrency N>=1]\n');
  process.exit(2);
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

interface Run {
  readonly count: number;
  readonly seconds: number;
  readonly latencies: number[];
  readonly cpuMs: number;
}

/** `lanes` loops of verifications for `forSeconds`; each loop awaits its previous one. */
async function run(hash: string, lanes: number, forSeconds: number): Promise<Run> {
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + forSeconds * 1000;
  const lane = async (k: number) => {
    for (let i = 0; performance.now() < end; i++) {
      const s = performance.now();
      if (await verifyPassword(hash, `wrong password ${k}-${i}`)) throw new Error('a wrong password matched');
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, k) => lane(k)));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    count: latencies.length,
    seconds: elapsed,
    latencies: latencies.sort((a, b) => a - b),
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

async function main(): Promise<void> {
  const password = 'correct horse battery staple';
  const hashTimes: number[] = [];
  let hash = '';
  for (let i = 0; i < 10; i++) {
    const s = performance.now();
    hash = await hashPassword(password);
    hashTimes.push(performance.now() - s);
  }
  if (!(await verifyPassword(hash, password))) throw new Error('the right password did not match');
  hashTimes.sort((a, b) => a - b);

  process.stderr.write('warming up\n');
  await run(hash, 1, 0.5);
  process.stderr.write(`one core: ${seconds} s\n`);
  const one = await run(hash, 1, seconds);
  process.stderr.write(`${concurrency} at a time: ${seconds} s\n`);
  const many = await run(hash, concurrency, seconds);

  const result = {
    bench: 'auth',
    params: { m_kib: ARGON2_PARAMS.memoryCost, t: ARGON2_PARAMS.timeCost, p: ARGON2_PARAMS.parallelism },
    logins_per_s_one_core: round(one.count / one.seconds, 1),
    ms_per_login_p50: round(quantile(one.latencies, 0.5)),
    ms_per_login_p99: round(quantile(one.latencies, 0.99)),
    cpu_ms_per_login: round(one.cpuMs / one.count),
    [`logins_per_s_${concurrency}`]: round(many.count / many.seconds, 1),
    [`ms_per_login_p50_${concurrency}`]: round(quantile(many.latencies, 0.5)),
    ms_per_hash_p50: round(quantile(hashTimes, 0.5)),
    logins: one.count + many.count,
    seconds,
    concurrency,
    uv_threadpool_size: Number(process.env['UV_THREADPOOL_SIZE']),
    cpus: os.availableParallelism(),
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
