// The outbound SMTP client: hands a message to the next hop (RFC 5321 client side).
// Written on node:net/node:tls; framing in smtp-client-reply.ts, DATA encoding in
// smtp-client-data.ts, the envelope and downgrade rules in smtp-client-envelope.ts,
// STARTTLS in smtp-client-tls.ts, MAIL/RCPT/DATA in smtp-client-transaction.ts, the
// socket in smtp-client-transport.ts. This file: the session (greeting, EHLO/HELO,
// STARTTLS policy, QUIT).
//
// API:
//   const conn = await SmtpClientConnection.open({ host, port, servername, localName,
//     localAddress?, timeouts?, tls: { mode: 'opportunistic' | 'required' | 'none',
//     verify?: (socket) => ({ ok, reason? }), ca? } });
//   const result = await conn.send({ mailFrom, rcptTo, data, requireUtf8, eightBit, envid?, ret? });
//   // result.recipients[i] = { address, code, enhanced, text, kind: 'ok'|'temporary'|'permanent', phase }
//   await conn.quit();
// open() throws SmtpClientError (smtp-client-errors.ts): kind 'tls' with
// `tls.cleartextRetryAllowed` says whether the caller may retry the host in cleartext
// on a NEW connection (opportunistic mode only); this class never falls back itself.
// send() never throws for the next hop's behaviour: every recipient gets an outcome,
// and a connection failure mid-transaction gives the pending recipients a temporary
// outcome (phase 'connection') and `result.error`; only misuse (send while not
// 'ready') throws.
//
// Invariants:
// - With tls.mode 'required', no MAIL FROM (or anything after EHLO) is written until
//   TLS is up and `verify` said ok; otherwise open() fails and the socket is closed.
// - After STARTTLS everything learned before it is forgotten: the capabilities come
//   from the EHLO sent over TLS (RFC 3207 §4.2); bytes after the 220 abort (injection).
// - Each transaction either ends with the final reply to DATA or with RSET; if RSET
//   fails the connection is closed. `state` is always 'ready', 'busy' or 'closed'.
// - Message content is never logged or put in an error.

import { type Capabilities, NO_CAPABILITIES, parseEhlo } from './smtp-client-envelope.ts';
import { SmtpClientError, type SmtpPhase } from './smtp-client-errors.ts';
import type { ReplyLimits, SmtpReply } from './smtp-client-reply.ts';
import {
  describeSession,
  handshake,
  pkixVerify,
  type TlsSession,
  type TlsSettings,
  type VerifyResult,
} from './smtp-client-tls.ts';
import {
  type OutboundMessage,
  replyError,
  runTransaction,
  type SendResult,
} from './smtp-client-transaction.ts';
import { SmtpTransport } from './smtp-client-transport.ts';

export type { Capabilities, Envelope, Recipient } from './smtp-client-envelope.ts';
export { SmtpClientError } from './smtp-client-errors.ts';
export type { SmtpReply } from './smtp-client-reply.ts';
export type { TlsSession, TlsSettings, VerifyResult } from './smtp-client-tls.ts';
export type { OutboundMessage, RecipientOutcome, SendResult } from './smtp-client-transaction.ts';

/** Milliseconds. Defaults are RFC 5321 §4.5.3.2; `command` covers EHLO/HELO/STARTTLS/RSET/QUIT. */
export interface SmtpClientTimeouts {
  readonly connect: number;
  readonly greeting: number;
  readonly command: number;
  readonly tlsHandshake: number;
  readonly mail: number;
  readonly rcpt: number;
  readonly dataInit: number;
  readonly dataBlock: number;
  readonly dataFinal: number;
}

const MIN = 60_000;
export const DEFAULT_TIMEOUTS: SmtpClientTimeouts = Object.freeze({
  connect: 30_000,
  greeting: 5 * MIN,
  command: 5 * MIN,
  tlsHandshake: MIN,
  mail: 5 * MIN,
  rcpt: 5 * MIN,
  dataInit: 2 * MIN,
  dataBlock: 3 * MIN,
  dataFinal: 10 * MIN,
});

export interface SmtpClientOptions {
  readonly host: string;
  readonly port: number;
  /** The name the certificate must carry and SNI sends (the MX host name); default `host`. */
  readonly servername?: string;
  /** Our EHLO name (RFC 5321 §4.1.1.1: the client's FQDN). */
  readonly localName: string;
  readonly localAddress?: string;
  readonly timeouts?: Partial<SmtpClientTimeouts>;
  readonly tls: TlsSettings;
  readonly replyLimits?: Partial<ReplyLimits>;
}

export type ConnectionState = 'ready' | 'busy' | 'closed';

export class SmtpClientConnection {
  readonly #transport: SmtpTransport;
  readonly #timeouts: SmtpClientTimeouts;
  readonly #options: SmtpClientOptions;
  #caps: Capabilities = NO_CAPABILITIES;
  #tls: TlsSession | null = null;
  #greeting: SmtpReply | null = null;
  #state: ConnectionState = 'busy';

  private constructor(transport: SmtpTransport, options: SmtpClientOptions) {
    this.#transport = transport;
    this.#options = options;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  }

  /** Connect, read the greeting, EHLO, STARTTLS per `tls.mode`; resolves when ready for send(). */
  static async open(options: SmtpClientOptions): Promise<SmtpClientConnection> {
    // RFC 5321 §4.1.1.1: a domain or address literal; never anything that could end the line.
    if (!/^[\x21-\x7e]{1,255}$/.test(options.localName)) {
      throw new SmtpClientError('usage', 'connect', 'localName must be a host name or address literal');
    }
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    const transport = await SmtpTransport.connect({
      host: options.host,
      port: options.port,
      connectTimeoutMs: timeouts.connect,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      ...(options.replyLimits === undefined ? {} : { replyLimits: options.replyLimits }),
    });
    const conn = new SmtpClientConnection(transport, options);
    try {
      await conn.#start();
    } catch (e) {
      conn.#state = 'closed';
      transport.abort(
        e instanceof SmtpClientError ? e : new SmtpClientError('protocol', 'connect', String(e)),
      );
      throw e;
    }
    conn.#state = 'ready';
    return conn;
  }

  /** 'closed' as soon as the connection failed, even while idle between transactions. */
  get state(): ConnectionState {
    return this.#transport.failure !== null ? 'closed' : this.#state;
  }

  /** The capabilities of the current (post-TLS, if any) EHLO. */
  get capabilities(): Capabilities {
    return this.#caps;
  }

  /** The TLS session, or null for a cleartext connection. */
  get tls(): TlsSession | null {
    return this.#tls;
  }

  get greeting(): SmtpReply | null {
    return this.#greeting;
  }

  async #start(): Promise<void> {
    const t = this.#timeouts;
    const greeting = await this.#transport.read('greeting', t.greeting);
    this.#greeting = greeting;
    if (greeting.code !== 220) {
      if (greeting.code !== 421) await this.#quietQuit();
      throw new SmtpClientError('reply', 'greeting', `greeting refused: ${greeting.code} ${greeting.text}`, {
        reply: greeting,
      });
    }
    this.#caps = await this.#hello();
    const mode = this.#options.tls.mode;
    if (mode === 'none') return;
    if (!this.#caps.startTls) {
      if (mode === 'opportunistic') return;
      await this.#quietQuit();
      throw tlsError(
        'starttls',
        'not-offered',
        false,
        'TLS is required and the server does not offer STARTTLS',
      );
    }
    await this.#startTls();
  }

  /** EHLO, or HELO if EHLO gets a 5xx (RFC 5321 §3.2); a refused HELO ends the session. */
  async #hello(): Promise<Capabilities> {
    const name = this.#options.localName;
    const ehlo = await this.#command('ehlo', `EHLO ${name}`, this.#timeouts.command);
    if (ehlo.code === 250) return parseEhlo(ehlo);
    if (ehlo.code < 500) throw replyError('ehlo', ehlo);
    const helo = await this.#command('helo', `HELO ${name}`, this.#timeouts.command);
    if (helo.code === 250) return NO_CAPABILITIES;
    throw replyError('helo', helo);
  }

  async #startTls(): Promise<void> {
    const { mode, verify = pkixVerify, ca } = this.#options.tls;
    const required = mode === 'required';
    const reply = await this.#command('starttls', 'STARTTLS', this.#timeouts.command);
    if (reply.code !== 220) {
      if (reply.code === 421) throw replyError('starttls', reply);
      // RFC 3207 §4: a refused STARTTLS leaves the cleartext session usable.
      if (!required) return;
      await this.#quietQuit();
      throw tlsError('starttls', 'refused', false, `STARTTLS refused: ${reply.code} ${reply.text}`, reply);
    }
    const raw = this.#transport.detachForTls(); // throws on injected bytes
    const servername = this.#options.servername ?? this.#options.host;
    let secure: Awaited<ReturnType<typeof handshake>>;
    try {
      secure = await handshake(raw, { servername, ca, timeoutMs: this.#timeouts.tlsHandshake });
    } catch (e) {
      throw tlsError(
        'tls-handshake',
        'handshake',
        !required,
        `TLS handshake failed: ${(e as Error).message}`,
      );
    }
    let decision: VerifyResult;
    try {
      decision = verify(secure);
    } catch (e) {
      decision = { ok: false, reason: `verify callback failed: ${(e as Error).message}` };
    }
    this.#transport.attachTls(secure);
    this.#tls = describeSession(secure, decision);
    if (required && !decision.ok) {
      throw tlsError(
        'tls-verify',
        'verify',
        false,
        `certificate refused: ${this.#tls.verifyReason}`,
        undefined,
        this.#tls.verifyResult,
      );
    }
    this.#caps = NO_CAPABILITIES; // RFC 3207 §4.2: forget what the cleartext EHLO said
    this.#caps = await this.#hello();
  }

  async #command(phase: SmtpPhase, line: string, timeoutMs: number): Promise<SmtpReply> {
    await this.#transport.write(phase, `${line}\r\n`, this.#timeouts.dataBlock);
    return this.#transport.read(phase, timeoutMs);
  }

  /** QUIT on a session we are abandoning; its failure does not matter. */
  async #quietQuit(): Promise<void> {
    try {
      await this.#command('quit', 'QUIT', Math.min(this.#timeouts.command, 5000));
    } catch {
      // the session is ending either way
    }
  }

  /** Send one message; see the header for the result's meaning. Throws only when not 'ready'. */
  async send(message: OutboundMessage): Promise<SendResult> {
    const state = this.state;
    if (state !== 'ready')
      throw new SmtpClientError('usage', 'mail', `send() on a connection that is ${state}`);
    this.#state = 'busy';
    const result = await runTransaction(
      { transport: this.#transport, caps: this.#caps, timeouts: this.#timeouts },
      message,
    );
    this.#state = result.error === null ? 'ready' : 'closed';
    return result;
  }

  /** QUIT and close (RFC 5321 §4.1.1.10); safe to call in any state. */
  async quit(): Promise<void> {
    if (this.state === 'busy') return this.destroy(); // a reply is awaited: QUIT would be misread
    if (this.state === 'closed') return;
    this.#state = 'closed';
    await this.#quietQuit();
    await this.#transport.close();
  }

  /** Drop the connection at once (shutdown); no QUIT. */
  destroy(): void {
    this.#state = 'closed';
    this.#transport.abort(new SmtpClientError('usage', 'quit', 'connection destroyed'));
  }
}

function tlsError(
  phase: SmtpPhase,
  reason: 'not-offered' | 'refused' | 'handshake' | 'verify',
  cleartextRetryAllowed: boolean,
  detail: string,
  reply?: SmtpReply,
  verifyResult: string | null = null,
): SmtpClientError {
  return new SmtpClientError('tls', phase, detail, {
    tls: { reason, cleartextRetryAllowed, detail, ...(verifyResult === null ? {} : { verifyResult }) },
    ...(reply === undefined ? {} : { reply }),
  });
}
