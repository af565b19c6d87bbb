// A small raw IMAP client for the benchmarks (bench/imap.ts, bench/imap-idle.ts): one
// command at a time over TCP or implicit TLS (certificates are not verified: the servers
// under test use self-signed ones), synchronizing literals on the way out (RFC 9051 §4.3:
// send `{n}`, wait for the "+" continuation, then the n octets) and literals of any size on
// the way in. It parses only what a benchmark needs: the tagged status and response code,
// and counts of untagged EXISTS/EXPUNGE/FETCH and the numbers of SEARCH.
//
// Invariants: at most one tagged command is outstanding (no pipelining); a literal's bytes
// are counted and never interpreted as lines; `exists` follows EXISTS and EXPUNGE.

import net from 'node:net';
import tls from 'node:tls';

export interface ImapConnectOptions {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (the certificate is not verified). */
  readonly tls: boolean;
  /** Bound on connecting and on every command, in ms (default 60 s). */
  readonly timeoutMs?: number;
}

export interface ImapResult {
  readonly status: 'OK' | 'NO' | 'BAD';
  /** The tagged line after the status, response code included. */
  readonly text: string;
  /** The response code without brackets, e.g. "APPENDUID 38505 3955"; null if none. */
  readonly code: string | null;
  readonly untagged: number;
  readonly fetches: number;
  /** Numbers of the `* SEARCH` responses (null when there was none). */
  readonly search: number[] | null;
  /** Octets received in literals (e.g. a BODY[] fetched). */
  readonly literalBytes: number;
}

/** A tagged NO/BAD where OK was required, or a broken connection. */
export class ImapError extends Error {}

/** A complete response line (literals removed) and the literal octets it carried. */
export interface ResponseLine {
  readonly line: string;
  readonly literalBytes: number;
}

/**
 * Splits received bytes into response lines: a line ending in `{n}` continues after n
 * octets of literal, which are skipped and counted (RFC 9051 §4.3).
 */
export class ResponseReader {
  private buf: Buffer = Buffer.alloc(0);
  private literalLeft = 0;
  private partial = '';
  private partialLiteral = 0;

  feed(chunk: Buffer): ResponseLine[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: ResponseLine[] = [];
    let pos = 0;
    while (pos < this.buf.length) {
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, this.buf.length - pos);
        this.literalLeft -= n;
        this.partialLiteral += n;
        pos += n;
        continue;
      }
      const lf = this.buf.indexOf(10, pos);
      if (lf < 0) break;
      const end = lf > pos && this.buf[lf - 1] === 13 ? lf - 1 : lf;
      const text = this.buf.toString('latin1', pos, end);
      pos = lf + 1;
      const literal = /\{(\d+)\+?\}$/.exec(text);
      if (literal !== null) {
        this.partial += text.slice(0, literal.index);
        this.literalLeft = Number(literal[1]);
        continue;
      }
      out.push({ line: this.partial + text, literalBytes: this.partialLiteral });
      this.partial = '';
      this.partialLiteral = 0;
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
    return out;
  }
}

/** An IMAP quoted string (RFC 9051 §4.3); for user names and passwords. */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

interface Pending {
  readonly tag: string;
  untagged: number;
  fetches: number;
  search: number[] | null;
  literalBytes: number;
  resolve(r: ImapResult): void;
  reject(e: Error): void;
}

export class ImapClient {
  /** Messages in the selected mailbox, as last told by EXISTS and EXPUNGE. */
  exists = 0;
  /** The greeting line. */
  greeting = '';
  private readonly reader = new ResponseReader();
  private pending: Pending | null = null;
  private continuation: ((ok: boolean) => void) | null = null;
  private greeted: { resolve(line: string): void; reject(e: Error): void } | null = null;
  private failure: Error | null = null;
  private nextTag = 1;
  private readonly socket: net.Socket;
  private readonly timeoutMs: number;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
  }

  static async connect(o: ImapConnectOptions): Promise<ImapClient> {
    const timeoutMs = o.timeoutMs ?? 60_000;
    const socket = o.tls
      ? tls.connect({ host: o.host, port: o.port, rejectUnauthorized: false, servername: 'localhost' })
      : net.connect({ host: o.host, port: o.port });
    socket.setNoDelay(true);
    const client = new ImapClient(socket, timeoutMs);
    const greeting = new Promise<string>((resolve, reject) => {
      client.greeted = { resolve, reject };
    });
    const timer = setTimeout(
      () => client.fail(new ImapError(`no greeting from ${o.host}:${o.port}`)),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => client.onData(chunk));
    socket.on('error', (e) => client.fail(e));
    socket.on('close', () => client.fail(new ImapError('connection closed')));
    try {
      client.greeting = await greeting;
    } finally {
      clearTimeout(timer);
    }
    if (!/^\* (OK|PREAUTH)\b/i.test(client.greeting)) {
      socket.destroy();
      throw new ImapError(`greeting: ${client.greeting}`);
    }
    return client;
  }

  /**
   * Sends one command made of `parts`: strings are sent as they are, a Buffer as a
   * synchronizing literal. Resolves with the tagged result (NO and BAD included).
   */
  async command(...parts: (string | Buffer)[]): Promise<ImapResult> {
    if (this.failure !== null) throw this.failure;
    if (this.pending !== null) throw new ImapError('a command is already outstanding');
    const tag = `A${this.nextTag++}`;
    const done = new Promise<ImapResult>((resolve, reject) => {
      this.pending = { tag, untagged: 0, fetches: 0, search: null, literalBytes: 0, resolve, reject };
    });
    const timer = setTimeout(
      () => this.fail(new ImapError(`timeout: ${tag} ${String(parts[0])}`)),
      this.timeoutMs,
    );
    try {
      let text = `${tag} `;
      for (const part of parts) {
        if (typeof part === 'string') {
          text += part;
          continue;
        }
        const go = new Promise<boolean>((resolve) => {
          this.continuation = resolve;
        });
        this.socket.write(`${text}{${part.length}}\r\n`);
        text = '';
        if (!(await go)) return await done; // refused before the literal (tagged NO/BAD)
        this.socket.write(part);
      }
      this.socket.write(`${text}\r\n`);
      return await done;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Like command(), but a status other than OK is an ImapError. */
  async ok(...parts: (string | Buffer)[]): Promise<ImapResult> {
    const r = await this.command(...parts);
    if (r.status !== 'OK') throw new ImapError(`${String(parts[0]).split(' ')[0]}: ${r.status} ${r.text}`);
    return r;
  }

  async login(user: string, pass: string): Promise<void> {
    await this.ok(`LOGIN ${quote(user)} ${quote(pass)}`);
  }

  /**
   * Starts IDLE (RFC 2177 / RFC 9051 §6.3.13); resolves once the server said "+", with the
   * promise of the tagged result that follows done().
   */
  async idle(): Promise<{ readonly finished: Promise<ImapResult> }> {
    if (this.pending !== null) throw new ImapError('a command is already outstanding');
    const tag = `A${this.nextTag++}`;
    const done = new Promise<ImapResult>((resolve, reject) => {
      this.pending = { tag, untagged: 0, fetches: 0, search: null, literalBytes: 0, resolve, reject };
    });
    const go = new Promise<boolean>((resolve) => {
      this.continuation = resolve;
    });
    this.socket.write(`${tag} IDLE\r\n`);
    const timer = setTimeout(() => this.fail(new ImapError(`timeout: ${tag} IDLE`)), this.timeoutMs);
    try {
      if (!(await go)) throw new ImapError(`IDLE refused: ${(await done).text}`);
    } finally {
      clearTimeout(timer);
    }
    done.catch(() => {}); // a connection closed while idling is the caller's business
    return { finished: done };
  }

  /** Ends IDLE. */
  done(): void {
    if (this.failure === null) this.socket.write('DONE\r\n');
  }

  /** True once the connection failed or was closed: every command would fail. */
  get broken(): boolean {
    return this.failure !== null;
  }

  /** Closes without LOGOUT. */
  close(): void {
    this.failure ??= new ImapError('closed');
    this.socket.destroy();
  }

  async logout(): Promise<void> {
    try {
      await this.command('LOGOUT');
    } finally {
      this.close();
    }
  }

  private onData(chunk: Buffer): void {
    for (const { line, literalBytes } of this.reader.feed(chunk)) this.onLine(line, literalBytes);
  }

  private onLine(line: string, literalBytes: number): void {
    if (this.greeted !== null) {
      const greeted = this.greeted;
      this.greeted = null;
      greeted.resolve(line);
      return;
    }
    const p = this.pending;
    if (line.startsWith('+')) {
      const c = this.continuation;
      this.continuation = null;
      c?.(true);
      return;
    }
    if (line.startsWith('* ')) {
      this.onUntagged(line, p);
      if (p !== null) p.literalBytes += literalBytes;
      return;
    }
    if (p === null || !line.startsWith(`${p.tag} `)) return;
    const m = /^\S+ (OK|NO|BAD)\b ?(.*)$/i.exec(line);
    const status = (m?.[1]?.toUpperCase() ?? 'BAD') as ImapResult['status'];
    const text = m?.[2] ?? line;
    const code = /^\[([^\]]*)\]/.exec(text)?.[1] ?? null;
    this.pending = null;
    const c = this.continuation;
    this.continuation = null;
    c?.(false);
    const { untagged, fetches, search } = p;
    p.resolve({ status, text, code, untagged, fetches, search, literalBytes: p.literalBytes + literalBytes });
  }

  private onUntagged(line: string, p: Pending | null): void {
    if (p !== null) p.untagged++;
    const n = /^\* (\d+) (EXISTS|EXPUNGE|FETCH)\b/i.exec(line);
    if (n !== null) {
      const what = n[2]!.toUpperCase();
      if (what === 'EXISTS') this.exists = Number(n[1]);
      else if (what === 'EXPUNGE') this.exists--;
      else if (p !== null) p.fetches++;
      return;
    }
    if (p !== null && /^\* SEARCH\b/i.test(line)) {
      const nums = line.slice(8).trim();
      p.search = [...(p.search ?? []), ...(nums === '' ? [] : nums.split(/\s+/).map(Number))];
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const g = this.greeted;
    this.greeted = null;
    g?.reject(this.failure);
    const p = this.pending;
    this.pending = null;
    const c = this.continuation;
    this.continuation = null;
    c?.(false);
    p?.reject(this.failure);
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
