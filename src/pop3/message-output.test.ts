import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dotStuffed, topOf } from './message-output.ts';

const stuff = (text: string, chunk?: number) =>
  Buffer.concat([...dotStuffed(Buffer.from(text), chunk)]).toString();

describe('pop3 message output', () => {
  it('dot-stuffs every line that starts with a dot', () => {
    assert.equal(
      stuff('Subject: x\r\n\r\n.\r\n..two\r\na.b\r\n.\r\n'),
      'Subject: x\r\n\r\n..\r\n...two\r\na.b\r\n..\r\n',
    );
  });

  it('turns bare LF into CRLF and ends the last line', () => {
    assert.equal(stuff('a\nb\r\nc'), 'a\r\nb\r\nc\r\n');
    assert.equal(stuff('.end'), '..end\r\n');
    assert.equal(stuff(''), '');
  });

  it('leaves a bare CR inside a line alone', () => {
    assert.equal(stuff('a\rb\r\n'), 'a\rb\r\n');
  });

  it('yields bounded chunks that join to the same bytes', () => {
    const text = Array.from({ length: 500 }, (_, i) => (i % 7 === 0 ? `.line ${i}` : `line ${i}`)).join(
      '\r\n',
    );
    const chunks = [...dotStuffed(Buffer.from(text), 256)];
    assert.ok(chunks.length > 10);
    for (const c of chunks) assert.ok(c.length < 256 + 20);
    assert.equal(Buffer.concat(chunks).toString(), stuff(text));
  });

  it('TOP: headers, the blank line and n body lines', () => {
    const msg = 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n';
    assert.equal(topOf(Buffer.from(msg), 0).toString(), 'A: 1\r\nB: 2\r\n\r\n');
    assert.equal(topOf(Buffer.from(msg), 2).toString(), 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n');
    assert.equal(topOf(Buffer.from(msg), 99).toString(), msg);
    assert.equal(topOf(Buffer.from('A: 1\nB: 2\n\nbody\nmore\n'), 1).toString(), 'A: 1\nB: 2\n\nbody\n');
    assert.equal(topOf(Buffer.from('A: 1\r\nB: 2\r\n'), 0).toString(), 'A: 1\r\nB: 2\r\n');
  });
});
