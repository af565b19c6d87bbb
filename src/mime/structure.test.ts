import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_DEPTH, MAX_PARTS, parseStructure } from './structure.ts';
import { MAX_PARAMS } from './structure-params.ts';
import type { MimePart } from './structure-types.ts';

const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));
const body = (raw: Buffer, p: MimePart): string => raw.toString('latin1', p.bodyStart, p.bodyEnd);

function count(p: MimePart): number {
  return 1 + p.children.reduce((n, c) => n + count(c), 0) + (p.message === null ? 0 : count(p.message.body));
}

function depth(p: MimePart): number {
  const inner = p.message === null ? 0 : depth(p.message.body);
  return 1 + Math.max(inner, ...p.children.map(depth), 0);
}

/** Wall time of fn in ms (best of 3 to keep noise out). */
function time(fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

describe('parseStructure', () => {
  test('a simple message: header, body offsets, size, lines, defaults', () => {
    const raw = msg('Subject: hi', 'From: a@b.test', '', 'line 1', 'line 2', '');
    const s = parseStructure(raw);
    assert.equal(s.body.type, 'text');
    assert.equal(s.body.subtype, 'plain');
    assert.equal(s.body.encoding, '7BIT');
    assert.equal(body(raw, s.body), 'line 1\r\nline 2\r\n');
    assert.equal(s.body.size, 16);
    assert.equal(s.body.lines, 2);
    assert.equal(s.envelope.subject, 'hi');
  });

  test('multipart: the CRLF before a boundary belongs to it; preamble and epilogue are no part', () => {
    const raw = msg(
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      'preamble',
      '--b',
      '',
      'one',
      '--b',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>two</p>',
      '',
      '--b--',
      'epilogue',
    );
    const s = parseStructure(raw);
    assert.equal(s.body.children.length, 2);
    const [a, b] = s.body.children as [MimePart, MimePart];
    assert.equal(body(raw, a), 'one');
    assert.equal(a.lines, 0);
    assert.equal(body(raw, b), '<p>two</p>\r\n');
    assert.equal(b.lines, 1);
    assert.deepEqual(b.params, [['charset', 'utf-8']]);
    assert.equal(
      raw.toString('latin1', b.headerStart, b.bodyStart),
      'Content-Type: text/html; charset=utf-8\r\n\r\n',
    );
    assert.equal(s.body.bodyEnd, raw.length);
  });

  test('an outer boundary ends inner parts that lack their close delimiter', () => {
    const raw = msg(
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      '',
      'inner text',
      '--outer',
      '',
      'second',
      '--outer--',
    );
    const s = parseStructure(raw);
    assert.equal(s.body.children.length, 2);
    assert.equal(body(raw, s.body.children[0]!.children[0]!), 'inner text');
    assert.equal(body(raw, s.body.children[1]!), 'second');
  });

  test('boundary lines: trailing white space allowed, other trailing text is not a boundary', () => {
    const raw = msg(
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b  ',
      '',
      'x',
      '--bx',
      'y',
      '--b-- \t',
      '',
    );
    const s = parseStructure(raw);
    assert.equal(s.body.children.length, 1);
    assert.equal(body(raw, s.body.children[0]!), 'x\r\n--bx\r\ny');
  });

  test('message/rfc822: nested envelope and body, lines of the whole enclosed message', () => {
    const inner = ['Subject: inner', 'From: x@y.test', '', 'a', 'b'];
    const raw = msg(
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: message/rfc822',
      '',
      ...inner,
      '--b--',
    );
    const s = parseStructure(raw);
    const m = s.body.children[0]!;
    assert.equal(m.type, 'message');
    assert.equal(m.message?.envelope.subject, 'inner');
    assert.equal(m.message?.body.lines, 1);
    assert.equal(m.lines, 4);
    assert.equal(body(raw, m), inner.join('\r\n'));
  });

  test('multipart/digest children default to message/rfc822', () => {
    const raw = msg(
      'Content-Type: multipart/digest; boundary=d',
      '',
      '--d',
      '',
      'Subject: x',
      '',
      'y',
      '--d--',
    );
    const s = parseStructure(raw);
    assert.equal(s.body.children[0]!.type, 'message');
    assert.equal(s.body.children[0]!.message?.envelope.subject, 'x');
  });

  test('headers: folding, first of duplicates wins, Content-* fields', () => {
    const raw = msg(
      'Content-Type: text/plain;',
      '\tcharset="iso-8859-1"',
      'Content-Type: text/html',
      'Content-Transfer-Encoding: Quoted-Printable (comment)',
      'Content-ID: <id@x>',
      'Content-Description: the body',
      'Content-Disposition: INLINE; filename=a.txt',
      'Content-Language: en, fr (French)',
      'Content-Location: http://x.test/',
      ' a.txt',
      '',
      'x',
    );
    const p = parseStructure(raw).body;
    assert.equal(p.subtype, 'plain');
    assert.deepEqual(p.params, [['charset', 'iso-8859-1']]);
    assert.equal(p.encoding, 'QUOTED-PRINTABLE');
    assert.equal(p.id, '<id@x>');
    assert.equal(p.description, 'the body');
    assert.deepEqual(p.disposition, { type: 'inline', params: [['filename', 'a.txt']] });
    assert.deepEqual(p.language, ['en', 'fr']);
    assert.equal(p.location, 'http://x.test/a.txt');
  });

  test('RFC 2231 continuations are joined; extended values stay encoded under name*', () => {
    const raw = msg(
      'Content-Type: application/x; title*0*=us-ascii\'en\'a%20b; title*1=c; name*0="x"; name*1="y"',
      '',
    );
    assert.deepEqual(parseStructure(raw).body.params, [
      ['title*', "us-ascii'en'a%20bc"],
      ['name', 'xy'],
    ]);
  });
});

describe('parseStructure: malformed mail', () => {
  test('bare LF line endings', () => {
    const raw = Buffer.from('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n');
    const s = parseStructure(raw);
    assert.equal(body(raw, s.body.children[0]!), 'x');
  });

  test('missing header/body separator: the first non-field line starts the body', () => {
    const raw = msg('Subject: s', 'not a header', 'more');
    const s = parseStructure(raw);
    assert.equal(body(raw, s.body), 'not a header\r\nmore');
    assert.equal(s.envelope.subject, 's');
  });

  test('a multipart whose boundary never appears has one empty text/plain part', () => {
    const raw = msg('Content-Type: multipart/mixed; boundary=zzz', '', 'just text', '--zz', '');
    const s = parseStructure(raw);
    assert.equal(s.body.children.length, 1);
    assert.equal(s.body.children[0]!.size, 0);
    assert.equal(s.body.bodyEnd, raw.length);
  });

  test('a multipart without boundary parameter is text/plain (RFC 2045 §5.2)', () => {
    const s = parseStructure(msg('Content-Type: multipart/mixed', '', 'x'));
    assert.equal(s.body.type, 'text');
    assert.equal(s.body.children.length, 0);
  });

  test('unknown encodings are kept as written, upper-cased; invalid Content-Type is text/plain', () => {
    const p = parseStructure(
      msg('Content-Type: garbage', 'Content-Transfer-Encoding: x-uuencode', '', 'x'),
    ).body;
    assert.equal(`${p.type}/${p.subtype}`, 'text/plain');
    assert.equal(p.encoding, 'X-UUENCODE');
  });

  test('a part whose header runs into the next boundary has an empty body', () => {
    const raw = msg(
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain',
      '--b--',
      '',
    );
    const p = parseStructure(raw).body.children[0]!;
    assert.equal(p.size, 0);
    assert.equal(p.type, 'text');
  });

  test('8-bit headers: UTF-8 values are text, invalid UTF-8 falls back to latin1', () => {
    const raw = Buffer.concat([
      Buffer.from('Subject: Grüße\r\nFrom: '),
      Buffer.from([0xe9]),
      Buffer.from(' <a@b>\r\n\r\n'),
    ]);
    const s = parseStructure(raw);
    assert.equal(s.envelope.subject, 'Grüße');
    assert.equal(s.envelope.from?.[0]?.name, 'é');
  });
});

describe('parseStructure: hostile input', () => {
  test(`10,000 nested multiparts stop at depth ${MAX_DEPTH}, in linear time`, () => {
    const n = 10_000;
    const open: string[] = [];
    const close: string[] = [];
    for (let i = 0; i < n; i++) {
      open.push(`Content-Type: multipart/mixed; boundary=b${i}`, '', `--b${i}`);
      close.unshift(`--b${i}--`);
    }
    const raw = msg(...open, '', 'leaf', ...close, '');
    let s = parseStructure(raw);
    const ms = time(() => {
      s = parseStructure(raw);
    });
    assert.ok(depth(s.body) <= MAX_DEPTH + 1, `depth ${depth(s.body)}`);
    let p = s.body;
    while (p.children.length > 0) p = p.children[0]!;
    assert.equal(p.type, 'application'); // the too-deep multipart is an opaque leaf
    assert.ok(ms < 1000, `${ms} ms`);
  });

  test(`100,000 parts stop at ${MAX_PARTS}`, () => {
    let parts = '';
    for (let i = 0; i < 100_000; i++) parts += `--b\r\n\r\npart ${i}\r\n`;
    const raw = Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`);
    const s = parseStructure(raw);
    assert.ok(count(s.body) <= MAX_PARTS, `${count(s.body)} parts`);
    assert.equal(s.body.bodyEnd, raw.length);
    assert.ok(time(() => parseStructure(raw)) < 1000);
  });

  test('100,000 nested message/rfc822 parts: bounded depth', () => {
    const raw = Buffer.from(`${'Content-Type: message/rfc822\r\n\r\n'.repeat(100_000)}end\r\n`);
    const s = parseStructure(raw);
    assert.ok(depth(s.body) <= MAX_DEPTH + 1);
    assert.ok(time(() => parseStructure(raw)) < 1000);
  });

  test('a 1 MB header line and NUL bytes', () => {
    const raw = Buffer.concat([
      Buffer.from(`Subject: ${'x'.repeat(1 << 20)}\r\nFrom: a\0b@c\r\n\r\nbody\0with nul\r\n`),
    ]);
    const s = parseStructure(raw);
    assert.equal(s.envelope.subject?.length, 1 << 20);
    assert.equal(s.envelope.from?.[0]?.mailbox, 'a\0b');
    assert.equal(body(raw, s.body), 'body\0with nul\r\n');
  });

  test(`a Content-Type with 10,000 parameters keeps ${MAX_PARAMS}`, () => {
    const params = Array.from({ length: 10_000 }, (_, i) => `p${i}=v${i}`).join('; ');
    const p = parseStructure(msg(`Content-Type: text/plain; ${params}`, '', 'x')).body;
    assert.equal(p.params.length, MAX_PARAMS);
    assert.deepEqual(p.params[0], ['p0', 'v0']);
  });

  test('200,000 header lines: skipped past the line budget, body still found', () => {
    const raw = Buffer.from(`${'X-A: 1\r\n'.repeat(200_000)}Subject: late\r\n\r\nbody`);
    const s = parseStructure(raw);
    assert.equal(body(raw, s.body), 'body');
    assert.equal(s.envelope.subject, null); // past the budget fields are not read
    assert.ok(time(() => parseStructure(raw)) < 1000);
  });

  test('lines of "--" that are no boundary cost linear time', () => {
    const raw = Buffer.from(
      `Content-Type: multipart/mixed; boundary=bbbbbbbb\r\n\r\n--bbbbbbbb\r\n\r\n${'--bbbbbbbc\r\n'.repeat(400_000)}--bbbbbbbb--\r\n`,
    );
    const s = parseStructure(raw);
    assert.equal(s.body.children.length, 1);
    assert.ok(time(() => parseStructure(raw)) < 1000);
  });

  test('random bytes never throw', () => {
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const alphabet = Buffer.from('-\r\n:;="ab boundary=Content-Type multipart/ message/rfc822\0\xff');
    for (let i = 0; i < 300; i++) {
      const buf = Buffer.alloc(rnd() % 400, 0);
      for (let j = 0; j < buf.length; j++) buf[j] = alphabet[rnd() % alphabet.length]!;
      const s = parseStructure(buf);
      assert.ok(s.body.bodyEnd <= buf.length && s.body.bodyStart <= s.body.bodyEnd);
    }
  });
});
