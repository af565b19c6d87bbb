// One POP3 connection: bytes in through the framing layer, one command at a time
// through the dispatcher (so pipelined commands, RFC 2449 §6.6, are answered in
// order), responses out with back-pressure. Owns the transport: STLS (RFC 2595 §4),
// the AUTH continuation line, the timeouts and the end of the session.
//
// Invariants:
// - Commands run strictly one after another; unread input is bounded (the socket
//   is paused above INPUT_HIGH_WATER).
// - STLS: every byte received before the handshake is discarded, so a command
//   injected behind STLS in cleartext is never executed (DESIGN invariant 3).
// - Before login the session ends after login_timeout_seconds however busy the
//   client is; after login, after idle_timeout_seconds without traffic (RFC 1939 §3
//   asks for at least 10 minutes; that is the default).
// - However the session ends (QUIT, a dropped connection, a timeout, shutdown), the
//   maildrop lock is released and no deletion is committed except by QUIT.
// - Nothing logged here carries a password or message content.

import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import type { Logger } from '../log/logger.ts';
import { upgradeServerSocket } from '../tls/upgrade.ts';
import type { Pop3ServerContext } from './context.ts';
import { dispatch } from './dispatcher.ts';
import { type LineEvent, LineReader } from './framing.ts';
import { INPUT_HIGH_WATER, INPUT_LOW_WATER, MAX_COMMAND_LINE, MAX_PROTOCOL_ERRORS } from './limits.ts';
import type { Pop3State } from './session.ts';

export class Pop3Connection {
  /** Random and unguessable: it also names this session as the maildrop lock's owner. */
  readonly id = randomUUID();
  readonly server: Pop3ServerContext;
  readonly remoteAddress: string;
  readonly log: Logger;
  state: Pop3State = { kind: 'authorization', user: null };
  secure: boolean;
  closed = false;
  unauthenticatedCommands = 0;
  protocolErrors = 0;
  /** Resolves once the session has ended and its lock is released. */
  readonly finished: Promise<void>;

  #socket: net.Socket;
  readonly #reader = new LineReader();
  #wake: (() => void) | null = null;
  #paused = false;
  #loginTimer: NodeJS.Timeout | null = null;
  #finish: () => void = () => {};
  readonly #onData = (chunk: Buffer): void => this.#receive(chunk);

  constructor(server: Pop3ServerContext, socket: net.Socket, secure: boolean) {
    this.server = server;
    this.#socket = socket;
    this.secure = secure;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.log = server.logger.child({ conn: this.id.slice(0, 8), remote: this.remoteAddress });
    this.finished = new Promise((resolve) => {
      this.#finish = resolve;
    });
  }

  start(): void {
    this.#attach(this.#socket);
    this.#loginTimer = setTimeout(() => this.#timedOut(), this.server.config.login_timeout_seconds * 1000);
    this.#loginTimer.unref();
    this.reply('+OK Sealpost POP3 ready');
    void this.#run();
  }

  #attach(socket: net.Socket): void {
    socket.on('data', this.#onData);
    socket.on('error', (e) => this.log.debug({ err: { message: e.message } }, 'pop3: socket error'));
    socket.on('close', () => this.#closed());
    socket.on('timeout', () => this.#timedOut());
    this.#armTimeout();
  }

  #armTimeout(): void {
    const cfg = this.server.config;
    const seconds =
      this.state.kind === 'authorization' ? cfg.login_timeout_seconds : cfg.idle_timeout_seconds;
    this.#socket.setTimeout(seconds * 1000);
  }

  #timedOut(): void {
    if (this.closed) return;
    this.reply('-ERR Autologout; idle for too long');
    this.end();
  }

  // ---- output ----

  write(data: string | Buffer): boolean {
    if (this.closed) return false;
    return this.#socket.write(data);
  }

  reply(line: string): void {
    this.write(`${line}\r\n`);
  }

  /** Resolves once buffered output has drained (or the connection closed). */
  async drain(): Promise<void> {
    const socket = this.#socket;
    if (this.closed || !socket.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  end(): void {
    if (this.closed) return;
    const socket = this.#socket;
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
    this.#closed();
  }

  /** A protocol error (unknown command, bad syntax, long line); too many end the session. */
  countProtocolError(): void {
    if (++this.protocolErrors < MAX_PROTOCOL_ERRORS) return;
    this.reply('-ERR Too many invalid commands');
    this.end();
  }

  /** Login succeeded: the session moves to TRANSACTION with its maildrop and lock. */
  enterTransaction(state: Extract<Pop3State, { kind: 'transaction' }>): void {
    this.state = state;
    if (this.#loginTimer !== null) clearTimeout(this.#loginTimer);
    this.#loginTimer = null;
    this.#armTimeout();
  }

  /** The maildrop lock was taken over (this process stalled): end without committing. */
  lockLost(): void {
    this.log.warn('pop3: maildrop lock lost; closing the session without deleting anything');
    this.#socket.destroy();
    this.#closed();
  }

  #closed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#loginTimer !== null) clearTimeout(this.#loginTimer);
    this.#wake?.();
    this.server.onConnectionClosed(this);
    const s = this.state;
    // In UPDATE the QUIT handler commits and releases; otherwise nothing is committed.
    if (s.kind === 'transaction') void s.lock.release().finally(this.#finish);
    else if (s.kind === 'authorization') this.#finish();
  }

  /** Called by QUIT once the UPDATE state is over. */
  updateDone(): void {
    this.#finish();
  }

  // ---- input ----

  #receive(chunk: Buffer): void {
    this.#reader.push(chunk);
    if (this.#reader.pending() > INPUT_HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** The next input line (limited to maxLine octets with its CRLF), or null once closed. */
  async nextLine(maxLine: number): Promise<LineEvent | null> {
    for (;;) {
      if (this.closed) return null;
      const event = this.#reader.next(maxLine);
      if (this.#paused && this.#reader.pending() < INPUT_LOW_WATER) {
        this.#paused = false;
        this.#socket.resume();
      }
      if (event !== undefined) return event;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async #run(): Promise<void> {
    try {
      for (;;) {
        const event = await this.nextLine(MAX_COMMAND_LINE);
        if (event === null) return;
        if (event.kind === 'flood') {
          this.reply('-ERR Line too long; closing the connection');
          this.end();
          return;
        }
        if (event.kind === 'too-long') {
          this.reply('-ERR Line too long');
          this.countProtocolError();
          continue;
        }
        await dispatch(this, event.line.toString('utf8'));
      }
    } catch (e) {
      this.log.error({ err: e }, 'pop3: session failed');
      this.end();
    }
  }

  // ---- STLS ----

  /** After `+OK Begin TLS negotiation` was written: discard all input and hand the socket to TLS. */
  startTls(): void {
    this.#reader.reset();
    const raw = this.#socket;
    raw.off('data', this.#onData);
    raw.removeAllListeners('timeout');
    raw.setTimeout(0);
    if (this.#paused) {
      this.#paused = false;
      raw.resume();
    }
    const secure = upgradeServerSocket(raw, this.server.certificates);
    secure.on('secure', () => {
      this.secure = true;
      this.log.debug({ protocol: secure.getProtocol() }, 'pop3: TLS started');
    });
    secure.on('error', (e) => {
      this.log.info({ err: { message: e.message } }, 'pop3: TLS handshake failed');
      secure.destroy();
      this.#closed();
    });
    this.#socket = secure;
    this.#attach(secure);
  }
}
