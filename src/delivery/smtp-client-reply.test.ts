import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplyFramingError, ReplyReader, replyKind } from './smtp-client-reply.ts';

function readAll(...chunks: string[]) {
  const r = new ReplyReader();
  for (const c of chunks) r.feed(Buffer.from(c));
  const out = [];
  for (let x = r.take(); x !== undefined; x = r.take()) out.push(x);
  return { replies: out, pending: r.pendingBytes };
}

describe('SMTP client reply reader', () => {
  it('reads single and multi-line replies, also split at any byte', () => {
    const wire = '220 mx.example.org ESMTP\r\n250-mx.example.org\r\n250-SIZE 1000\r\n250 PIPELINING\r\n';
    for (let cut = 0; cut <= wire.length; cut++) {
      const { replies, pending } = readAll(wire.slice(0, cut), wire.slice(cut));
      assert.equal(replies.length, 2);
      assert.equal(pending, 0);
      assert.deepEqual(replies[0], {
        code: 220,
        enhanced: null,
        lines: ['mx.example.org ESMTP'],
        text: 'mx.example.org ESMTP',
      });
      assert.deepEqual(replies[1]!.lines, ['mx.example.org', 'SIZE 1000', 'PIPELINING']);
    }
  });

  it('accepts a bare code, and LF-only line ends', () => {
    const { replies } = readAll('250\n354 go ahead\n');
    assert.equal(replies[0]!.code, 250);
    assert.equal(replies[0]!.text, '');
    assert.equal(replies[1]!.code, 354);
  });

  it('parses RFC 3463 enhanced codes only when their class matches the reply', () => {
    const { replies } = readAll(
      '550-5.1.1 no such user\r\n550 5.1.1 really\r\n',
      '451 4.3.0 try later\r\n',
      '250 2.0.0\r\n',
      '550 4.1.1 class mismatch\r\n',
      '250 1.2.3 not a class\r\n',
    );
    assert.equal(replies[0]!.enhanced, '5.1.1');
    assert.deepEqual(replies[0]!.lines, ['no such user', 'really']);
    assert.equal(replies[1]!.enhanced, '4.3.0');
    assert.equal(replies[2]!.enhanced, '2.0.0');
    assert.equal(replies[3]!.enhanced, null);
    assert.equal(replies[3]!.text, '4.1.1 class mismatch');
    assert.equal(replies[4]!.enhanced, null);
  });

  it('keeps count of bytes buffered beyond a reply (STARTTLS injection check)', () => {
    const r = new ReplyReader();
    r.feed(Buffer.from('220 ready\r\n250 injected\r\n'));
    assert.equal(r.take()!.code, 220);
    assert.ok(r.pendingBytes > 0, 'a whole reply waiting');
    const p = new ReplyReader();
    p.feed(Buffer.from('220 ready\r\n2'));
    p.take();
    assert.equal(p.pendingBytes, 1, 'a partial line counts too');
  });

  it('maps codes to kinds', () => {
    assert.equal(replyKind(250), 'ok');
    assert.equal(replyKind(354), 'intermediate');
    assert.equal(replyKind(421), 'temporary');
    assert.equal(replyKind(554), 'permanent');
  });

  describe('hostile input', () => {
    const fails = (re: RegExp, ...chunks: string[]) =>
      assert.throws(
        () => readAll(...chunks),
        (e: Error) => e instanceof ReplyFramingError && re.test(e.message),
      );

    it('refuses a line over the length cap, even before its line end arrives', () => {
      const r = new ReplyReader({ maxLineLength: 100 });
      r.feed(Buffer.from(`250 ${'x'.repeat(96)}\r\n`)); // exactly 100
      assert.equal(r.take()!.code, 250);
      assert.throws(() => r.feed(Buffer.from(`250 ${'x'.repeat(200)}`)), /longer than 100 octets/);
      const q = new ReplyReader({ maxLineLength: 100 });
      assert.throws(() => q.feed(Buffer.from(`250 ${'x'.repeat(97)}\r\n`)), /longer than 100/);
    });

    it('refuses a multi-line reply bomb', () => {
      fails(/longer than 200 lines/, '250-x\r\n'.repeat(201));
      assert.equal(readAll(`${'250-x\r\n'.repeat(199)}250 x\r\n`).replies[0]!.lines.length, 200);
    });

    it('refuses malformed lines and a code change inside a reply', () => {
      fails(/malformed/, 'hello\r\n');
      fails(/malformed/, '25 short\r\n');
      fails(/malformed/, '650 bad class\r\n');
      fails(/malformed/, '250_x\r\n');
      fails(/changed code/, '250-a\r\n550 b\r\n');
    });
  });
});
