// Benchmark: SMTP ingest. DKIM-signed messages of --size bytes over --concurrency connections,
// a new connection per message, into a running server; prints messages/s and latency as ONE
// JSON line on stdout (everything else goes to stderr).
//
// Without --port it runs Sealpost itself: a temporary installation (sealpost init, domain
// add bench.test, user add rcpt@bench.test), `sealpost start` in a child process, and a local
// DNS server publishing SPF, DKIM, DMARC (p=reject) and reverse DNS for sender.bench.test, so
// every message gets full SPF+DKIM+DMARC verification, encryption at rest and an fsync'd
// commit before its 250. Two control messages first prove verification is live (a DKIM-only
// pass is accepted, a tampered one is refused by DMARC). Afterwards the store is opened and
// the messages stored must equal the messages acknowledged ("stored" in the JSON).
//
// SEALPOST_* variables in the environment reach the server (e.g. SEALPOST_LOG_LEVEL=warn, or
// SEALPOST_MX_VERIFY=false to see what verification costs); the JSON then lists them.
//
// With --port it loads an existing server (the Postfix peer: bench/peers/postfix.sh); with
// --maildir a message counts once its file is in DIR/new, and msgs_per_s is up to delivery.
//
//   node bench/smtp-ingest.ts [--host 127.0.0.1 --port N [--target NAME] [--maildir DIR]]
//     [--count 2000] [--concurrency 20] [--size 10240] [--warmup 100]
//     [--reuse-connections] [--profile DIR] [--server-node-flags="FLAGS"] [--keep]
//     [--max-seconds 900] [--max-per-address 50]
//
// --max-per-address sets Sealpost's mx.max_connections_per_address (50 by default, as
// Postfix's smtpd_client_connection_count_limit): at 20, with 20 clients that reconnect
// for every message, the server still counts a closed connection for a moment and
// refuses some new ones with 421 (see bench/README.md).

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type DnsTestServer, startDnsServer } from '../test/support/dns-server.ts';
import { busyShare, machineCpu, processCpuSeconds } from './lib/cpu.ts';
import {
  buildMessages,
  CLIENT_NAME,
  generateSigningKey,
  RECIPIENT,
  SENDER,
  SENDER_DOMAIN,
  type SigningKey,
  senderZone,
} from './lib/messages.ts';
import { type RunningSealpost, startSealpost } from './lib/sealpost-server.ts';
import { encodeData, runSmtpLoad, type SmtpLoadOptions, type SmtpLoadResult } from './lib/smtp-load.ts';

const log = (line: string) => process.stderr.write(`smtp-ingest: ${line}\n`);

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    target: { type: 'string' },
    maildir: { type: 'string' },
    count: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '20' },
    size: { type: 'string', default: '10240' },
    warmup: { type: 'string', default: '100' },
    'reuse-connections': { type: 'boolean', default: false },
    profile: { type: 'string' },
    'server-node-flags': { type: 'string' },
    keep: { type: 'boolean', default: false },
    'max-seconds': { type: 'string', default: '900' },
    'max-per-address': { type: 'string', default: '50' },
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

const count = intArg('count', 1);
const concurrency = intArg('concurrency', 1);
const size = intArg('size', 512);
const warmup = intArg('warmup', 0);
const maxSeconds = intArg('max-seconds', 10);
const maxPerAddress = intArg('max-per-address', 1);
const external = args.port !== undefined;
const target = args.target ?? (external ? 'external' : 'sealpost');

function maildirCount(dir: string): number {
  return readdirSync(path.join(dir, 'new')).length;
}

/** Polls (bounded) until DIR/new holds `want` files; resolves with the count reached. */
async function waitForMaildir(dir: string, want: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = maildirCount(dir);
    if (n >= want || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 10));
  }
}

function loadOptions(port: number, messages: readonly Buffer[], n: number): SmtpLoadOptions {
  return {
    host: args.host,
    port,
    count: n,
    concurrency,
    message: (i) => messages[i]!,
    encoded: true,
    from: SENDER,
    to: RECIPIENT,
    helo: CLIENT_NAME,
    newConnectionPerMessage: !args['reuse-connections'],
  };
}

/** Two single messages that only pass or fail if SPF/DKIM/DMARC really run. */
async function controls(port: number, key: SigningKey): Promise<number> {
  const other = 'bounces@other.bench.test'; // no SPF record: only DKIM can align
  const [signed] = (await buildMessages(key, 1, size, 99_000_000)).messages;
  const dkimOnly = await runSmtpLoad({ ...loadOptions(port, [encodeData(signed!)], 1), from: other });
  if (dkimOnly.sent !== 1)
    throw new Error(`control: a DKIM-aligned message was refused: ${dkimOnly.errors[0]}`);
  const tampered = Buffer.from(signed!.toString('latin1').replace('quarterly', 'Quarterly'), 'latin1');
  const spoof = await runSmtpLoad({ ...loadOptions(port, [encodeData(tampered)], 1), from: other });
  if (spoof.failed !== 1 || !/\b5\d\d\b/.test(spoof.errors[0] ?? '')) {
    throw new Error('control: a message failing DMARC (p=reject) was accepted: verification is not running');
  }
  log(`controls: DKIM-only pass accepted; DMARC failure refused (${spoof.errors[0]})`);
  return 1;
}

interface Outcome {
  readonly result: SmtpLoadResult;
  /** Share of the machine's CPU (all cores) busy during the load. */
  readonly cpuBusy: number | null;
  /** CPU milliseconds per acknowledged message: the server process's and this client's. */
  readonly serverCpuMs: number | null;
  readonly clientCpuMs: number;
  /** Seconds from the start of the load until the last message was in the Maildir. */
  readonly deliveredSeconds: number | null;
  readonly delivered: number | null;
}

/** One load; with --maildir, also waits until what was acknowledged is delivered. */
async function measure(
  port: number,
  messages: readonly Buffer[],
  n: number,
  serverPid: number | null,
): Promise<Outcome> {
  const maildir = args.maildir;
  const before = maildir === undefined ? 0 : maildirCount(maildir);
  const cpu0 = {
    machine: machineCpu(),
    server: serverPid === null ? null : processCpuSeconds(serverPid),
    client: process.cpuUsage(),
  };
  const started = performance.now();
  const result = await runSmtpLoad(loadOptions(port, messages, n));
  let deliveredSeconds: number | null = null;
  let delivered: number | null = null;
  if (maildir !== undefined) {
    delivered = (await waitForMaildir(maildir, before + result.sent, 300_000)) - before;
    deliveredSeconds = (performance.now() - started) / 1000;
  }
  const server = serverPid === null ? null : processCpuSeconds(serverPid);
  const client = process.cpuUsage(cpu0.client);
  const per = Math.max(1, result.sent);
  return {
    result,
    cpuBusy: busyShare(cpu0.machine, machineCpu()),
    serverCpuMs:
      server === null || cpu0.server === null
        ? null
        : Number((((server - cpu0.server) * 1000) / per).toFixed(2)),
    clientCpuMs: Number(((client.user + client.system) / 1000 / per).toFixed(2)),
    deliveredSeconds,
    delivered,
  };
}

function report(outcome: Outcome, stored: Record<string, number> | null, acknowledged: number): void {
  const { result, deliveredSeconds, delivered } = outcome;
  const line: Record<string, unknown> = {
    bench: 'smtp-ingest',
    target,
    tool: 'smtp-load',
    messages: count,
    concurrency,
    size,
    msgs_per_s:
      deliveredSeconds === null
        ? result.msgsPerSec
        : Number(((delivered ?? 0) / deliveredSeconds).toFixed(1)),
    p50_ms: result.p50Ms,
    p99_ms: result.p99Ms,
    failed: result.failed,
    seconds: deliveredSeconds === null ? result.seconds : Number(deliveredSeconds.toFixed(3)),
    new_connection_per_message: !args['reuse-connections'],
    cpu_busy: outcome.cpuBusy,
  };
  if (deliveredSeconds !== null) {
    line['smtp_msgs_per_s'] = result.msgsPerSec;
    line['delivered'] = delivered;
  }
  if (stored !== null) {
    line['max_connections_per_address'] = maxPerAddress;
    // a run with SEALPOST_* settings from the environment is not the default configuration
    const overrides = Object.entries(process.env).filter(([k]) => k.startsWith('SEALPOST_'));
    if (overrides.length > 0) line['server_env'] = Object.fromEntries(overrides);
    line['stored'] = Object.values(stored).reduce((a, b) => a + b, 0);
    line['acknowledged'] = acknowledged;
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function logDnsQueries(queries: readonly { name: string; type: string }[]): void {
  const seen = new Map<string, number>();
  for (const q of queries) seen.set(`${q.type} ${q.name}`, (seen.get(`${q.type} ${q.name}`) ?? 0) + 1);
  log(`DNS queries the server made: ${[...seen].map(([q, n]) => `${q} x${n}`).join(', ')}`);
}

async function main(): Promise<number> {
  const key = generateSigningKey();
  let server: RunningSealpost | null = null;
  let dns: DnsTestServer | null = null;
  let shutting: Promise<void> | null = null;
  const shutdown = () => {
    shutting ??= (async () => {
      await server?.stop();
      server?.cleanup();
      await dns?.close();
    })();
    return shutting;
  };
  const guard = setTimeout(() => {
    log(`gave up after ${maxSeconds} s`);
    void shutdown().finally(() => process.exit(1));
  }, maxSeconds * 1000);
  guard.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void shutdown().finally(() => process.exit(130)));
  }

  try {
    let port: number;
    if (external) {
      port = Number(args.port);
    } else {
      dns = await startDnsServer(senderZone(key));
      log(`DNS for ${SENDER_DOMAIN} on 127.0.0.1:${dns.port}`);
      server = await startSealpost({
        hostname: 'mx.bench.test',
        domain: 'bench.test',
        user: RECIPIENT,
        env: {
          SEALPOST_DNS_SERVERS: `127.0.0.1:${dns.port}`,
          SEALPOST_MX_MAX_CONNECTIONS_PER_ADDRESS: String(maxPerAddress),
        },
        nodeFlags: [
          ...(args.profile === undefined
            ? []
            : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`]),
          ...(args['server-node-flags']?.split(/\s+/).filter(Boolean) ?? []),
        ],
        keep: args.keep,
        log,
      });
      port = server.port;
      log(`sealpost running on 127.0.0.1:${port} (${server.dir})`);
    }

    const t = Date.now();
    const built = await buildMessages(key, warmup + count, size);
    const set = { ...built, messages: built.messages.map(encodeData) }; // wire form, before timing
    log(`signed ${set.messages.length} messages of ${set.size} bytes in ${Date.now() - t} ms`);
    const verifying = !/^(0|false|no|off)$/i.test(process.env['SEALPOST_MX_VERIFY'] ?? '');
    if (server !== null && !verifying) log('SEALPOST_MX_VERIFY is off: no verification, no controls');
    let acknowledged = server === null || !verifying ? 0 : await controls(port, key);

    if (warmup > 0) {
      const w = await measure(port, set.messages.slice(0, warmup), warmup, server?.pid ?? null);
      acknowledged += w.result.sent;
      log(`warmup: ${w.result.sent} sent, ${w.result.failed} failed, ${w.result.msgsPerSec} msg/s`);
    }
    const outcome = await measure(port, set.messages.slice(warmup), count, server?.pid ?? null);
    acknowledged += outcome.result.sent;
    const r = outcome.result;
    log(
      `run: ${r.sent} sent, ${r.failed} failed in ${r.seconds} s: ${r.msgsPerSec} msg/s at the 250, ` +
        `p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms` +
        (outcome.delivered === null
          ? ''
          : `; ${outcome.delivered} delivered in ${outcome.deliveredSeconds?.toFixed(3)} s`),
    );
    for (const e of r.errors) log(`  failure: ${e}`);
    log(
      `CPU: machine ${outcome.cpuBusy === null ? '?' : Math.round(outcome.cpuBusy * 100)}% busy; per message: ` +
        `server ${outcome.serverCpuMs ?? '?'} ms, load generator ${outcome.clientCpuMs} ms`,
    );

    let stored: Record<string, number> | null = null;
    if (server !== null) {
      if (dns !== null) logDnsQueries(dns.queries);
      await server.stop();
      stored = await server.storedMessages();
      log(`stored: ${JSON.stringify(stored)}; acknowledged: ${acknowledged}`);
    }
    report(outcome, stored, acknowledged);
    const storedTotal = stored === null ? acknowledged : Object.values(stored).reduce((a, b) => a + b, 0);
    if (storedTotal !== acknowledged) log(`MISMATCH: ${storedTotal} stored, ${acknowledged} acknowledged`);
    return storedTotal === acknowledged && r.failed === 0 ? 0 : 1;
  } finally {
    clearTimeout(guard);
    await shutdown();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  },
);
