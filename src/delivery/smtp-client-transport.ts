// The socket under the outbound SMTP client: connect, write with backpressure, read
// one framed reply at a time with a deadline, and hand the raw socket over for
// STARTTLS. It knows nothing of commands; smtp-client.ts does.
//
// Invariants:
// - A failure (timeout, close, framing error, socket error) is sticky: the socket is
//   destroyed, every waiting and later read/write rejects with the same error.
// - Each read has its own deadline (RFC 5321 §4.5.3.2 times are per reply); each write
//   that hits backpressure waits for 'drain' under the data-block deadline.
// - detachForTls() refuses if any byte beyond the last reply read is buffered: a server
//   that sent more than its STARTTLS reply is injecting (CVE-2011-0411 class), and those
//   bytes must never be read as post-TLS replies.

import net from 'node:net';
import type tls from 'node:tls';
import { SmtpClientError, type SmtpPhase } from './smtp-client-errors.ts';
import { ReplyFramingError, type ReplyLimits, ReplyReader, type SmtpReply } from './smtp-client-reply.ts';

type Waiter = { resolve: (r: SmtpReply) => void; reject: (e: SmtpClientError) => void; phase: SmtpPhase };

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly connectTimeoutMs: number;
  readonly replyLimits?: Partial<ReplyLimits>;
}

export class SmtpTransport {
  #socket: net.Socket;
  #reader: ReplyReader;
  readonly #replyLimits: Partial<ReplyLimits>;
  #waiter: Waiter | null = null;
  #failure: SmtpClientError | null = null;
  #phase: SmtpPhase = 'connect';
  readonly #onData = (chunk: Buffer) => this.#data(chunk);
  readonly #onClose = () =>
    this.#fail(new SmtpClientError('closed', this.#phase, 'connection closed by the server'));
  readonly #onError = (e: Error) =>
    this.#fail(new SmtpClientError('closed', this.#phase, `connection error: ${e.message}`, { cause: e }));

  private constructor(socket: net.Socket, replyLimits: Partial<ReplyLimits>) {
    this.#socket = socket;
    this.#replyLimits = replyLimits;
    this.#reader = new ReplyReader(replyLimits);
    this.#attach(socket);
  }

  static connect(o: ConnectOptions): Promise<SmtpTransport> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: o.host,
        port: o.port,
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new SmtpClientError(
            'connect',
            'connect',
            `no connection to ${o.host}:${o.port} within ${o.connectTimeoutMs} ms`,
          ),
        );
      }, o.connectTimeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(
          new SmtpClientError('connect', 'connect', `cannot connect to ${o.host}:${o.port}: ${e.message}`, {
            cause: e,
          }),
        );
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new SmtpTransport(socket, o.replyLimits ?? {}));
      });
    });
  }

  #attach(socket: net.Socket): void {
    socket.on('data', this.#onData);
    socket.on('close', this.#onClose);
    socket.on('error', this.#onError);
  }

  #detach(socket: net.Socket): void {
    socket.off('data', this.#onData);
    socket.off('close', this.#onClose);
    socket.off('error', this.#onError);
  }

  #data(chunk: Buffer): void {
    try {
      this.#reader.feed(chunk);
    } catch (e) {
      const msg = e instanceof ReplyFramingError ? e.message : String(e);
      this.#fail(new SmtpClientError('protocol', this.#phase, `bad reply: ${msg}`, { cause: e }));
      return;
    }
    this.#deliver();
  }

  #deliver(): void {
    if (this.#waiter === null) return;
    const reply = this.#reader.take();
    if (reply === undefined) return;
    const w = this.#waiter;
    this.#waiter = null;
    w.resolve(reply);
  }

  #fail(e: SmtpClientError): void {
    if (this.#failure !== null) return;
    this.#failure = e;
    this.#socket.destroy();
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(new SmtpClientError(e.kind, w.phase, e.message, { cause: e.cause }));
  }

  /** The failure that ended the connection, if any. */
  get failure(): SmtpClientError | null {
    return this.#failure;
  }

  /** Bytes received beyond the replies already read (complete or partial replies). */
  get pendingBytes(): number {
    return this.#reader.pendingBytes;
  }

  get socket(): net.Socket {
    return this.#socket;
  }

  /** The next reply, within `timeoutMs`; `phase` names the wait in errors. */
  read(phase: SmtpPhase, timeoutMs: number): Promise<SmtpReply> {
    this.#phase = phase;
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#waiter !== null)
      return Promise.reject(new SmtpClientError('usage', phase, 'a read is already waiting'));
    return new Promise<SmtpReply>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#fail(new SmtpClientError('timeout', phase, `no ${phase} reply within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiter = {
        phase,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#deliver();
    });
  }

  /** Write, waiting for 'drain' when the socket buffer is full (within `timeoutMs`). */
  async write(phase: SmtpPhase, data: string | Buffer, timeoutMs: number): Promise<void> {
    this.#phase = phase;
    if (this.#failure !== null) throw this.#failure;
    if (this.#socket.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (e: SmtpClientError | null) => {
        clearTimeout(timer);
        this.#socket.off('drain', onDrain);
        this.#socket.off('close', onClose);
        if (e === null) resolve();
        else reject(e);
      };
      const onDrain = () => done(null);
      const onClose = () =>
        done(this.#failure ?? new SmtpClientError('closed', phase, 'connection closed while writing'));
      const timer = setTimeout(() => {
        this.#fail(new SmtpClientError('timeout', phase, `write stalled for ${timeoutMs} ms`));
        done(this.#failure);
      }, timeoutMs);
      this.#socket.on('drain', onDrain);
      this.#socket.on('close', onClose);
    });
  }

  /**
   * Hand the cleartext socket to a TLS client (after the 220 to STARTTLS). Throws a
   * protocol error, and closes the connection, if the server sent anything more.
   */
  detachForTls(): net.Socket {
    if (this.#failure !== null) throw this.#failure;
    const pending = this.#reader.pendingBytes + this.#socket.readableLength;
    if (pending > 0) {
      this.#fail(
        new SmtpClientError(
          'protocol',
          'starttls',
          `server sent ${pending} bytes after its STARTTLS reply (response injection); connection aborted`,
        ),
      );
      throw this.#failure;
    }
    this.#detach(this.#socket);
    return this.#socket;
  }

  /** Continue over the TLS socket; everything read before it is forgotten. */
  attachTls(secure: tls.TLSSocket): void {
    this.#socket = secure;
    this.#reader = new ReplyReader(this.#replyLimits);
    this.#attach(secure);
  }

  /** Mark the connection failed from outside (handshake failure, verify refusal). */
  abort(e: SmtpClientError): void {
    this.#fail(e);
  }

  /** Close politely: end our side, destroy if the peer does not close within `timeoutMs`. */
  async close(timeoutMs = 1000): Promise<void> {
    const socket = this.#socket;
    if (this.#failure === null)
      this.#failure = new SmtpClientError('usage', this.#phase, 'connection closed');
    if (socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }
}
