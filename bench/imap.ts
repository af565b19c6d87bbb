// Benchmark: IMAP operations per second against a running server (Dovecot through
// bench/peers/dovecot.sh, or Sealpost), printed as ONE JSON line on stdout; progress goes to
// stderr.
//
// 1. Prepare (not measured): INBOX is brought to exactly --messages messages — APPENDed over
//    --seed-connections sessions (2–20 KB messages in five MIME shapes, bench/imap-messages.ts)
//    or trimmed; skipped when the count is already right. Flags are then reset (every
//    fifth message unseen, the rest \Seen) so that every run starts alike.
// 2. --clients sessions log in and SELECT INBOX (not measured), run the mix for --warmup
//    seconds (not measured), then for --seconds: each loops over the fixed cycle of
//    bench/imap-workload.ts (SELECT, FETCH FLAGS of a window of 100, UID FETCH BODY.PEEK[] of
//    one message, SEARCH UNSEEN / SUBJECT, STORE ±\Seen, APPEND, UID EXPUNGE of an appended
//    message). Latency is per operation, from its first byte sent to its tagged OK.
// 3. APPEND alone: the same sessions append for --append-seconds (append_only_per_s).
// Whatever was appended is expunged again, so the mailbox ends with --messages messages.
//
//   node bench/imap.ts --port N [--host 127.0.0.1] [--no-tls] [--user U] [--pass P]
//     [--clients 10] [--messages 10000] [--seconds 30] [--warmup 3] [--append-seconds 10]
//     [--seed-connections 4] [--label NAME] [--max-seconds 900]
// Exit status 1 if any operation failed.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type ImapConnectOptions, ImapError } from './imap-client.ts';
import { seedMailbox } from './imap-seed.ts';
import { MIX, type OpName, percentile, Recorder, Worker } from './imap-workload.ts';
import { busyShare, machineCpu } from './lib/cpu.ts';

const log = (line: string) => process.stderr.write(`imap: ${line}\n`);

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    tls: { type: 'boolean', default: true },
    user: { type: 'string', default: 'bench@bench.test' },
    pass: { type: 'string', default: 'bench-password-1' },
    clients: { type: 'string', default: '10' },
    messages: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    'append-seconds': { type: 'string', default: '10' },
    'seed-connections': { type: 'string', default: '4' },
    label: { type: 'string', default: 'server' },
    'max-seconds': { type: 'string', default: '900' },
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

if (args.port === undefined) {
  log('--port is required (the server under test must be running)');
  process.exit(2);
}
const connect: ImapConnectOptions = { host: args.host, port: intArg('port', 1), tls: args.tls };
const clients = intArg('clients', 1);
const messages = intArg('messages', 100);
const seconds = intArg('seconds', 1);
const warmup = intArg('warmup', 0);
const appendSeconds = intArg('append-seconds', 0);
const seedConnections = intArg('seed-connections', 1);
const maxSeconds = intArg('max-seconds', 10);

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

function perOp(rec: Recorder): Record<string, { n: number; p50_ms: number; p99_ms: number }> {
  const out: Record<string, { n: number; p50_ms: number; p99_ms: number }> = {};
  for (const op of new Set<OpName>(MIX)) {
    const sorted = [...(rec.times.get(op) ?? [])].sort((a, b) => a - b);
    out[op] = {
      n: sorted.length,
      p50_ms: round(percentile(sorted, 50)),
      p99_ms: round(percentile(sorted, 99)),
    };
  }
  return out;
}

/** Runs `fn` on every worker until `ms` from now; resolves with the elapsed seconds. */
async function phase(
  workers: readonly Worker[],
  ms: number,
  fn: (w: Worker, deadline: number) => Promise<void>,
) {
  const started = performance.now();
  await Promise.all(workers.map((w) => fn(w, started + ms)));
  return (performance.now() - started) / 1000;
}

async function main(): Promise<number> {
  const auth = { user: args.user, pass: args.pass };
  const seed = await seedMailbox({ connect, ...auth, messages, connections: seedConnections, log });

  const workers = await Promise.all(
    Array.from({ length: clients }, (_, id) =>
      Worker.open({ connect, ...auth, messages, uids: seed.uids, id }),
    ),
  );
  log(`${clients} sessions open; warmup ${warmup} s`);
  const warm = new Recorder();
  await phase(workers, warmup * 1000, (w, deadline) => w.loop(deadline, warm));

  log(`mix for ${seconds} s`);
  const rec = new Recorder();
  const cpu0 = machineCpu();
  const elapsed = await phase(workers, seconds * 1000, (w, deadline) => w.loop(deadline, rec));
  const cpuBusy = busyShare(cpu0, machineCpu());
  await Promise.all(workers.map((w) => w.cleanup()));
  const ops = rec.ops;
  const appends = rec.times.get('append')?.length ?? 0;
  log(
    `mix: ${ops} operations in ${elapsed.toFixed(1)} s (${(ops / elapsed).toFixed(0)}/s), ${rec.errorCount} failed`,
  );

  let appendOnly: { perS: number; n: number; seconds: number } | null = null;
  const appendRec = new Recorder();
  if (appendSeconds > 0) {
    log(`APPEND only for ${appendSeconds} s`);
    const s = await phase(workers, appendSeconds * 1000, (w, deadline) => w.appendLoop(deadline, appendRec));
    const n = appendRec.times.get('append')?.length ?? 0;
    appendOnly = { perS: round(n / s, 1), n, seconds: round(s, 3) };
    log(`append only: ${n} in ${s.toFixed(1)} s (${appendOnly.perS}/s); expunging them`);
  }
  await Promise.all(workers.map((w) => w.finish()));
  const after = await seedMailbox({ connect, ...auth, messages, connections: 1, log, checkOnly: true });

  const appendTimes = [...(appendRec.times.get('append') ?? [])].sort((a, b) => a - b);
  const errors = rec.errorCount + appendRec.errorCount;
  for (const e of [...rec.errors, ...appendRec.errors]) log(`  failure: ${e}`);
  const line = {
    bench: 'imap',
    label: args.label,
    host: connect.host,
    port: connect.port,
    tls: connect.tls,
    clients,
    messages,
    seconds: round(elapsed, 3),
    ops,
    ops_per_s: round(ops / elapsed, 1),
    append_per_s: round(appends / elapsed, 1),
    append_only_per_s: appendOnly?.perS ?? null,
    append_only_seconds: appendOnly?.seconds ?? null,
    append_only_p50_ms: round(percentile(appendTimes, 50)),
    append_only_p99_ms: round(percentile(appendTimes, 99)),
    errors,
    cpu_busy: cpuBusy,
    seeded: seed.appended,
    seed_seconds: round(seed.seconds, 1),
    messages_after: after.count,
    per_op: perOp(rec),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (after.count !== messages)
    log(`MISMATCH: INBOX holds ${after.count} messages at the end, not ${messages}`);
  return errors === 0 && after.count === messages ? 0 : 1;
}

const guard = setTimeout(() => {
  log(`gave up after ${maxSeconds} s`);
  process.exit(1);
}, maxSeconds * 1000);
guard.unref();

main().then(
  (code) => {
    clearTimeout(guard);
    process.exitCode = code;
  },
  (e) => {
    log(e instanceof ImapError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1); // sessions may still be open
  },
);
