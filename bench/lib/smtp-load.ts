// A lean SMTP load generator for benchmarks: raw node:net sockets and a small client state
// machine (greeting, EHLO, MAIL FROM, RCPT TO, DATA, QUIT), so that the client costs little
// CPU on a machine it shares with the server under test.
//
// - Messages are sent as given, after one conversion per distinct Buffer (cached; or done
//   beforehand with encodeData and `encoded: true`, to keep it out of the timed run): every
//   line ending becomes CRLF, a line starting with "." gets a second "." (RFC 5321 §4.5.2),
//   and the data ends with CRLF "." CRLF.
// - Latency of one message: from the start of its connect (or of its MAIL FROM on a reused
//   connection) to the 250 after DATA.
// - Any reply other than the expected 2xx/3xx fails that message; the first few reply lines
//   (or socket errors) are kept. A connection that failed is closed; the next message opens
//   a new one.
// - With a new connection per message, a worker waits for the server to close the previous
//   connection after QUIT before it opens the next, so at most `concurrency` are open at once.
// - Everything is bounded: `count` messages, and a socket idle timeout per connection.

import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface SmtpLoadOptions {
  readonly host: string;
  readonly port: number;
  readonly count: number;
  readonly concurrency: number;
  /** The RFC 5322 message (headers and body), or one per message index. */
  readonly message: Buffer | ((index: number) => Buffer);
  /** The messages are already in wire form (encodeData): sent as they are. Default false. */
  readonly encoded?: boolean;
  readonly from: string;
  readonly to: string;
  /** Default true: connect, send one message, QUIT, for every message. */
  readonly newConnectionPerMessage?: boolean;
  /** EHLO argument. Default "load.bench.test". */
  readonly helo?: string;
  /** Idle timeout of a connection. Default 30000 ms. */
  readonly timeoutMs?: number;
  /** How many failure lines to keep. Default 10. */
  readonly keepErrors?: number;
}

export interface SmtpLoadResult {
  readonly sent: number;
  readonly failed: number;
  readonly seconds: number;
  readonly msgsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: readonly string[];
}

interface Reply {
  readonly code: number;
  readonly lines: readonly string[];
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const QUIT = Buffer.from('QUIT\r\n');

/** CRLF line endings, dot-stuffing and the terminating CRLF.CRLF (RFC 5321 §4.1.1.4, §4.5.2). */
export function encodeData(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length * 2 + 5);
  let o = 0;
  let lineStart = true;
  for (let i = 0; i < message.length; i++) {
    const b = message[i]!;
    if (lineStart && b === DOT) out[o++] = DOT;
    if (b === CR || b === LF) {
      if (b === CR && message[i + 1] === LF) i++;
      out[o++] = CR;
      out[o++] = LF;
      lineStart = true;
      continue;
    }
    out[o++] = b;
    lineStart = false;
  }
  if (!lineStart) {
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = DOT;
  out[o++] = CR;
  out[o++] = LF;
  return Buffer.from(out.subarray(0, o));
}

class ReplyError extends Error {}

/** One SMTP client connection: writes commands, hands out replies in order. */
class Connection {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  private pending = '';
  private lines: string[] = [];
  private replies: Reply[] = [];
  private waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(host: string, port: number, timeoutMs: number) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.setEncoding('latin1');
    this.socket.setTimeout(timeoutMs, () => this.fail(new Error(`timeout after ${timeoutMs} ms`)));
    this.socket.on('data', (chunk: string) => this.onData(chunk));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('end', () => this.fail(new Error('connection closed by server')));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  /** The next reply; with a line, that command is written first. */
  next(line?: Buffer): Promise<Reply> {
    if (line !== undefined && this.failure === null) this.socket.write(line);
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Sends QUIT and waits (bounded by the socket timeout) until the connection is closed. */
  async quit(): Promise<void> {
    if (this.failure === null && !this.socket.destroyed) this.socket.write(QUIT);
    else this.socket.destroy();
    await this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.pending += chunk;
    let nl = this.pending.indexOf('\n');
    while (nl !== -1) {
      const line = this.pending.slice(0, nl > 0 && this.pending.charCodeAt(nl - 1) === CR ? nl - 1 : nl);
      this.pending = this.pending.slice(nl + 1);
      this.onLine(line);
      nl = this.pending.indexOf('\n');
    }
  }

  // RFC 5321 §4.2.1: "NNN-text" continues a reply, "NNN text" (or "NNN") ends it.
  private onLine(line: string): void {
    this.lines.push(line);
    if (line.length > 3 && line[3] === '-') return;
    const reply: Reply = { code: Number(line.slice(0, 3)) || 0, lines: this.lines };
    this.lines = [];
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter.resolve(reply);
    } else {
      this.replies.push(reply);
    }
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(e);
    this.socket.destroy();
  }
}

function expect(stage: string, reply: Reply, first: number): void {
  if (Math.floor(reply.code / 100) !== first) throw new ReplyError(`${stage}: ${reply.lines.join(' | ')}`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

export async function runSmtpLoad(options: SmtpLoadOptions): Promise<SmtpLoadResult> {
  const newConnection = options.newConnectionPerMessage ?? true;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const keep = options.keepErrors ?? 10;
  const helo = Buffer.from(`EHLO ${options.helo ?? 'load.bench.test'}\r\n`);
  const mailFrom = Buffer.from(`MAIL FROM:<${options.from}>\r\n`);
  const rcptTo = Buffer.from(`RCPT TO:<${options.to}>\r\n`);
  const dataCommand = Buffer.from('DATA\r\n');
  const encoded = new WeakMap<Buffer, Buffer>();
  const dataOf = (index: number): Buffer => {
    const raw = typeof options.message === 'function' ? options.message(index) : options.message;
    if (options.encoded === true) return raw;
    let data = encoded.get(raw);
    if (data === undefined) {
      data = encodeData(raw);
      encoded.set(raw, data);
    }
    return data;
  };

  const latencies: number[] = [];
  const errors: string[] = [];
  let failed = 0;
  let nextIndex = 0;
  const recordFailure = (e: unknown) => {
    failed++;
    const text = e instanceof Error ? e.message : String(e);
    if (errors.length < keep) errors.push(text);
  };

  const open = async (): Promise<Connection> => {
    const c = new Connection(options.host, options.port, timeoutMs);
    try {
      expect('greeting', await c.next(), 2);
      expect('EHLO', await c.next(helo), 2);
    } catch (e) {
      c.destroy();
      throw e;
    }
    return c;
  };

  const worker = async (): Promise<void> => {
    let conn: Connection | null = null;
    while (nextIndex < options.count) {
      const index = nextIndex++;
      const data = dataOf(index);
      const start = performance.now();
      try {
        conn ??= await open();
        expect('MAIL', await conn.next(mailFrom), 2);
        expect('RCPT', await conn.next(rcptTo), 2);
        expect('DATA', await conn.next(dataCommand), 3);
        expect('end of DATA', await conn.next(data), 2);
        latencies.push(performance.now() - start);
      } catch (e) {
        recordFailure(e);
        await conn?.quit();
        conn = null;
        continue;
      }
      if (newConnection) {
        await conn.quit();
        conn = null;
      }
    }
    await conn?.quit();
  };

  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency, options.count)) }, worker),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    sent: latencies.length,
    failed,
    seconds: round(seconds, 3),
    msgsPerSec: round(latencies.length / seconds, 1),
    p50Ms: round(percentile(latencies, 50), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    errors,
  };
}
