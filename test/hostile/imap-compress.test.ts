// IMAP COMPRESS=DEFLATE (RFC 4978) decompression bombs over real TLS sockets: a small
// compressed stream that inflates to a huge command line, to a huge literal, or to
// garbage. The framing limits hold inside the stream (RFC 4978 §4: the limits apply
// to the decompressed data), input is paused while the framing is full so memory
// stays bounded, and other sessions are not slowed. Bombs are built with the async
// zlib API so the test's own work does not block the watched event loop.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, PASSWORD, startInProcess } from '../support/server.ts';
import { useWatchdog } from '../support/watchdog.ts';

const MIB = 1024 * 1024;

/** `n` times the same chunk, lazily. */
function* repeat(chunk: Buffer, n: number): Generator<Buffer> {
  for (let i = 0; i < n; i++) yield chunk;
}

/** A compressed session: login and COMPRESS in clear, then everything through DEFLATE. */
class CompressedSession {
  readonly socket: tls.TLSSocket;
  readonly #inflate = zlib.createInflateRaw();
  readonly #deflate = zlib.createDeflateRaw({ level: 9 });
  out = '';
  closed = false;

  private constructor(socket: tls.TLSSocket) {
    this.socket = socket;
  }

  static async open(port: number): Promise<CompressedSession> {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise((r) => socket.once('secureConnect', r));
    const s = new CompressedSession(socket);
    let clear = '';
    const onClear = (d: Buffer) => (clear += d.toString('latin1'));
    socket.on('data', onClear);
    socket.on('close', () => (s.closed = true));
    socket.write(`a LOGIN alice@sealpost.test "${PASSWORD}"\r\nb COMPRESS DEFLATE\r\n`);
    for (let i = 0; i < 200 && !/\r\nb OK[^\r]*\r\n/.test(clear); i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.match(clear, /b OK/);
    socket.off('data', onClear);
    socket.on('data', (d: Buffer) => s.#inflate.write(d));
    s.#inflate.on('data', (d: Buffer) => (s.out += d.toString('latin1')));
    return s;
  }

  /** Bytes for the server through the session's one DEFLATE stream, then a sync flush. */
  async send(plain: Buffer | string): Promise<number> {
    return this.stream([typeof plain === 'string' ? Buffer.from(plain, 'latin1') : plain]);
  }

  /**
   * Stream chunks through the compressor with back-pressure, so a bomb of hundreds of
   * MiB never exists in this process (one small chunk may be repeated). Returns the
   * compressed octets written.
   */
  async stream(chunks: Iterable<Buffer>): Promise<number> {
    let written = 0;
    const count = (b: Buffer) => {
      written += b.length;
      this.socket.write(b);
    };
    this.#deflate.on('data', count);
    for (const chunk of chunks) {
      if (!this.#deflate.write(chunk)) await new Promise((r) => this.#deflate.once('drain', r));
    }
    await new Promise<void>((r) => this.#deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
    this.#deflate.off('data', count);
    return written;
  }

  async waitFor(re: RegExp, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.out) && !this.closed && Date.now() < end)
      await new Promise((r) => setTimeout(r, 25));
    assert.match(this.out, re);
  }

  async waitClosed(ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    assert.ok(this.closed, 'the server closed the connection');
  }
}

describe('IMAP COMPRESS decompression bombs', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;

  before(async () => {
    inst = await install({ env: { SEALPOST_IMAP_APPEND_LIMIT: '1MiB' } });
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
  });
  useWatchdog('imap compress');
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('a 64 MiB command line from ~64 KiB of DEFLATE: BAD [TOOBIG], the session goes on', async () => {
    const s = await CompressedSession.open(port);
    try {
      const size = await s.stream([
        Buffer.from('c NOOP '),
        ...repeat(Buffer.alloc(MIB, 0x61), 64),
        Buffer.from('\r\nd NOOP\r\n'),
      ]);
      assert.ok(size < 200_000, `compressed ${size} octets`);
      await s.waitFor(/d OK/, 30_000);
      assert.match(s.out, /c BAD \[TOOBIG\]/);
    } finally {
      s.socket.destroy();
    }
  });

  it('a 256 MiB bomb keeps memory bounded and another session answers promptly meanwhile', async () => {
    const rssBefore = process.memoryUsage().rss;
    const s = await CompressedSession.open(port);
    const other = await RawImap.connect(port);
    try {
      await other.login();
      const sent = s.stream(
        (function* () {
          yield Buffer.from('c NOOP ');
          yield* repeat(Buffer.alloc(MIB, 0x62), 256);
          yield Buffer.from('\r\nd NOOP\r\n');
        })(),
      );
      let peakRss = 0;
      let worst = 0;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        assert.match((await other.command(`n${i}`, 'NOOP')).at(-1)!, new RegExp(`^n${i} OK`));
        worst = Math.max(worst, performance.now() - t0);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
      await sent;
      await s.waitFor(/d OK/, 60_000);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      assert.match(s.out, /c BAD \[TOOBIG\]/);
      // Server and client share this process; neither may hold the inflated bomb.
      const grown = Math.round((peakRss - rssBefore) / MIB);
      assert.ok(grown < 96, `rss grew ${grown} MiB`);
      assert.ok(worst < 2000, `the other session's NOOP took ${Math.round(worst)} ms`);
    } finally {
      s.socket.destroy();
      other.close();
    }
  });

  it('a literal that inflates beyond APPENDLIMIT gets NO [TOOBIG] and no continuation', async () => {
    const s = await CompressedSession.open(port);
    await s.send(`e APPEND INBOX {${200 * MIB}}\r\nf NOOP\r\n`);
    await s.waitFor(/f OK/);
    assert.match(s.out, /e NO \[TOOBIG\]/);
    assert.doesNotMatch(s.out, /^\+/m, 'no continuation request');
    s.socket.destroy();
  });

  it('a non-synchronising literal inflating beyond the limit ends the session with BYE', async () => {
    const s = await CompressedSession.open(port);
    try {
      void s
        .stream([Buffer.from(`g APPEND INBOX {${64 * MIB}+}\r\n`), ...repeat(Buffer.alloc(MIB, 0x63), 64)])
        .catch(() => {});
      await s.waitFor(/\* BYE/);
      assert.match(s.out, /TOOBIG/);
      await s.waitClosed();
    } finally {
      s.socket.destroy();
    }
    const status = await RawImap.connect(port);
    await status.login();
    assert.match((await status.command('s', 'STATUS INBOX (MESSAGES)')).join('\n'), /MESSAGES 0/);
    status.close();
  });

  it('a stream that is not DEFLATE ends the session with BYE', async () => {
    const s = await CompressedSession.open(port);
    s.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37, 0xde, 0xad]));
    await s.waitClosed();
  });
});
