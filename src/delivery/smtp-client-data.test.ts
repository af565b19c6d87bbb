import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataEncoder, encodeData, hasEightBit, wireSize } from './smtp-client-data.ts';

const enc = (s: string, chunkSize?: number) =>
  Buffer.concat([...encodeData(Buffer.from(s, 'latin1'), chunkSize)]).toString('latin1');

/** What a strict receiver does: the data ends at the first CRLF.CRLF; then unstuff. */
function receive(wire: string): { content: string; rest: string } {
  const framed = `\r\n${wire}`;
  const end = framed.indexOf('\r\n.\r\n');
  assert.notEqual(end, -1, 'terminator present');
  const body = framed.slice(2, end + 2);
  const content = body
    .split('\r\n')
    .map((l) => (l.startsWith('.') ? l.slice(1) : l))
    .join('\r\n');
  return { content, rest: framed.slice(end + 5) };
}

/** The content with every line end as CRLF and a final CRLF: what must arrive. */
function normalise(s: string): string {
  const n = s.replace(/\r\n|\r|\n/g, '\r\n');
  return n === '' || n.endsWith('\r\n') ? n : `${n}\r\n`;
}

/** A deterministic generator (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('DATA encoder', () => {
  it('turns bare LF and bare CR into CRLF and keeps CRLF', () => {
    assert.equal(enc('a\nb\rc\r\nd\r\n'), 'a\r\nb\r\nc\r\nd\r\n.\r\n');
    assert.equal(enc('a\r\r\nb'), 'a\r\n\r\nb\r\n.\r\n', 'CR CR LF is a bare CR then CRLF');
    assert.equal(enc('a\n\rb'), 'a\r\n\r\nb\r\n.\r\n', 'LF CR is two line ends');
  });

  it('stuffs a dot at the start of every line, including the first and a lone "."', () => {
    assert.equal(enc('.a\r\n.\r\n..\r\nx.y\r\n'), '..a\r\n..\r\n...\r\nx.y\r\n.\r\n');
    assert.equal(enc('a\n.\nb'), 'a\r\n..\r\nb\r\n.\r\n', 'after a bare LF too');
    assert.equal(enc('a\r.\rb'), 'a\r\n..\r\nb\r\n.\r\n', 'after a bare CR too');
  });

  it('ends with CRLF before the terminator whatever the last byte is', () => {
    assert.equal(enc(''), '.\r\n');
    assert.equal(enc('x'), 'x\r\n.\r\n');
    assert.equal(enc('x\r'), 'x\r\n.\r\n');
    assert.equal(enc('x\n'), 'x\r\n.\r\n');
    assert.equal(enc('x\r\n'), 'x\r\n.\r\n');
    assert.equal(enc('.'), '..\r\n.\r\n');
  });

  it('keeps state across chunk boundaries (CR|LF split, dot after a split line end)', () => {
    const e = new DataEncoder();
    const out = Buffer.concat([
      e.encode(Buffer.from('a\r')),
      e.encode(Buffer.from('\n.b\r')),
      e.encode(Buffer.from('.c\n')),
      e.encode(Buffer.from('')),
      e.encode(Buffer.from('.')),
      e.end(),
    ]).toString();
    assert.equal(out, 'a\r\n..b\r\n..c\r\n..\r\n.\r\n');
  });

  it('cannot be made to end early or smuggle a second message (random content, every chunk size)', () => {
    const alphabet = ['\r', '\n', '.', 'a', 'M', ' ', '\r\n', '\r\n.\r\n', '\n.\n', '\r.\r'];
    const next = rng(5321);
    for (let round = 0; round < 500; round++) {
      let s = '';
      const n = Math.floor(next() * 40);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      const chunk = 1 + Math.floor(next() * 8);
      const wire = enc(s, chunk);
      assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(wire), `no bare CR/LF on the wire for ${JSON.stringify(s)}`);
      const { content, rest } = receive(wire);
      assert.equal(rest, '', `the first end-of-data is the last for ${JSON.stringify(s)}`);
      assert.equal(content, normalise(s), `content intact for ${JSON.stringify(s)}`);
      assert.equal(wireSize(Buffer.from(s, 'latin1')), normalise(s).length, 'RFC 1870 size');
    }
  });

  it('encodes a large message in linear time through small chunks', () => {
    const line = 'x'.repeat(70);
    const big = Buffer.from(`${`${line}\n.${line}\r`.repeat(100_000)}`);
    let total = 0;
    let pieces = 0;
    for (const p of encodeData(big)) {
      total += p.length;
      pieces++;
    }
    assert.equal(total, big.length + 100_000 * 3 + 3, 'one CR added per LF, one dot and one LF per CR line');
    assert.ok(pieces > 100, 'streamed in chunks');
  });

  it('wireSize counts line ends as CRLF and a missing final CRLF', () => {
    assert.equal(wireSize(Buffer.from('')), 0);
    assert.equal(wireSize(Buffer.from('a')), 3);
    assert.equal(wireSize(Buffer.from('a\nb\rc\r\n')), 9);
    assert.equal(wireSize(Buffer.from('.a\r\n')), 4, 'stuffing dots are not counted');
  });

  it('hasEightBit finds any octet above 0x7f', () => {
    assert.equal(hasEightBit(Buffer.from('plain ascii\r\n')), false);
    assert.equal(hasEightBit(Buffer.from('caf\u00e9')), true);
    assert.equal(hasEightBit(Buffer.from([0x41, 0x80])), true);
  });
});
