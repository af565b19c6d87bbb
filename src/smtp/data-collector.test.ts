import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { collectData, scanChunk } from './data-collector.ts';

const limits = { maxBytes: 1000, maxLineLength: 100 };
const collect = (...chunks: string[]) =>
  collectData(Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))), limits);

describe('DATA collector', () => {
  it('keeps clean CRLF data', async () => {
    const r = await collect('a: b\r\n\r\nhello\r\n');
    assert.equal(r.problem, null);
    assert.equal(r.data.toString(), 'a: b\r\n\r\nhello\r\n');
  });

  it('finds bare LF and bare CR, also across chunk boundaries', async () => {
    assert.equal((await collect('a\nb\r\n')).problem, 'bare-newline');
    assert.equal((await collect('a\rb\r\n')).problem, 'bare-newline');
    assert.equal((await collect('a\r', '\nb\r\n')).problem, null, 'CR | LF split across chunks is fine');
    assert.equal((await collect('a\r', 'b\r\n')).problem, 'bare-newline');
    assert.equal((await collect('a\r\nb\r')).problem, 'bare-newline', 'trailing lone CR');
  });

  it('finds NUL, long lines, and oversize while still draining', async () => {
    assert.equal((await collect('a\u0000b\r\n')).problem, 'nul');
    assert.equal((await collect(`${'x'.repeat(98)}\r\n`)).problem, null, '98 octets + CRLF = 100');
    assert.equal((await collect(`${'x'.repeat(99)}\r\n`)).problem, 'line-too-long');
    const big = await collect(...Array.from({ length: 20 }, () => `${'y'.repeat(60)}\r\n`));
    assert.equal(big.problem, 'too-big');
    assert.equal(big.size, 20 * 62, 'the whole stream was read');
    assert.equal(big.data.length, 0, 'nothing kept');
  });

  it('scanChunk carries line length across chunks', () => {
    const first = scanChunk(Buffer.from('x'.repeat(60)), false, 0, 100);
    assert.equal(first.lineLength, 60);
    assert.equal(
      scanChunk(Buffer.from('x'.repeat(40)), false, first.lineLength, 100).problem,
      'line-too-long',
    );
  });
});

describe('DATA scanner against a byte-by-byte reference', () => {
  /** The obvious definition: every LF preceded by CR, every CR followed by LF, no NUL, short lines. */
  function reference(data: Uint8Array, maxLine: number): string | null {
    let len = 0;
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if (b === 0) return 'nul';
      if (b === 0x0a && data[i - 1] !== 0x0d) return 'bare-newline';
      if (b === 0x0d && i + 1 < data.length && data[i + 1] !== 0x0a) return 'bare-newline';
      if (b === 0x0d || b === 0x0a) {
        if (b === 0x0a) len = 0;
        continue;
      }
      if (++len > maxLine - 2) return 'line-too-long';
    }
    return data[data.length - 1] === 0x0d ? 'bare-newline' : null;
  }

  it('agrees on random inputs split at random chunk boundaries', async () => {
    const alphabet = [0x41, 0x42, 0x0d, 0x0a, 0x0d, 0x0a, 0x20, 0x00];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 3000; round++) {
      const n = rand(40);
      const bytes = Uint8Array.from({ length: n }, () => {
        const pick = rand(alphabet.length + 6);
        return pick < alphabet.length && rand(3) === 0 ? alphabet[pick]! : 0x61;
      });
      const want = reference(bytes, 12);
      const cut = rand(n + 1);
      const chunks = [Buffer.from(bytes.subarray(0, cut)), Buffer.from(bytes.subarray(cut))];
      const got = await collectData(Readable.from(chunks), { maxBytes: 1000, maxLineLength: 12 });
      const wantProblem = want === null ? null : want;
      assert.equal(
        got.problem === null,
        wantProblem === null,
        `${JSON.stringify(Buffer.from(bytes).toString('latin1'))} cut at ${cut}: ${got.problem} vs ${wantProblem}`,
      );
    }
  });
});
