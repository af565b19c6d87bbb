// IMAP test clients: imapflow (the reference client) and RawImap, which sends
// exactly the bytes a test gives it (pipelined commands, oversized literals,
// plaintext behind STARTTLS) and collects the server's lines.

import net from 'node:net';
import tls from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { RunningServer } from '../../src/app/start.ts';
import { PASSWORD } from './server.ts';

export function imapPort(server: RunningServer, security: 'tls' | 'starttls' = 'tls'): number {
  const l = server.listening.find((x) => x.role === 'imap' && x.security === security);
  if (l === undefined) throw new Error(`no imap ${security} listener`);
  return l.port;
}

/** A connected imapflow client (implicit TLS, the test certificate not verified); `extra` adds options. */
export async function imapflow(
  port: number,
  user = 'alice@sealpost.test',
  pass = PASSWORD,
  extra: Partial<ImapFlowOptions> = {},
): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass },
    logger: false,
    disableAutoIdle: true,
    ...extra,
  });
  await client.connect();
  return client;
}

export class RawImap {
  #socket: net.Socket;
  #buffer = '';
  #waiters: (() => void)[] = [];
  closed = false;
  /** Every line received, in order (CRLF stripped; literal bytes appear inline). */
  readonly lines: string[] = [];
  #consumed = 0;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static async connect(port: number, secure = true): Promise<RawImap> {
    const socket = secure
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    const c = new RawImap(socket);
    await c.until(/^\* (OK|BYE)/);
    return c;
  }

  #attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let eol = this.#buffer.indexOf('\r\n');
      while (eol >= 0) {
        this.lines.push(this.#buffer.slice(0, eol));
        this.#buffer = this.#buffer.slice(eol + 2);
        eol = this.#buffer.indexOf('\r\n');
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    const end = () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** Lines up to and including the first (not yet consumed) one matching `re`. */
  async until(re: RegExp, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.#consumed; i < this.lines.length; i++) {
        if (re.test(this.lines[i]!)) {
          const out = this.lines.slice(this.#consumed, i + 1);
          this.#consumed = i + 1;
          return out;
        }
      }
      if (this.closed)
        throw new Error(`closed before ${re}; got:\n${this.lines.slice(this.#consumed).join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timeout waiting for ${re}; got:\n${this.lines.slice(this.#consumed).join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Send `tag text` and return the lines up to its tagged response. */
  async command(tag: string, text: string): Promise<string[]> {
    this.write(`${tag} ${text}\r\n`);
    return this.until(new RegExp(`^${tag} (OK|NO|BAD)`));
  }

  async login(user = 'alice@sealpost.test', pass = PASSWORD): Promise<void> {
    const r = await this.command('L1', `LOGIN "${user}" "${pass}"`);
    if (!r.at(-1)!.startsWith('L1 OK')) throw new Error(`login failed: ${r.join('\n')}`);
  }

  /** Resolves when the server has closed the connection. */
  async closedByServer(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('server did not close the connection');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Upgrade this connection to TLS (after the server's STARTTLS OK). */
  async startTls(): Promise<void> {
    const raw = this.#socket;
    raw.removeAllListeners('data');
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false });
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
