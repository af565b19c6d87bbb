// A scriptable raw SMTP server for client tests: hostile and odd next hops that no
// real MTA would be (replies injected after STARTTLS, reply bombs, silence, replies
// split across packets, 421 mid-session). Each connection runs a script against a
// PeerSession; `esmtp()` is a plain well-behaved script whose steps can be overridden.
// Everything a client sends is kept in `transcript` (latin1), with "<TLS>" marking
// where the handshake happened, so a test can assert what crossed in cleartext.
// PeerKit bundles what the client test files share: a certificate, peers closed
// after the file, a client opened with short timeouts, a default message.

import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import {
  type OutboundMessage,
  SmtpClientConnection,
  SmtpClientError,
  type SmtpClientOptions,
  type SmtpClientTimeouts,
} from '../../src/delivery/smtp-client.ts';
import { generateDevCertificate } from '../../src/tls/dev-certificate.ts';
import { tlsPolicyOptions } from '../../src/tls/policy.ts';

export interface PeerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export class PeerSession {
  #socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  #ended = false;
  /** Everything received, latin1; "<TLS>" where STARTTLS completed. */
  transcript = '';
  /** Everything received before the TLS handshake. */
  get cleartext(): string {
    const i = this.transcript.indexOf('<TLS>');
    return i === -1 ? this.transcript : this.transcript.slice(0, i);
  }
  secure = false;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.transcript += chunk.toString('latin1');
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    const end = () => {
      this.#ended = true;
      this.#wake?.();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  async #waitFor<T>(take: () => T | null): Promise<T | null> {
    for (;;) {
      const v = take();
      if (v !== null) return v;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = null;
    }
  }

  /** The next command line without CRLF, or null when the client is gone. */
  readLine(): Promise<string | null> {
    return this.#waitFor(() => {
      const i = this.#buffer.indexOf('\r\n');
      if (i === -1) return null;
      const line = this.#buffer.subarray(0, i).toString('latin1');
      this.#buffer = this.#buffer.subarray(i + 2);
      return line;
    });
  }

  /** DATA content up to and without the final ".\r\n" (still dot-stuffed, as on the wire). */
  readData(): Promise<Buffer | null> {
    return this.#waitFor(() => {
      const framed = Buffer.concat([Buffer.from('\r\n'), this.#buffer]);
      const i = framed.indexOf('\r\n.\r\n');
      if (i === -1) return null;
      const data = framed.subarray(2, i + 2);
      this.#buffer = framed.subarray(i + 5);
      return data;
    });
  }

  /** True when a whole command line is already buffered (a pipelining server holds its replies then). */
  get hasLine(): boolean {
    return this.#buffer.includes('\r\n');
  }

  /** The client closed or the connection failed. */
  get ended(): boolean {
    return this.#ended;
  }

  write(data: string | Buffer): void {
    if (!this.#socket.destroyed) this.#socket.write(data);
  }

  /** Write in several packets (cut at the given offsets) with a pause between them. */
  async writeSplit(data: string, cuts: readonly number[], pauseMs = 20): Promise<void> {
    let pos = 0;
    for (const cut of [...cuts, data.length]) {
      this.write(data.slice(pos, cut));
      pos = cut;
      await sleep(pauseMs);
    }
  }

  /** Server side of STARTTLS: after the 220 was written. */
  async startTls(cert: PeerCertificate, overrides: tls.SecureContextOptions = {}): Promise<void> {
    const raw = this.#socket;
    raw.removeAllListeners('data');
    const secure = new tls.TLSSocket(raw, {
      isServer: true,
      ...tlsPolicyOptions(),
      cert: cert.certPem,
      key: cert.keyPem,
      ...overrides,
    });
    this.#buffer = Buffer.alloc(0);
    this.transcript += '<TLS>';
    await new Promise<void>((resolve, reject) => {
      secure.once('secure', resolve);
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.secure = true;
    this.#attach(secure);
  }

  close(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

export type PeerScript = (session: PeerSession) => Promise<void>;

export class SmtpPeer {
  readonly #server: net.Server;
  readonly sessions: PeerSession[] = [];
  readonly errors: unknown[] = [];
  port = 0;

  private constructor(script: PeerScript) {
    this.#server = net.createServer((socket) => {
      const s = new PeerSession(socket);
      this.sessions.push(s);
      script(s).then(
        () => s.close(),
        (e) => {
          this.errors.push(e);
          s.destroy();
        },
      );
    });
  }

  static async start(script: PeerScript): Promise<SmtpPeer> {
    const peer = new SmtpPeer(script);
    await new Promise<void>((resolve) => peer.#server.listen(0, '127.0.0.1', resolve));
    peer.port = (peer.#server.address() as net.AddressInfo).port;
    return peer;
  }

  close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A message as the peer received it. */
export interface PeerMessage {
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  /** Still dot-stuffed, as on the wire. */
  readonly data: Buffer;
}

export interface EsmtpOptions {
  readonly greeting?: string;
  /** EHLO keywords after the first line; default PIPELINING, 8BITMIME, SMTPUTF8, SIZE 10000000, ENHANCEDSTATUSCODES. */
  readonly extensions?: readonly string[];
  /** Server TLS options replacing the policy's (a weak or old peer). */
  readonly tlsOverrides?: tls.SecureContextOptions;
  /** EHLO keywords once TLS is up; default the same as `extensions`. */
  readonly extensionsAfterTls?: readonly string[];
  /** Offer STARTTLS with this certificate (until TLS is up). */
  readonly tls?: PeerCertificate;
  /** The raw reply to STARTTLS (default "220 2.0.0 Ready\r\n"); a test may inject more. */
  readonly starttlsReply?: string;
  /** Reply to EHLO as a pre-ESMTP server would (HELO then works). */
  readonly refuseEhlo?: boolean;
  /** Reply to one command line; undefined = the default reply. */
  readonly reply?: (line: string, session: PeerSession) => string | undefined;
  /**
   * Hold the replies to MAIL/RCPT while more commands are buffered (RFC 2920 §3.2), then
   * write them all in several packets cut mid-line (pipelining tests).
   */
  readonly splitReplies?: boolean;
  /** Messages received, across sessions. */
  readonly messages?: PeerMessage[];
}

/** A well-behaved ESMTP server script with hooks. */
export function esmtp(o: EsmtpOptions = {}): PeerScript {
  const extensions = o.extensions ?? [
    'PIPELINING',
    '8BITMIME',
    'SMTPUTF8',
    'SIZE 10000000',
    'ENHANCEDSTATUSCODES',
  ];
  return async (s) => {
    s.write(o.greeting ?? '220 peer.test ESMTP\r\n');
    let mailFrom = '';
    let rcpts: string[] = [];
    let pendingReplies = '';
    const send = async (reply: string, batchable: boolean) => {
      if (!o.splitReplies || !batchable) return s.write(reply);
      pendingReplies += reply;
      if (s.hasLine) return;
      const all = pendingReplies;
      pendingReplies = '';
      await s.writeSplit(all, [3, Math.floor(all.length / 2), all.length - 2]);
    };
    for (;;) {
      const line = await s.readLine();
      if (line === null) return;
      const verb = line.slice(0, 4).toUpperCase();
      const custom = o.reply?.(line, s);
      if (custom !== undefined) {
        await send(custom, verb === 'MAIL' || verb === 'RCPT');
        if (custom.startsWith('421')) return;
        if (verb === 'MAIL' && custom.startsWith('2')) mailFrom = line;
        if (verb === 'RCPT' && custom.startsWith('2')) rcpts.push(line);
        continue;
      }
      switch (verb) {
        case 'EHLO': {
          if (o.refuseEhlo) {
            s.write('502 5.5.1 EHLO not implemented\r\n');
            break;
          }
          const base = s.secure ? (o.extensionsAfterTls ?? extensions) : extensions;
          const ext = [...base, ...(o.tls && !s.secure ? ['STARTTLS'] : [])];
          s.write(
            ['peer.test greets you', ...ext]
              .map((e, i, a) => `250${i === a.length - 1 ? ' ' : '-'}${e}\r\n`)
              .join(''),
          );
          break;
        }
        case 'HELO':
          s.write('250 peer.test\r\n');
          break;
        case 'STAR':
          if (!o.tls || s.secure) {
            s.write('502 5.5.1 no\r\n');
            break;
          }
          s.write(o.starttlsReply ?? '220 2.0.0 Ready\r\n');
          await s.startTls(o.tls, o.tlsOverrides);
          break;
        case 'MAIL':
          mailFrom = line;
          rcpts = [];
          await send('250 2.1.0 ok\r\n', true);
          break;
        case 'RCPT':
          rcpts.push(line);
          await send('250 2.1.5 ok\r\n', true);
          break;
        case 'DATA': {
          if (rcpts.length === 0) {
            await send('554 5.5.1 no valid recipients\r\n', false);
            break;
          }
          await send('354 go ahead\r\n', false);
          const data = await s.readData();
          if (data === null) return;
          o.messages?.push({ mailFrom, rcptTo: rcpts, data });
          s.write('250 2.0.0 queued\r\n');
          rcpts = [];
          break;
        }
        case 'RSET':
          rcpts = [];
          s.write('250 2.0.0 ok\r\n');
          break;
        case 'QUIT':
          s.write('221 2.0.0 bye\r\n');
          return;
        default:
          s.write('500 5.5.2 unknown command\r\n');
      }
    }
  };
}

/** Short timeouts for client tests (the RFC defaults are minutes). */
export const FAST_TIMEOUTS: SmtpClientTimeouts = {
  connect: 2000,
  greeting: 2000,
  command: 2000,
  tlsHandshake: 2000,
  mail: 2000,
  rcpt: 2000,
  dataInit: 2000,
  dataBlock: 2000,
  dataFinal: 2000,
};

/** Wait until the peer's last session has seen QUIT or ended (the peer runs on its own); its transcript. */
export async function settled(p: SmtpPeer): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const s = p.sessions.at(-1);
    if (s?.ended || s?.transcript.includes('QUIT')) break;
    await sleep(10);
  }
  return p.sessions.at(-1)?.transcript ?? '';
}

/** An assert.rejects validator for an SmtpClientError of `kind` whose message matches `re`. */
export function isClientError(kind: SmtpClientError['kind'], re?: RegExp) {
  return (e: unknown): true => {
    assert.ok(e instanceof SmtpClientError, String(e));
    assert.equal(e.kind, kind, e.message);
    if (re) assert.match(e.message, re);
    return true;
  };
}

export class PeerKit {
  readonly cert: PeerCertificate;
  readonly #peers: SmtpPeer[] = [];

  private constructor(cert: PeerCertificate) {
    this.cert = cert;
  }

  /** A kit with a fresh certificate for mx.peer.test (call in before()). */
  static async create(): Promise<PeerKit> {
    return new PeerKit(await generateDevCertificate({ hostnames: ['mx.peer.test'] }));
  }

  async peer(script: PeerScript): Promise<SmtpPeer> {
    const p = await SmtpPeer.start(script);
    this.#peers.push(p);
    return p;
  }

  /** A client connection to the peer: servername mx.peer.test, opportunistic TLS, FAST_TIMEOUTS. */
  open(p: SmtpPeer, extra: Partial<SmtpClientOptions> = {}): Promise<SmtpClientConnection> {
    return SmtpClientConnection.open({
      host: '127.0.0.1',
      port: p.port,
      servername: 'mx.peer.test',
      localName: 'sealpost.example.com',
      timeouts: FAST_TIMEOUTS,
      tls: { mode: 'opportunistic' },
      ...extra,
    });
  }

  /** A small ASCII message from a@example.com to b@peer.test; `over` replaces fields. */
  message(over: Partial<OutboundMessage> = {}): OutboundMessage {
    return {
      mailFrom: 'a@example.com',
      rcptTo: ['b@peer.test'],
      data: Buffer.from('From: a@example.com\r\nTo: b@peer.test\r\nSubject: hi\r\n\r\nHello.\r\n'),
      requireUtf8: false,
      eightBit: false,
      ...over,
    };
  }

  async close(): Promise<void> {
    for (const p of this.#peers.splice(0)) await p.close();
  }
}
