// The outbound SMTP client: hands a message to the next hop (RFC 5321 client side).
// Written on node:net/node:tls; framing in smtp-client-reply.ts, DATA encoding in
// smtp-client-data.ts, the envelope and downgrade rules in smtp-client-envelope.ts,
// STARTTLS in smtp-client-tls.ts.
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

import { encodeData, hasEightBit, wireSize } from './smtp-client-data.ts';
import {
  type Capabilities,
  type Envelope,
  type LocalRefusal,
  NO_CAPABILITIES,
  parseEhlo,
  planTransaction,
} from './smtp-client-envelope.ts';
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
import { SmtpTransport } from './smtp-client-transport.ts';

export type { Capabilities, Envelope, Recipient } from './smtp-client-envelope.ts';
export { SmtpClientError } from './smtp-client-errors.ts';
export type { SmtpReply } from './smtp-client-reply.ts';
export type { TlsSession, TlsSettings, VerifyResult } from './smtp-client-tls.ts';

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

export interface OutboundMessage extends Envelope {
  /** The message as stored (header and body); line ends are normalised and dots stuffed on the way out. */
  readonly data: Uint8Array;
}

export interface RecipientOutcome {
  readonly address: string;
  readonly code: number;
  readonly enhanced: string | null;
  readonly text: string;
  readonly kind: 'ok' | 'temporary' | 'permanent';
  /** Where the outcome was decided: locally, by the reply to MAIL/RCPT/DATA, or by a lost connection. */
  readonly phase: 'local' | 'mail' | 'rcpt' | 'data' | 'connection';
}

export interface SendResult {
  /** One outcome per recipient, in the order given. */
  readonly recipients: readonly RecipientOutcome[];
  /** True once the content went out and a final reply was awaited (a timeout then may mean a duplicate). */
  readonly dataSent: boolean;
  /** The connection failure that ended this transaction, if any (the connection is then closed). */
  readonly error: SmtpClientError | null;
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

  get state(): ConnectionState {
    return this.#state;
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
      throw tlsError('tls-verify', 'verify', false, `certificate refused: ${this.#tls.verifyReason}`);
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

  /** Send one message; see the header for the result's meaning. */
  async send(message: OutboundMessage): Promise<SendResult> {
    if (this.#state !== 'ready') {
      throw new SmtpClientError('usage', 'mail', `send() on a connection that is ${this.#state}`);
    }
    this.#state = 'busy';
    const tx = new Transaction(message);
    try {
      await this.#transact(tx, message);
      this.#state = 'ready';
      return tx.result(null);
    } catch (e) {
      const err = e instanceof SmtpClientError ? e : new SmtpClientError('protocol', 'mail', String(e));
      this.#state = 'closed';
      this.#transport.abort(err);
      return tx.result(err);
    }
  }

  async #transact(tx: Transaction, message: OutboundMessage): Promise<void> {
    const t = this.#timeouts;
    const eightBit = message.eightBit || hasEightBit(message.data);
    const plan = planTransaction({
      envelope: message,
      size: wireSize(message.data),
      eightBit,
      caps: this.#caps,
    });
    if (!plan.ok) {
      tx.refuseAll(plan.refusal);
      return;
    }
    const sendable: number[] = [];
    plan.rcpts.forEach((r, i) => {
      if (typeof r === 'string') sendable.push(i);
      else tx.settle(i, r.code, r.enhanced, r.text, 'local');
    });
    if (sendable.length === 0) return;
    const rcptLines = sendable.map((i) => plan.rcpts[i] as string);

    let mail: SmtpReply;
    const rcptReplies: SmtpReply[] = [];
    if (this.#caps.pipelining) {
      // RFC 2920 §3.1: MAIL and every RCPT in one write, replies in order.
      const batch = [plan.mail, ...rcptLines].map((l) => `${l}\r\n`).join('');
      await this.#transport.write('mail', batch, t.dataBlock);
      mail = await this.#expectFinal('mail', t.mail);
      for (let k = 0; k < rcptLines.length; k++) {
        if (isClosing(mail) || isClosing(rcptReplies.at(-1))) break;
        rcptReplies.push(await this.#expectFinal('rcpt', t.rcpt));
      }
    } else {
      await this.#transport.write('mail', `${plan.mail}\r\n`, t.dataBlock);
      mail = await this.#expectFinal('mail', t.mail);
      if (mail.code < 400) {
        for (const line of rcptLines) {
          await this.#transport.write('rcpt', `${line}\r\n`, t.dataBlock);
          const r = await this.#expectFinal('rcpt', t.rcpt);
          rcptReplies.push(r);
          if (isClosing(r)) break;
        }
      }
    }
    if (mail.code >= 400) {
      for (const i of sendable) tx.settleReply(i, mail, 'mail');
      return this.#endWithoutData(mail);
    }
    const accepted: number[] = [];
    sendable.forEach((i, k) => {
      const r = rcptReplies[k];
      if (r === undefined) return; // after a 421: settled as a connection failure below
      if (r.code < 400) accepted.push(i);
      else tx.settleReply(i, r, 'rcpt');
    });
    const closing = rcptReplies.find(isClosing);
    if (closing !== undefined) throw replyError('rcpt', closing);
    if (accepted.length === 0) return this.#endWithoutData(mail);

    const go = await this.#command('data', 'DATA', t.dataInit);
    if (go.code !== 354) {
      if (go.code < 400) throw new SmtpClientError('protocol', 'data', `DATA answered ${go.code}, not 354`);
      for (const i of accepted) tx.settleReply(i, go, 'data');
      return this.#endWithoutData(go);
    }
    tx.dataSent = true;
    for (const chunk of encodeData(message.data))
      await this.#transport.write('data-block', chunk, t.dataBlock);
    const final = await this.#expectFinal('data-final', t.dataFinal);
    for (const i of accepted) tx.settleReply(i, final, 'data');
    if (isClosing(final)) throw replyError('data-final', final);
  }

  /** A reply that ends a command (2xx/4xx/5xx); a 1xx/3xx here is a protocol error. */
  async #expectFinal(phase: SmtpPhase, timeoutMs: number): Promise<SmtpReply> {
    const r = await this.#transport.read(phase, timeoutMs);
    if (r.code >= 300 && r.code < 400) {
      throw new SmtpClientError('protocol', phase, `unexpected ${r.code} reply to ${phase.toUpperCase()}`);
    }
    return r;
  }

  /** The transaction ends without DATA: RSET (RFC 5321 §4.1.1.5), or the server is closing. */
  async #endWithoutData(last: SmtpReply): Promise<void> {
    if (isClosing(last)) throw replyError('mail', last);
    const r = await this.#command('rset', 'RSET', this.#timeouts.command);
    if (r.code !== 250) throw replyError('rset', r);
  }

  /** QUIT and close (RFC 5321 §4.1.1.10); safe to call in any state. */
  async quit(): Promise<void> {
    if (this.#state === 'closed') return;
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

/** 421: the server is closing the transmission channel (RFC 5321 §3.8). */
function isClosing(r: SmtpReply | undefined): boolean {
  return r?.code === 421;
}

function replyError(phase: SmtpPhase, reply: SmtpReply): SmtpClientError {
  return new SmtpClientError('reply', phase, `${phase.toUpperCase()} refused: ${reply.code} ${reply.text}`, {
    reply,
  });
}

function tlsError(
  phase: SmtpPhase,
  reason: 'not-offered' | 'refused' | 'handshake' | 'verify',
  cleartextRetryAllowed: boolean,
  detail: string,
  reply?: SmtpReply,
): SmtpClientError {
  return new SmtpClientError('tls', phase, detail, {
    tls: { reason, cleartextRetryAllowed, detail },
    ...(reply === undefined ? {} : { reply }),
  });
}

/** The outcomes of one transaction as they are decided. */
class Transaction {
  readonly #addresses: readonly string[];
  readonly #outcomes: (RecipientOutcome | undefined)[];
  dataSent = false;

  constructor(message: OutboundMessage) {
    this.#addresses = message.rcptTo.map((r) => (typeof r === 'string' ? r : r.address));
    this.#outcomes = this.#addresses.map(() => undefined);
  }

  settle(
    i: number,
    code: number,
    enhanced: string | null,
    text: string,
    phase: RecipientOutcome['phase'],
  ): void {
    const kind = code < 400 ? 'ok' : code < 500 ? 'temporary' : 'permanent';
    this.#outcomes[i] = { address: this.#addresses[i]!, code, enhanced, text, kind, phase };
  }

  settleReply(i: number, r: SmtpReply, phase: RecipientOutcome['phase']): void {
    this.settle(i, r.code, r.enhanced, r.text, phase);
  }

  refuseAll(r: LocalRefusal): void {
    for (let i = 0; i < this.#addresses.length; i++) this.settle(i, r.code, r.enhanced, r.text, 'local');
  }

  /** Recipients still open when the connection failed get a temporary outcome. */
  result(error: SmtpClientError | null): SendResult {
    const recipients = this.#outcomes.map((o, i): RecipientOutcome => {
      if (o !== undefined) return o;
      const reply = error?.reply;
      return {
        address: this.#addresses[i]!,
        code: reply?.code ?? 451,
        enhanced: reply?.enhanced ?? (error?.kind === 'timeout' ? '4.4.1' : '4.4.2'),
        text: error?.message ?? 'transaction not completed',
        kind: 'temporary',
        phase: 'connection',
      };
    });
    return { recipients, dataSent: this.dataSent, error };
  }
}
