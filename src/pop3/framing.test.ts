import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader } from './framing.ts';
import { MAX_COMMAND_LINE, MAX_DISCARD } from './limits.ts';

function lines(reader: LineReader, max = MAX_COMMAND_LINE): string[] {
  const out: string[] = [];
  for (let e = reader.next(max); e !== undefined; e = reader.next(max)) {
    out.push(e.kind === 'line' ? e.line.toString() : `<${e.kind}>`);
  }
  return out;
}

describe('pop3 framing', () => {
  it('splits pipelined commands and strips CRLF or a bare LF', () => {
    const r = new LineReader();
    r.push(Buffer.from('STAT\r\nLIST 1\nUID'));
    assert.deepEqual(lines(r), ['STAT', 'LIST 1']);
    r.push(Buffer.from('L\r\n'));
    assert.deepEqual(lines(r), ['UIDL']);
    assert.equal(r.pending(), 0);
  });

  it('accepts a line of exactly 255 octets with its CRLF and refuses 256', () => {
    const r = new LineReader();
    const ok = `USER ${'a'.repeat(MAX_COMMAND_LINE - 7)}`;
    r.push(Buffer.from(`${ok}\r\n${ok}a\r\nNOOP\r\n`));
    assert.deepEqual(lines(r), [ok, '<too-long>', 'NOOP']);
  });

  it('reports an over-long line before its end arrives and discards the rest of it', () => {
    const r = new LineReader();
    r.push(Buffer.from('X'.repeat(300)));
    assert.deepEqual(lines(r), ['<too-long>']);
    assert.equal(r.pending(), 0);
    r.push(Buffer.from(`${'Y'.repeat(1000)}\r\nQUIT\r\n`));
    assert.deepEqual(lines(r), ['QUIT']);
  });

  it('reports a flood when an over-long line goes on without end', () => {
    const r = new LineReader();
    r.push(Buffer.alloc(300, 0x41));
    assert.deepEqual(lines(r), ['<too-long>']);
    for (let i = 0; i < 5; i++) r.push(Buffer.alloc(MAX_DISCARD / 4, 0x41));
    assert.deepEqual(lines(r), ['<flood>']);
    assert.equal(r.pending(), 0);
  });

  it('allows a longer limit for one line (an AUTH continuation)', () => {
    const r = new LineReader();
    const long = 'QUFB'.repeat(200);
    r.push(Buffer.from(`${long}\r\n`));
    assert.deepEqual(lines(r, 4096), [long]);
  });

  it('reset forgets everything buffered (STLS)', () => {
    const r = new LineReader();
    r.push(Buffer.from('USER evil\r\nPASS x\r\n'));
    r.reset();
    assert.deepEqual(lines(r), []);
    assert.equal(r.pending(), 0);
  });
});
