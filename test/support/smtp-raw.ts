// A raw SMTP client for hostile-input tests: sends exactly the bytes a test gives it
// (bare LFs, pipelined commands, oversized lines) and parses multi-line replies.

import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  readonly code: number;
  readonly text: string; // all lines joined with \n, codes stripped
}

export class RawSmtp {
  #socket: net.Socket;
  #buffer = '';
  #waiters: ((r: Reply | null) => void)[] = [];
  #replies: Reply[] = [];
  #closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<{ client: RawSmtp; greeting: Reply }> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawSmtp(socket);
    const greeting = await client.read();
    if (greeting === null) throw new Error('connection closed before the greeting');
    return { client, greeting };
  }

  /** Implicit TLS (submission on 465), trusting the test certificate. */
  static async connectTls(port: number, host = '127.0.0.1'): Promise<{ client: RawSmtp; greeting: Reply }> {
    const socket = tls.connect({ port, host, servername: 'localhost', rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const client = new RawSmtp(socket);
    const greeting = await client.read();
    if (greeting === null) throw new Error('connection closed before the greeting');
    return { client, greeting };
  }

  #attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      this.#parse();
    });
    const onEnd = () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w(null);
    };
    socket.on('close', onEnd);
    socket.on('error', onEnd);
  }

  #parse(): void {
    for (;;) {
      const lines: string[] = [];
      let pos = 0;
      let complete = false;
      for (;;) {
        const eol = this.#buffer.indexOf('\n', pos);
        if (eol === -1) break;
        const line = this.#buffer.slice(pos, eol).replace(/\r$/, '');
        lines.push(line);
        pos = eol + 1;
        if (line[3] !== '-') {
          complete = true;
          break;
        }
      }
      if (!complete) return;
      this.#buffer = this.#buffer.slice(pos);
      const reply = { code: Number(lines[0]!.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(reply);
      else this.#replies.push(reply);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The next reply, or null if the server closed the connection. */
  read(timeoutMs = 10_000): Promise<Reply | null> {
    const ready = this.#replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for an SMTP reply')), timeoutMs);
      this.#waiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  async cmd(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    const r = await this.read();
    if (r === null) throw new Error(`connection closed after ${JSON.stringify(line)}`);
    return r;
  }

  /** STARTTLS already accepted: upgrade the socket (trusting the test certificate). */
  async upgrade(servername = 'localhost'): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, servername, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#buffer = '';
    this.#attach(secure);
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A minimal valid message with CRLF line ends. */
export function message(
  opts: { from?: string; to?: string; subject?: string; body?: string; extra?: string } = {},
): string {
  const lines = [
    `From: ${opts.from ?? 'Sender <sender@example.org>'}`,
    `To: ${opts.to ?? 'alice@sealpost.test'}`,
    `Subject: ${opts.subject ?? 'hello'}`,
    `Message-ID: <${Math.random().toString(36).slice(2)}@example.org>`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    ...(opts.extra ? [opts.extra] : []),
    '',
    opts.body ?? 'Hello there.',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
