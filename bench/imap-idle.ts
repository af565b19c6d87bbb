// Benchmark: what an idle IMAP connection costs the server in memory. Measures the resident
// memory of the server's processes, opens --connections sessions (TLS, LOGIN, SELECT INBOX,
// IDLE — RFC 2177 / RFC 9051 §6.3.13), waits until the memory settles, measures again, and
// prints ONE JSON line on stdout (progress on stderr):
//   {"bench":"imap-idle","label":..,"connections":N,"rss_before_mb":..,"rss_after_mb":..,
//    "bytes_per_connection":..,"pss_...":..}
// The process set is --pid: pids (comma-separated) or a `pgrep -f` pattern, always with all
// their descendants, looked up afresh at each reading (Dovecot forks a process or two per
// connection). RSS summed over processes counts shared pages (libraries, copy-on-write
// memory, mapped index files) once per process; PSS (/proc/PID/smaps_rollup) shares them
// out, so the pss_* fields are the fairer figure for a process-per-connection server.
// Needs a file-descriptor limit (ulimit -n) above N; run as root to read other users' PSS.
//
//   node bench/imap-idle.ts --port N --pid PIDS|PATTERN [--host 127.0.0.1] [--no-tls]
//     [--user U] [--pass P] [--connections 1000] [--parallel 50] [--settle-seconds 20]
//     [--label NAME] [--warmup-rounds 1]
// Warm-up: --warmup-rounds times, the sessions are opened and closed again before the first
// reading, so the memory a server keeps after its first logins (allocator arenas grown by
// argon2id's 19 MiB per hash, caches, lazily loaded code) is in the baseline and the figure
// is what each further idle session costs.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ImapClient, type ImapConnectOptions } from './imap-client.ts';
import { fdLimit, type MemoryReading, readMemory } from './imap-proc.ts';

const log = (line: string) => process.stderr.write(`imap-idle: ${line}\n`);

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    tls: { type: 'boolean', default: true },
    user: { type: 'string', default: 'bench@bench.test' },
    pass: { type: 'string', default: 'bench-password-1' },
    connections: { type: 'string', default: '1000' },
    parallel: { type: 'string', default: '50' },
    'settle-seconds': { type: 'string', default: '20' },
    pid: { type: 'string' },
    label: { type: 'string', default: 'server' },
    'warmup-rounds': { type: 'string', default: '1' },
  },
});

function intArg(name: keyof typeof args, min: number): number {
  const n = Number(args[name]);
  if (!Number.isSafeInteger(n) || n < min) {
    log(`--${name} must be a whole number >= ${min}`);
    process.exit(2);
  }
  return n;
}

if (args.port === undefined || args.pid === undefined) {
  log('--port and --pid are required (the server under test must be running)');
  process.exit(2);
}
const pidSpec = args.pid;
const connect: ImapConnectOptions = { host: args.host, port: intArg('port', 1), tls: args.tls };
const connections = intArg('connections', 1);
const parallel = intArg('parallel', 1);
const settleSeconds = intArg('settle-seconds', 2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));

/** Reads until two readings 1 s apart differ by less than 1% (or the time is up). */
async function settled(maxSeconds: number): Promise<MemoryReading> {
  const deadline = performance.now() + maxSeconds * 1000;
  let last = readMemory(pidSpec);
  for (;;) {
    await sleep(1000);
    const now = readMemory(pidSpec);
    const stable = Math.abs(now.rss - last.rss) < 0.01 * Math.max(now.rss, 1);
    if (stable || performance.now() > deadline) return now;
    last = now;
  }
}

interface Opened {
  readonly sessions: ImapClient[];
  readonly failed: number;
  readonly errors: string[];
}

/** Opens `n` idle sessions, `parallel` at a time. */
async function openIdle(n: number): Promise<Opened> {
  const sessions: ImapClient[] = [];
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(parallel, n) }, async () => {
      while (next < n) {
        next++;
        let c: ImapClient | null = null;
        try {
          c = await ImapClient.connect({ ...connect, timeoutMs: 120_000 });
          await c.login(args.user, args.pass);
          await c.ok('SELECT INBOX');
          await c.idle();
          sessions.push(c);
          if (sessions.length % 200 === 0) {
            log(
              `${sessions.length} idle (${(sessions.length / ((performance.now() - started) / 1000)).toFixed(0)}/s)`,
            );
          }
        } catch (e) {
          c?.close();
          failed++;
          if (errors.length < 5) errors.push(e instanceof Error ? e.message : String(e));
        }
      }
    }),
  );
  return { sessions, failed, errors };
}

async function closeAll(sessions: readonly ImapClient[]): Promise<void> {
  for (let i = 0; i < sessions.length; i += 100) {
    await Promise.all(
      sessions.slice(i, i + 100).map(async (c) => {
        c.done();
        await sleep(10);
        c.close();
      }),
    );
  }
}

async function main(): Promise<number> {
  const limit = fdLimit();
  if (limit !== null && limit < connections + 64) {
    log(
      `the file-descriptor limit is ${limit}, too low for ${connections} connections: raise it (ulimit -n)`,
    );
    return 2;
  }
  for (let round = intArg('warmup-rounds', 0); round > 0; round--) {
    log(`warm-up: opening and closing ${connections} sessions`);
    const warm = await openIdle(connections);
    await closeAll(warm.sessions);
    await sleep(2000);
  }
  const before = await settled(5);
  if (before.processes === 0) {
    log(`no process matches --pid ${pidSpec}`);
    return 2;
  }
  log(`before: ${before.processes} processes, RSS ${mb(before.rss)} MB, PSS ${mb(before.pss)} MB`);
  const t0 = performance.now();
  const opened = await openIdle(connections);
  const connectSeconds = (performance.now() - t0) / 1000;
  log(
    `${opened.sessions.length} idle connections in ${connectSeconds.toFixed(1)} s, ${opened.failed} failed`,
  );
  for (const e of opened.errors) log(`  failure: ${e}`);
  const after = await settled(settleSeconds);
  const n = Math.max(1, opened.sessions.length);
  log(`after: ${after.processes} processes, RSS ${mb(after.rss)} MB, PSS ${mb(after.pss)} MB`);
  await closeAll(opened.sessions);
  const line = {
    bench: 'imap-idle',
    label: args.label,
    connections,
    opened: opened.sessions.length,
    failed: opened.failed,
    connect_seconds: Number(connectSeconds.toFixed(1)),
    processes_before: before.processes,
    processes_after: after.processes,
    rss_before_mb: mb(before.rss),
    rss_after_mb: mb(after.rss),
    bytes_per_connection: Math.round((after.rss - before.rss) / n),
    pss_before_mb: mb(before.pss),
    pss_after_mb: mb(after.pss),
    pss_bytes_per_connection: Math.round((after.pss - before.pss) / n),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return opened.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
