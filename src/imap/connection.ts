// One IMAP connection: bytes in through the framing layer, one command at a time
// through the dispatcher, responses out with back-pressure. Owns the transport
// changes: STARTTLS (RFC 9051 §6.2.1) and COMPRESS=DEFLATE (RFC 4978), the
// AUTHENTICATE continuation, IDLE (RFC 2177) and the timeouts.
//
// Invariants:
// - Commands run strictly one after another; a pipelined command waits in the
//   framing layer, whose every buffer is bounded by limits.ts. Input is paused
//   while more than HIGH_WATER bytes wait, so neither a flood nor a decompression
//   bomb grows memory without bound.
// - STARTTLS: everything received before the handshake is discarded (reader.reset
//   plus the connection's own queue), so plaintext injected behind the command is
//   never executed (DESIGN invariant 3).
// - The session times out: login_timeout before authentication, idle_timeout after.
// - Nothing logged here carries a password, a token or message content.

import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import zlib from 'node:zlib';
import type { Logger } from '../log/logger.ts';
import { upgradeServerSocket } from '../tls/upgrade.ts';
import type { ImapServerContext } from './context.ts';
import { dispatch } from './dispatcher.ts';
import { CommandReader, type FrameEvent } from './protocol/index.ts';
import type { SessionState } from './session.ts';

const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
const OUT_CHUNK = 64 * 1024;

export class ImapConnection {
  readonly id = randomUUID().slice(0, 8);
  readonly server: ImapServerContext;
  readonly remoteAddress: string;
  readonly log: Logger;
  readonly reader: CommandReader;
  #state: SessionState = { kind: 'not-authenticated' };
  secure: boolean;
  /** ENABLEd extensions (RFC 5161): CONDSTORE, QRESYNC, IMAP4REV2, UTF8=ACCEPT. */
  readonly enabled = new Set<string>();
  /** CONDSTORE turned on for this session (by ENABLE or a CONDSTORE-aware command, RFC 7162 §3.1). */
  condstore = false;
  compressed = false;
  unauthenticatedCommands = 0;
  badCommands = 0;
  closed = false;

  #socket: net.Socket;
  #source: NodeJS.ReadableStream & { pause(): unknown; resume(): unknown };
  #deflate: zlib.DeflateRaw | null = null;
  #out: Buffer[] = [];
  #outBytes = 0;
  #flushScheduled = false;
  #inbox: Buffer[] = [];
  #inboxBytes = 0;
  #paused = false;
  #busy = false;
  #pumping = false;
  #continuation: ((line: string | null) => void) | null = null;
  #idleDone: (() => void) | null = null;
  readonly #onData = (chunk: Buffer): void => this.#receive(chunk);

  constructor(server: ImapServerContext, socket: net.Socket, secure: boolean) {
    this.server = server;
    this.#socket = socket;
    this.#source = socket;
    this.secure = secure;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.log = server.logger.child({ conn: this.id, remote: this.remoteAddress });
    this.reader = new CommandReader(server.limits, 'literal-plus');
  }

  start(): void {
    this.#socket.on('data', this.#onData);
    this.#socket.on('error', (e) => this.log.debug({ err: { message: e.message } }, 'imap: socket error'));
    this.#socket.on('close', () => this.#closed());
    this.#socket.on('timeout', () => {
      this.bye('Autologout; idle for too long');
    });
    this.#armTimeout();
    this.server.connections.add(this);
    this.write(`* OK [CAPABILITY ${this.server.capabilities(this).join(' ')}] Sealpost IMAP ready\r\n`);
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Leaving a selected mailbox (for another, or none) lets go of its shared cache. */
  set state(next: SessionState) {
    const prev = this.#state;
    if (prev.kind === 'selected' && (next.kind !== 'selected' || next.mailbox !== prev.mailbox)) {
      prev.mailbox.release(this.server.mailboxCaches);
    }
    this.#state = next;
  }

  /**
   * The session speaks UTF-8 in mailbox names and quoted strings: UTF8=ACCEPT, or
   * IMAP4rev2, where names are UTF-8 (RFC 9051 §5.1) and QUOTED-CHAR may be 8-bit (§9).
   */
  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT') || this.enabled.has('IMAP4REV2');
  }

  get authenticated(): boolean {
    return this.state.kind === 'authenticated' || this.state.kind === 'selected';
  }

  #armTimeout(): void {
    const cfg = this.server.config;
    this.#socket.setTimeout(
      (this.authenticated ? cfg.idle_timeout_seconds : cfg.login_timeout_seconds) * 1000,
    );
  }

  /** Called when the session state changes (login, logout). */
  stateChanged(): void {
    this.reader.setAuthenticated(this.authenticated);
    this.#armTimeout();
  }

  // ---- output ----

  /**
   * Queue output; it goes out in one write per burst (a command's whole response, or
   * OUT_CHUNK at a time), so a response is a few TLS records and TCP segments, not
   * one per line (TCP_NODELAY is on, see net/protocol-listeners.ts).
   */
  write(data: string | Buffer): boolean {
    if (this.closed) return false;
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (b.length >= OUT_CHUNK) {
      this.flush();
      this.#send(b);
      return true;
    }
    this.#out.push(b);
    this.#outBytes += b.length;
    if (this.#outBytes >= OUT_CHUNK) this.flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.flush();
      });
    }
    return true;
  }

  /** Send what write() queued now. */
  flush(): void {
    if (this.#out.length === 0 || this.closed) return;
    const chunk = this.#out.length === 1 ? this.#out[0]! : Buffer.concat(this.#out, this.#outBytes);
    this.#out = [];
    this.#outBytes = 0;
    this.#send(chunk);
  }

  #send(chunk: Buffer): void {
    const deflate = this.#deflate;
    if (deflate === null) {
      this.#socket.write(chunk);
      return;
    }
    // A sync flush after each burst: the client must see each response whole.
    deflate.write(chunk);
    deflate.flush(zlib.constants.Z_SYNC_FLUSH);
  }

  untagged(text: string): void {
    this.write(`* ${text}\r\n`);
  }

  /** Resolves once buffered output has drained (call between large responses). */
  async drain(): Promise<void> {
    this.flush();
    if (this.#deflate !== null) {
      await new Promise<void>((resolve) =>
        this.#deflate!.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()),
      );
    }
    if (this.closed || !this.#socket.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }

  /** Send `* BYE text` and close. */
  bye(text: string): void {
    if (this.closed) return;
    this.write(`* BYE ${text}\r\n`);
    this.end();
  }

  end(): void {
    if (this.closed) return;
    this.flush();
    const socket = this.#socket;
    if (this.#deflate !== null) {
      this.#deflate.end(() => socket.end());
    } else socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
    this.#closed();
  }

  #closed(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.connections.delete(this);
    if (this.#state.kind === 'selected') this.state = { kind: 'logout' };
    this.#continuation?.(null);
    this.#continuation = null;
    this.#idleDone?.();
    this.#idleDone = null;
    this.server.onConnectionClosed(this);
  }

  // ---- input ----

  #receive(chunk: Buffer): void {
    this.#inbox.push(chunk);
    this.#inboxBytes += chunk.length;
    if (this.#inboxBytes > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#source.pause();
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.closed && !this.#busy) {
        const event = this.reader.next();
        if (event !== undefined) {
          this.#handle(event);
          continue;
        }
        const chunk = this.#inbox.shift();
        if (chunk === undefined) break;
        this.#inboxBytes -= chunk.length;
        this.reader.push(chunk);
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#paused && this.#inboxBytes < LOW_WATER && !this.closed) {
      this.#paused = false;
      this.#source.resume();
    }
  }

  #handle(event: FrameEvent): void {
    switch (event.kind) {
      case 'continue':
        this.write('+ Ready for literal data\r\n');
        return;
      case 'error': {
        if (this.#continuation !== null) {
          const cont = this.#continuation;
          this.#continuation = null;
          cont(null);
        }
        const e = event.error;
        const tag = event.tag ?? '*';
        const code = e.responseCode ? `[${e.responseCode}] ` : '';
        const no = e.responseCode === 'TOOBIG' && e.message === 'Literal too big';
        this.write(`${tag} ${no ? 'NO' : 'BAD'} ${code}${e.message}\r\n`);
        if (event.fatal) this.bye('Connection closed after a protocol error');
        else this.countBad();
        return;
      }
      case 'command': {
        const first = event.parts[0];
        const line = typeof first === 'string' ? first : '';
        if (this.#continuation !== null) {
          const cont = this.#continuation;
          this.#continuation = null;
          cont(event.parts.length === 1 ? line : null);
          return;
        }
        if (this.#idleDone !== null) {
          const done = this.#idleDone;
          this.#idleDone = null;
          this.#busy = true;
          if (line.toUpperCase() !== 'DONE' || event.parts.length !== 1) {
            this.write('* BAD Expected DONE to end IDLE\r\n');
          }
          done();
          return;
        }
        this.#busy = true;
        dispatch(this, event.parts).finally(() => {
          this.#busy = false;
          this.#pump();
        });
        return;
      }
    }
  }

  /** Count a BAD; too many end the session (a client stuck in a loop, or a scanner). */
  countBad(): void {
    this.badCommands++;
    if (this.badCommands > this.server.config.max_bad_commands) this.bye('Too many invalid commands');
  }

  /** AUTHENTICATE: send a continuation and wait for the client's next line (null: cancelled). */
  continuation(text: string): Promise<string | null> {
    return new Promise((resolve) => {
      this.#continuation = resolve;
      this.write(`+ ${text}\r\n`);
      this.#busy = false;
      setImmediate(() => this.#pump());
    }).then((line) => {
      this.#busy = true;
      return line as string | null;
    });
  }

  /** IDLE: let the reader run until the client sends DONE. */
  idle(): Promise<void> {
    // Registered by mailbox, so a store change reaches only the sessions idling on it.
    const s = this.#state;
    const idlers = this.server.idlers;
    const key = s.kind === 'selected' ? s.mailbox.id : null;
    if (key !== null) {
      const set = idlers.get(key) ?? new Set<ImapConnection>();
      idlers.set(key, set);
      set.add(this);
    }
    return new Promise<void>((resolve) => {
      this.#idleDone = resolve;
      this.#busy = false;
      setImmediate(() => this.#pump());
    }).finally(() => {
      if (key === null) return;
      const set = idlers.get(key);
      set?.delete(this);
      if (set?.size === 0) idlers.delete(key);
    });
  }

  get idling(): boolean {
    return this.#idleDone !== null;
  }

  #notifying: Promise<void> = Promise.resolve();

  /** While idling: bring the selected mailbox up to date and send what changed (serialised). */
  notifyChanges(): Promise<void> {
    this.#notifying = this.#notifying.then(async () => {
      const s = this.state;
      if (this.closed || s.kind !== 'selected') return;
      try {
        const lines = await s.mailbox.sync(this.server.store, {
          allowExpunge: true,
          condstore: this.condstore,
          qresync: this.enabled.has('QRESYNC'),
        });
        for (const l of lines) this.untagged(l);
        if (s.mailbox.gone) this.bye('The selected mailbox was deleted or renamed elsewhere');
      } catch (e) {
        this.log.error({ err: e }, 'imap: change notification failed');
      }
    });
    return this.#notifying;
  }

  // ---- transport changes ----

  /** After `OK Begin TLS negotiation now` was written: discard all input and hand the socket to TLS. */
  startTls(): void {
    this.flush(); // the tagged OK goes out in cleartext, before the handshake
    this.reader.reset();
    this.#inbox = [];
    this.#inboxBytes = 0;
    const raw = this.#socket;
    raw.off('data', this.#onData);
    const secure = upgradeServerSocket(raw, this.server.certificates);
    secure.on('secure', () => {
      this.secure = true;
      this.log.debug({ protocol: secure.getProtocol() }, 'imap: TLS started');
    });
    secure.on('error', (e) => {
      this.log.info({ err: { message: e.message } }, 'imap: TLS handshake failed');
      secure.destroy();
      this.#closed();
    });
    this.#socket = secure;
    this.#source = secure;
    secure.on('data', this.#onData);
    secure.on('close', () => this.#closed());
    secure.on('timeout', () => this.bye('Autologout; idle for too long'));
    this.#armTimeout();
  }

  /** RFC 4978: after the tagged OK, both directions are raw DEFLATE streams. */
  startCompression(): void {
    this.flush(); // the tagged OK goes out uncompressed
    const inflate = zlib.createInflateRaw({ chunkSize: 16 * 1024 });
    const deflate = zlib.createDeflateRaw({ level: 6 });
    deflate.on('data', (b: Buffer) => {
      if (!this.#socket.destroyed) this.#socket.write(b);
    });
    this.#socket.off('data', this.#onData);
    this.#socket.on('data', (b: Buffer) => {
      if (!inflate.write(b)) this.#socket.pause();
    });
    inflate.on('drain', () => this.#socket.resume());
    inflate.on('data', this.#onData);
    inflate.on('error', () => this.bye('Invalid compressed data'));
    this.#source = inflate;
    this.#deflate = deflate;
    this.compressed = true;
  }
}
