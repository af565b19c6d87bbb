import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandReader, type FrameEvent, type LiteralMode } from './framing.ts';
import { imapLimits } from './limits.ts';

const limits = imapLimits(1000, { maxLineLength: 100, maxLiteralBeforeAuth: 50, maxLiteralMinus: 20 });

function drain(r: CommandReader): FrameEvent[] {
  const out: FrameEvent[] = [];
  for (let e = r.next(); e; e = r.next()) out.push(e);
  return out;
}
function feed(chunks: (string | Buffer)[], mode: LiteralMode = 'literal-minus', auth = false): FrameEvent[] {
  const r = new CommandReader(limits, mode);
  r.setAuthenticated(auth);
  const out: FrameEvent[] = [];
  for (const c of chunks) {
    r.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
    out.push(...drain(r));
  }
  return out;
}
/** A compact, comparable rendering of events. */
function show(events: FrameEvent[]): string[] {
  return events.map((e) => {
    if (e.kind === 'continue') return '+';
    if (e.kind === 'error') return `ERR ${e.tag ?? '-'} ${e.error.message}${e.fatal ? ' FATAL' : ''}`;
    return e.parts
      .map((p) => (typeof p === 'string' ? p : `<${p.binary ? '~' : ''}${p.data.toString('latin1')}>`))
      .join('|');
  });
}

// Deterministic PRNG (mulberry32) for property tests.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('IMAP framing', () => {
  it('splits pipelined lines', () => {
    assert.deepEqual(show(feed(['a NOOP\r\nb CAPABILITY\r\n'])), ['a NOOP', 'b CAPABILITY']);
  });

  it('reads a synchronising literal after asking for a continuation', () => {
    const r = new CommandReader(limits);
    r.push(Buffer.from('a LOGIN {3}\r\n'));
    assert.deepEqual(show(drain(r)), ['+']);
    r.push(Buffer.from('bob "pw"\r\n'));
    assert.deepEqual(show(drain(r)), ['a LOGIN {3}|<bob>| "pw"']);
  });

  it('reads LITERAL+ without a continuation and literal8', () => {
    assert.deepEqual(show(feed(['a LOGIN {3+}\r\nbob {2+}\r\npw\r\n'], 'literal-plus')), [
      'a LOGIN {3+}|<bob>| {2+}|<pw>|',
    ]);
    assert.deepEqual(show(feed(['a APPEND x ~{3}\r\n', 'a\0b\r\n'], 'literal-plus', true)), [
      '+',
      'a APPEND x ~{3}|<~a\0b>|',
    ]);
  });

  it('handles zero-length literals', () => {
    assert.deepEqual(show(feed(['a LOGIN {0}\r\n', ' x\r\n'])), ['+', 'a LOGIN {0}|<>| x']);
    assert.deepEqual(show(feed(['a LOGIN {0+}\r\n x\r\n'])), ['a LOGIN {0+}|<>| x']);
  });

  it('is strict about bare LF: the line is rejected and the next one is read', () => {
    assert.deepEqual(show(feed(['a NOOP\nb NOOP\r\n'])), ['ERR a Line must end with CRLF', 'b NOOP']);
    assert.deepEqual(show(feed(['\n'])), ['ERR - Line must end with CRLF']);
  });

  it('accepts CR and LF split across chunks', () => {
    assert.deepEqual(show(feed(['a NOOP\r', '\nb NOOP\r\n'])), ['a NOOP', 'b NOOP']);
  });
});

describe('IMAP framing: hostile input', () => {
  it('rejects an over-long line while it streams in and recovers at the next CRLF', () => {
    const long = `t1 LOGIN ${'x'.repeat(200)}`;
    const chunks = [long.slice(0, 60), long.slice(60, 150), long.slice(150), '\r\nt2 NOOP\r\n'];
    assert.deepEqual(show(feed(chunks)), ['ERR t1 Command line too long', 't2 NOOP']);
    // exactly at the limit (CRLF included) is fine; one more octet is not
    assert.deepEqual(show(feed([`${'a'.repeat(98)}\r\n`])), ['a'.repeat(98)]);
    assert.equal(show(feed([`${'a'.repeat(99)}\r\n`]))[0], 'ERR - Command line too long');
  });

  it('never buffers an over-long line: megabytes without LF produce one error', () => {
    const r = new CommandReader(limits);
    const events: FrameEvent[] = [];
    for (let i = 0; i < 1000; i++) {
      r.push(Buffer.alloc(1024, 0x61));
      events.push(...drain(r));
    }
    r.push(Buffer.from('\r\nz NOOP\r\n'));
    events.push(...drain(r));
    assert.deepEqual(show(events), ['ERR - Command line too long', 'z NOOP']);
  });

  it('refuses a synchronising literal over the limit without a continuation, before and after login', () => {
    assert.deepEqual(show(feed(['a LOGIN {51}\r\n', 'b NOOP\r\n'])), ['ERR a Literal too big', 'b NOOP']);
    assert.deepEqual(show(feed(['a LOGIN {50}\r\n'])), ['+']);
    assert.deepEqual(show(feed(['a APPEND x {1001}\r\n'], 'literal-plus', true)), ['ERR a Literal too big']);
    assert.deepEqual(show(feed(['a APPEND x {1000}\r\n'], 'literal-plus', true)), ['+']);
    const e = feed(['a LOGIN {51}\r\n'])[0];
    assert.ok(e?.kind === 'error' && e.error.responseCode === 'TOOBIG');
  });

  it('treats numeric overflow in literal sizes as too big', () => {
    for (const n of ['4294967296', '99999999999999999999', '9'.repeat(60)]) {
      assert.deepEqual(show(feed([`a APPEND x {${n}}\r\n`], 'literal-plus', true)), [
        'ERR a Literal too big',
      ]);
    }
    assert.deepEqual(show(feed(['a LOGIN {00000000000000000000003}\r\n', 'bob\r\n'])), [
      '+',
      'a LOGIN {00000000000000000000003}|<bob>|',
    ]);
  });

  it('closes on a non-synchronising literal over the limit (it is already on the wire)', () => {
    assert.deepEqual(show(feed(['a LOGIN {51+}\r\n', 'x'.repeat(51), '\r\nb NOOP\r\n'], 'literal-plus')), [
      'ERR a Literal too big FATAL',
    ]);
    // LITERAL- caps {n+} at maxLiteralMinus (RFC 7888 §5) even when the session limit is higher
    assert.deepEqual(show(feed(['a APPEND x {21+}\r\n'], 'literal-minus', true)), [
      'ERR a Literal too big FATAL',
    ]);
    assert.deepEqual(show(feed(['a APPEND x {21+}\r\n', 'y'.repeat(21), '\r\n'], 'literal-plus', true)), [
      `a APPEND x {21+}|<${'y'.repeat(21)}>|`,
    ]);
  });

  it('bounds the number of literals in one command', () => {
    const l = imapLimits(1000, { maxLiteralsPerCommand: 2 });
    const r = new CommandReader(l, 'literal-plus');
    r.push(Buffer.from('a X {1+}\r\na {1+}\r\nb {1+}\r\nc\r\n'));
    assert.deepEqual(show(drain(r)), ['ERR a Too many literals in one command FATAL']);
  });

  it('bounds the line text of a whole command across literals', () => {
    const l = imapLimits(1000, { maxLineLength: 100, maxCommandLength: 120 });
    const r = new CommandReader(l, 'literal-plus');
    const seg = `${'x'.repeat(50)} {1+}\r\na`;
    r.push(Buffer.from(`t1 X ${seg}${seg}${seg}\r\nt2 NOOP\r\n`));
    assert.deepEqual(show(drain(r)), ['ERR t1 Command line too long FATAL']);
    // the same with a synchronising literal: the client waits for "+", so no harm in reading on
    const r2 = new CommandReader(l, 'literal-plus');
    r2.push(Buffer.from(`t1 X ${'x'.repeat(130)} {1}\r\nt2 NOOP\r\n`));
    assert.deepEqual(show(drain(r2)), ['ERR t1 Command line too long', 't2 NOOP']);
  });

  it('never reads a non-synchronising literal after a rejected line as commands', () => {
    assert.deepEqual(show(feed(['a X {9+}\nb LOGOUT\r\n'], 'literal-plus')), [
      'ERR a Line must end with CRLF FATAL',
    ]);
    const input = `t1 X ${'x'.repeat(200)} {9+}\r\nb LOGOUT\r\n`;
    for (let cut = 190; cut < input.length - 10; cut++) {
      const got = show(feed([input.slice(0, cut), input.slice(cut)], 'literal-plus'));
      assert.deepEqual(got, ['ERR t1 Command line too long FATAL'], `cut ${cut}`);
    }
  });

  it('validates limits', () => {
    assert.throws(() => imapLimits(0));
    assert.throws(() => imapLimits(10, { maxListDepth: -1 }));
    assert.throws(() => imapLimits(10, { maxTokens: 1.5 }));
    assert.equal(imapLimits(100 * 1024 * 1024).maxCommandLiterals, 100 * 1024 * 1024);
  });

  it('reset() discards plaintext sent after STARTTLS', () => {
    const r = new CommandReader(limits);
    r.push(Buffer.from('a STARTTLS\r\nb LOGIN evil injected\r\nc DEL'));
    const first = r.next();
    assert.deepEqual(show(first ? [first] : []), ['a STARTTLS']);
    r.reset();
    assert.equal(r.next(), undefined);
    r.push(Buffer.from('ETE x\r\nd NOOP\r\n'));
    assert.deepEqual(show(drain(r)), ['ETE x', 'd NOOP']);
  });

  it('reset() also drops a half-read literal', () => {
    const r = new CommandReader(limits);
    r.push(Buffer.from('a LOGIN {10}\r\nabc'));
    drain(r);
    r.reset();
    r.push(Buffer.from('b NOOP\r\n'));
    assert.deepEqual(show(drain(r)), ['b NOOP']);
  });

  it('gives the same commands however the bytes are split (every position and random)', () => {
    const input = 'a1 LOGIN {5+}\r\nal\r\nx "pw"\r\na2 APPEND INBOX (\\Seen) {4}\r\nhi\r\n\r\na3 NOOP\r\n';
    const expected = show(feed([input], 'literal-plus', true)).filter((s) => s !== '+');
    assert.equal(expected.length, 3);
    const bytes = Buffer.from(input);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const got = feed(
          [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)],
          'literal-plus',
          true,
        );
        assert.deepEqual(
          show(got).filter((s) => s !== '+'),
          expected,
          `split at ${i},${j}`,
        );
      }
    }
    const rand = rng(42);
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      for (let p = 0; p < bytes.length; ) {
        const n = 1 + Math.floor(rand() * 7);
        chunks.push(bytes.subarray(p, p + n));
        p += n;
      }
      assert.deepEqual(
        show(feed(chunks, 'literal-plus', true)).filter((s) => s !== '+'),
        expected,
      );
    }
  });
});
