// Hostile input against the POP3 server, with raw sockets that send exactly the bytes
// a test gives them: credentials before TLS, command injection behind STLS (DESIGN
// invariant 3), over-long lines, bad message numbers, too many commands before
// login, broken SASL, pipelining, and the connection limit per address.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import {
  freePort,
  type InProcess,
  type Installation,
  install,
  PASSWORD,
  startInProcess,
} from '../support/server.ts';
import { message, RawSmtp } from '../support/smtp-raw.ts';
import { useWatchdog } from '../support/watchdog.ts';

const USER = 'alice@sealpost.test';

class RawPop3 {
  #socket: net.Socket;
  #buffer = '';
  #lines: string[] = [];
  #waiter: (() => void) | null = null;
  #ended = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  static async connect(port: number, secure: boolean): Promise<RawPop3> {
    const socket = secure
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    return new RawPop3(socket);
  }

  #attach(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      for (let eol = this.#buffer.indexOf('\r\n'); eol >= 0; eol = this.#buffer.indexOf('\r\n')) {
        this.#lines.push(this.#buffer.slice(0, eol));
        this.#buffer = this.#buffer.slice(eol + 2);
      }
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  /** The next line from the server, or null once it has closed the connection. */
  async line(timeoutMs = 10_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = this.#lines.shift();
      if (l !== undefined) return l;
      if (this.#ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a POP3 line');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Lines of a multi-line response body, up to (not including) the terminating ".". */
  async body(): Promise<string[]> {
    const out: string[] = [];
    for (let l = await this.line(); l !== '.'; l = await this.line()) {
      if (l === null) throw new Error('closed inside a multi-line response');
      out.push(l);
    }
    return out;
  }

  send(data: string | Buffer): void {
    this.#socket.write(data);
  }

  async cmd(line: string): Promise<string | null> {
    this.send(`${line}\r\n`);
    return this.line();
  }

  /** Bytes received and not yet read as lines (nothing must follow the STLS reply). */
  unread(): number {
    return this.#lines.length + this.#buffer.length;
  }

  async upgrade(): Promise<void> {
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#attach(secure);
  }

  /** Resolves true if the server closes the connection within the timeout. */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.line(deadline - Date.now()).catch(() => 'timeout')) === null) return true;
    }
    return false;
  }

  close(): void {
    this.#socket.destroy();
  }
}

async function deliver(port: number, body: string): Promise<void> {
  const { client } = await RawSmtp.connect(port);
  for (const c of [
    'EHLO client.example.org',
    'MAIL FROM:<sender@example.org>',
    `RCPT TO:<${USER}>`,
    'DATA',
  ]) {
    await client.cmd(c);
  }
  assert.equal((await client.cmd(`${message({ body })}.`)).code, 250);
  client.close();
}

async function loggedIn(port: number): Promise<RawPop3> {
  const c = await RawPop3.connect(port, true);
  assert.equal(await c.line(), '+OK Sealpost POP3 ready');
  assert.equal(await c.cmd(`USER ${USER}`), '+OK Send PASS');
  assert.match((await c.cmd(`PASS ${PASSWORD}`)) ?? '', /^\+OK Maildrop locked and ready/);
  return c;
}

const plainBase64 = (user: string, password: string) =>
  Buffer.from(`\0${user}\0${password}`).toString('base64');

describe('POP3 hostile input', () => {
  let inst: Installation;
  let srv: InProcess;
  let tlsPort: number;
  let plainPort: number;

  before(async () => {
    plainPort = await freePort();
    inst = await install({
      env: {
        SEALPOST_POP3_STARTTLS_PORT: String(plainPort),
        SEALPOST_POP3_LOGIN_TIMEOUT_SECONDS: '5',
        SEALPOST_POP3_MAX_UNAUTHENTICATED_COMMANDS: '8',
      },
    });
    srv = await startInProcess(inst);
    tlsPort = srv.server.listening.find((l) => l.role === 'pop3' && l.security === 'tls')!.port;
    await deliver(srv.mxPort, 'one');
    await deliver(srv.mxPort, 'two');
  });
  useWatchdog('pop3');

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('refuses USER, PASS and AUTH before STLS on the cleartext port', async () => {
    const c = await RawPop3.connect(plainPort, false);
    assert.equal(await c.line(), '+OK Sealpost POP3 ready');
    assert.equal(await c.cmd('CAPA'), '+OK Capability list follows');
    const capa = await c.body();
    assert.ok(capa.includes('STLS'));
    assert.ok(!capa.includes('USER') && !capa.some((l) => l.startsWith('SASL')));
    assert.match((await c.cmd(`USER ${USER}`)) ?? '', /^-ERR \[AUTH\] /);
    assert.match((await c.cmd(`PASS ${PASSWORD}`)) ?? '', /^-ERR \[AUTH\] /);
    assert.match((await c.cmd(`AUTH PLAIN ${plainBase64(USER, PASSWORD)}`)) ?? '', /^-ERR \[AUTH\] /);
    assert.match((await c.cmd('AUTH PLAIN')) ?? '', /^-ERR \[AUTH\] /);
    assert.equal(await c.cmd('STAT'), '-ERR Log in first');
    c.close();
  });

  it('discards commands injected behind STLS in the same packet', async () => {
    const c = await RawPop3.connect(plainPort, false);
    await c.line();
    c.send(`STLS\r\nUSER ${USER}\r\nCAPA\r\n`);
    assert.equal(await c.line(), '+OK Begin TLS negotiation');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.unread(), 0, 'nothing answered in cleartext after the STLS reply');
    await c.upgrade();
    assert.equal(
      await c.cmd(`PASS ${PASSWORD}`),
      '-ERR Send USER first',
      'the injected USER was not executed',
    );
    assert.equal(await c.cmd('CAPA'), '+OK Capability list follows');
    const capa = await c.body();
    assert.ok(capa.includes('USER') && !capa.includes('STLS'));
    assert.equal(await c.cmd('STLS'), '-ERR TLS is already active');
    c.close();
  });

  it('answers over-long lines with -ERR and goes on; a line of 255 octets is fine', async () => {
    const c = await RawPop3.connect(tlsPort, true);
    await c.line();
    const exact = `USER ${'a'.repeat(255 - 7)}`;
    assert.equal(await c.cmd(exact), '+OK Send PASS');
    assert.equal(await c.cmd(`${exact}a`), '-ERR Line too long');
    assert.equal(await c.cmd(`PASS ${'p'.repeat(5000)}`), '-ERR Line too long');
    assert.equal(await c.cmd('CAPA'), '+OK Capability list follows');
    await c.body();
    c.close();
  });

  it('closes a connection that sends an endless line', async () => {
    const c = await RawPop3.connect(tlsPort, true);
    await c.line();
    c.send(Buffer.alloc(200_000, 0x41));
    assert.equal(await c.line(), '-ERR Line too long');
    assert.equal(await c.line(), '-ERR Line too long; closing the connection');
    assert.equal(await c.closedByServer(), true);
  });

  it('closes a connection after too many protocol errors', async () => {
    const c = await RawPop3.connect(tlsPort, true);
    await c.line();
    const replies: (string | null)[] = [];
    for (let i = 0; i < 7; i++) replies.push(await c.cmd(`X${'y'.repeat(300)}`));
    assert.ok(replies.every((r) => r === '-ERR Line too long'));
    c.close();
    const d = await loggedIn(tlsPort);
    for (let i = 0; i < 9; i++) assert.equal(await d.cmd('BOGUS'), '-ERR Unknown command');
    assert.equal(await d.cmd('BOGUS'), '-ERR Unknown command');
    assert.equal(await d.line(), '-ERR Too many invalid commands');
    assert.equal(await d.closedByServer(), true);
  });

  it('refuses bad message numbers and keeps the session', async () => {
    const c = await loggedIn(tlsPort);
    for (const cmd of [
      'RETR 0',
      'RETR -1',
      'RETR 99999999999999999999',
      'RETR abc',
      'TOP 1 -5',
      'TOP 1',
      'LIST 0',
    ]) {
      assert.match((await c.cmd(cmd)) ?? '', /^-ERR /, cmd);
    }
    assert.equal(await c.cmd('RETR 3'), '-ERR No such message');
    assert.equal(await c.cmd('DELE 4294967296'), '-ERR No such message');
    assert.equal(await c.cmd('UIDL 3'), '-ERR No such message');
    assert.match((await c.cmd('STAT')) ?? '', /^\+OK 2 \d+$/);
    assert.equal(await c.cmd('USER x'), '-ERR Not allowed after login');
    assert.equal(await c.cmd('RSET'), await c.cmd('RSET'));
    assert.match((await c.cmd('QUIT')) ?? '', /^\+OK .*\(2 messages left\)/);
    assert.equal(await c.closedByServer(), true);
  });

  it('answers pipelined commands in order', async () => {
    const c = await loggedIn(tlsPort);
    c.send('STAT\r\nLIST\r\nDELE 1\r\nUIDL 1\r\nRSET\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n');
    assert.match((await c.line()) ?? '', /^\+OK 2 \d+$/);
    assert.match((await c.line()) ?? '', /^\+OK 2 messages/);
    assert.equal((await c.body()).length, 2);
    assert.equal(await c.line(), '+OK Message 1 deleted');
    assert.equal(await c.line(), '-ERR Message 1 already deleted');
    assert.match((await c.line()) ?? '', /^\+OK Maildrop has 2 messages/);
    assert.match((await c.line()) ?? '', /^\+OK 1 \d+\.\d+$/);
    assert.equal(await c.line(), '+OK');
    assert.match((await c.line()) ?? '', /^\+OK .*\(2 messages left\)/);
    assert.equal(await c.closedByServer(), true);
  });

  it('closes after too many commands before login, pipelined or not', async () => {
    const c = await RawPop3.connect(tlsPort, true);
    await c.line();
    c.send('CAPA\r\n'.repeat(10));
    for (let i = 0; i < 8; i++) {
      assert.equal(await c.line(), '+OK Capability list follows');
      await c.body();
    }
    assert.equal(await c.line(), '-ERR Too many commands before login');
    assert.equal(await c.closedByServer(), true);
  });

  it('handles broken and cancelled AUTH PLAIN, then logs in with it', async () => {
    const c = await RawPop3.connect(tlsPort, true);
    await c.line();
    assert.equal(await c.cmd('AUTH PLAIN !!!not-base64'), '-ERR Invalid base64');
    assert.equal(await c.cmd('AUTH PLAIN AGEAYg'), '-ERR Invalid base64');
    assert.equal(await c.cmd('AUTH XOAUTH2 abc='), '-ERR Unsupported mechanism; use PLAIN');
    assert.equal(await c.cmd('AUTH PLAIN'), '+ ');
    assert.equal(await c.cmd('%%% garbage %%%'), '-ERR Invalid base64');
    assert.equal(await c.cmd('AUTH PLAIN'), '+ ');
    assert.equal(await c.cmd('*'), '-ERR Authentication cancelled');
    assert.equal(
      await c.cmd(`AUTH PLAIN ${Buffer.from('only-one-part').toString('base64')}`),
      '-ERR Malformed PLAIN response',
    );
    c.close();
    const d = await RawPop3.connect(tlsPort, true);
    await d.line();
    assert.equal(
      await d.cmd(`AUTH PLAIN ${plainBase64(USER, 'wrong password')}`),
      '-ERR [AUTH] Invalid credentials',
    );
    assert.equal(
      await d.cmd(`AUTH PLAIN ${plainBase64('nobody@sealpost.test', 'x')}`),
      '-ERR [AUTH] Invalid credentials',
    );
    assert.equal(await d.cmd('AUTH PLAIN'), '+ ');
    assert.match(
      (await d.cmd(plainBase64(USER, PASSWORD))) ?? '',
      /^\+OK Maildrop locked and ready, 2 messages/,
    );
    assert.match((await d.cmd('QUIT')) ?? '', /^\+OK /);
    d.close();
  });

  it('ends a session that does not log in within login_timeout_seconds', async () => {
    const c = await RawPop3.connect(tlsPort, true);
    await c.line();
    const started = Date.now();
    // Busy but never logging in: the login timeout is not reset by traffic.
    const busy = setInterval(() => c.send('CAPA\r\n'), 2000);
    try {
      for (let l = await c.line(8000); l !== null; l = await c.line(8000)) {
        if (l.startsWith('-ERR Autologout')) break;
      }
      assert.equal(await c.closedByServer(), true);
    } finally {
      clearInterval(busy);
    }
    const took = Date.now() - started;
    assert.ok(took >= 4500 && took < 8000, `closed after ${took} ms`);
  });
});

describe('POP3 connection limit per address', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;

  before(async () => {
    inst = await install({ env: { SEALPOST_POP3_MAX_CONNECTIONS_PER_ADDRESS: '3' } });
    srv = await startInProcess(inst);
    port = srv.server.listening.find((l) => l.role === 'pop3' && l.security === 'tls')!.port;
  });
  useWatchdog('pop3 2');

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('refuses the connection over the limit and accepts again once one closes', async () => {
    const open = await Promise.all([1, 2, 3].map(() => RawPop3.connect(port, true)));
    for (const c of open) assert.equal(await c.line(), '+OK Sealpost POP3 ready');
    const extra = await RawPop3.connect(port, true);
    assert.equal(await extra.line(), '-ERR [SYS/TEMP] Too many connections');
    assert.equal(await extra.closedByServer(), true);
    assert.match((await open[0]!.cmd('QUIT')) ?? '', /^\+OK/);
    assert.equal(await open[0]!.closedByServer(), true);
    await new Promise((r) => setTimeout(r, 100));
    const again = await RawPop3.connect(port, true);
    assert.equal(await again.line(), '+OK Sealpost POP3 ready');
    for (const c of [...open, again]) c.close();
  });
});
