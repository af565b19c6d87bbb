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
