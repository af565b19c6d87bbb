// Benchmark: outbound delivery end to end (issue 5). Two Sealpost instances in child
// processes, as in production: a sender (submission on implicit TLS, DKIM signing with
// Ed25519 and RSA-2048, the durable queue, the delivery role) on 127.0.0.2 and a receiver
// (the MX, full SPF/DKIM/DMARC verification, sealed storage) on 127.0.0.3, with DNS from a
// local DNS server. --concurrency submitters (default 20), each one TLS connection that
// AUTHs once and then submits its share of the messages back to back.
//
// Measured: from the first submission to the moment the receiver's store holds every
// message (messages/s), plus the submission rate alone and the share of mail that went over
// TLS with both signatures verified (checked on a sample at the receiver). Prints ONE JSON
// line on stdout; progress goes to stderr.
//
//   node bench/delivery.ts [--count 1000] [--concurrency 20] [--size 4096] [--warmup 40]

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { startDnsServer } from '../test/support/dns-server.ts';
import { readMailbox } from '../test/support/mailbox.ts';
import { publishSender, receiverEnv, senderEnv } from '../test/support/outbound.ts';
import { freePort, install, PASSWORD, startChild } from '../test/support/server.ts';
import { processCpuSeconds } from './lib/cpu.ts';

const log = (line: string) => process.stderr.write(`delivery: ${line}\n`);
const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '20' },
    size: { type: 'string', default: '4096' },
    warmup: { type: 'string', default: '40' },
  },
});
const COUNT = Number(args.count);
const CONCURRENCY = Number(args.concurrency);
const SIZE = Number(args.size);
const WARMUP = Number(args.warmup);
const ALICE = 'alice@sender.test';
const BOB = 'bob@receiver.test';

/** A minimal submission client: one TLS connection, AUTH PLAIN once, then messages in a row. */
class Submitter {
  #socket: tls.TLSSocket;
  #buffer = '';
  #waiting: ((line: string) => void) | null = null;
  #lines: string[] = [];

  private constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      for (let i = this.#buffer.indexOf('\r\n'); i >= 0; i = this.#buffer.indexOf('\r\n')) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 2);
        if (/^\d{3}-/.test(line)) continue;
        if (this.#waiting) {
          const w = this.#waiting;
          this.#waiting = null;
          w(line);
        } else this.#lines.push(line);
      }
    });
  }

  static async open(port: number): Promise<Submitter> {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const s = new Submitter(socket);
    await s.#expect(null, /^220 /);
    await s.#expect('EHLO bench.client', /^250 /);
    await s.#expect(`AUTH PLAIN ${Buffer.from(`\0${ALICE}\0${PASSWORD}`).toString('base64')}`, /^235 /);
    return s;
  }

  #reply(): Promise<string> {
    const ready = this.#lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  async #expect(command: string | null, want: RegExp): Promise<string> {
    if (command !== null) this.#socket.write(`${command}\r\n`);
    const line = await this.#reply();
    if (!want.test(line)) throw new Error(`${command ?? 'greeting'}: ${line}`);
    return line;
  }

  async send(data: string): Promise<void> {
    await this.#expect(`MAIL FROM:<${ALICE}>`, /^250 /);
    await this.#expect(`RCPT TO:<${BOB}>`, /^250 /);
    await this.#expect('DATA', /^354 /);
    await this.#expect(`${data}\r\n.`, /^250 /);
  }

  close(): void {
    this.#socket.end('QUIT\r\n');
  }
}

function message(i: number): string {
  const head = [
    `From: Alice <${ALICE}>`,
    `To: Bob <${BOB}>`,
    `Subject: delivery bench ${i}`,
    `Message-ID: <bench-${i}@sender.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
  ].join('\r\n');
  const line = 'The quick brown fox jumps over the lazy dog, again and again. 0123456789\r\n';
  let body = '';
  while (head.length + body.length < SIZE) body += line;
  return `${head}\r\n${body.slice(0, Math.max(0, SIZE - head.length - 2))}`.replace(/\r\n\./g, '\r\n..');
}

async function main(): Promise<void> {
  const dns = await startDnsServer();
  const mxPort = await freePort();
  const submissionPort = await freePort();
  const receiver = await install({
    domains: ['receiver.test'],
    users: [BOB],
    env: receiverEnv({ dnsPort: dns.port, hostname: 'mx.receiver.test', address: '127.0.0.3', mxPort }),
  });
  const sender = await install({
    domains: ['sender.test'],
    users: [ALICE],
    env: {
      ...senderEnv({
        dnsPort: dns.port,
        hostname: 'mx.sender.test',
        sourceAddress: '127.0.0.2',
        remotePort: mxPort,
      }),
      SEALPOST_SUBMISSION_PORT: String(submissionPort),
      // The abuse guard stays on, with limits a benchmark does not reach.
      SEALPOST_ABUSE_MESSAGES_PER_HOUR: '1000000',
      SEALPOST_ABUSE_MESSAGES_PER_DAY: '1000000',
      SEALPOST_ABUSE_NEW_RECIPIENTS_PER_HOUR: '1000000',
      SEALPOST_ABUSE_NEW_RECIPIENTS_PER_DAY: '1000000',
      SEALPOST_ABUSE_SPIKE_MIN_RECIPIENTS: '1000000',
    },
  });
  dns.set('receiver.test', 'MX', [{ preference: 10, exchange: 'mx.receiver.test' }]);
  dns.set('mx.receiver.test', 'A', ['127.0.0.3']);
  await publishSender(sender, dns, 'sender.test', 'mx.sender.test', '127.0.0.2');

  const receiverChild = await startChild(receiver, mxPort);
  const senderChild = await startChild(sender, await freePort());
  const store = await openSqliteStore({ path: path.join(receiver.dir, 'sealpost.db') });
  const stored = async () => {
    const account = await store.getAccountByAddress(BOB);
    let n = 0;
    for (const m of await store.listMailboxes(account!.id)) n += m.messageCount;
    return n;
  };
  const waitStored = async (n: number, limitMs: number) => {
    const end = Date.now() + limitMs;
    while ((await stored()) < n) {
      if (Date.now() > end) throw new Error(`receiver holds ${await stored()} of ${n} after ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const run = async (from: number, count: number) => {
    const clients = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => Submitter.open(submissionPort)),
    );
    let next = from;
    await Promise.all(
      clients.map(async (c) => {
        while (next < from + count) await c.send(message(next++));
        c.close();
      }),
    );
  };

  try {
    log(`warm-up: ${WARMUP} messages`);
    await run(0, WARMUP);
    await waitStored(WARMUP, 60_000);
    const cpu0 = [processCpuSeconds(senderChild.process.pid!), processCpuSeconds(receiverChild.process.pid!)];
    log(`run: ${COUNT} messages of ${SIZE} bytes from ${CONCURRENCY} submitters`);
    const t0 = performance.now();
    await run(WARMUP, COUNT);
    const submitted = performance.now();
    await waitStored(WARMUP + COUNT, 600_000);
    const done = performance.now();
    const cpu1 = [processCpuSeconds(senderChild.process.pid!), processCpuSeconds(receiverChild.process.pid!)];
    await senderChild.stop();
    await receiverChild.stop();
    // A sample at the receiver: TLS and both signatures verified.
    const sample = (await readMailbox(receiver, BOB)).slice(-20);
    const verified = sample.filter(
      (m) =>
        / with ESMTPS /.test(m.raw) &&
        /dkim=pass[^;]*a=ed25519-sha256/.test(m.raw) &&
        /dkim=pass[^;]*a=rsa-sha256/.test(m.raw) &&
        /dmarc=pass/.test(m.raw),
    ).length;
    const seconds = (done - t0) / 1000;
    const cpu = (i: number) => {
      const a = cpu0[i];
      const b = cpu1[i];
      return a == null || b == null ? null : Number((b - a).toFixed(2));
    };
    process.stdout.write(
      `${JSON.stringify({
        bench: 'delivery',
        messages: COUNT,
        size: SIZE,
        submitters: CONCURRENCY,
        seconds: Number(seconds.toFixed(2)),
        msgs_per_s: Number((COUNT / seconds).toFixed(1)),
        submit_msgs_per_s: Number((COUNT / ((submitted - t0) / 1000)).toFixed(1)),
        sample_tls_dkim_dmarc_pass: `${verified}/${sample.length}`,
        cpu_seconds_sender: cpu(0),
        cpu_seconds_receiver: cpu(1),
      })}\n`,
    );
  } finally {
    await store.close();
    await senderChild.stop().catch(() => undefined);
    await receiverChild.stop().catch(() => undefined);
    await dns.close();
    await sender.cleanup();
    await receiver.cleanup();
  }
}

await main();
