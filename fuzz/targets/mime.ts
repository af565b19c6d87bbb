// Fuzz target: MIME structure (src/mime/structure.ts parseStructure, envelope.ts)
// and its IMAP rendering (src/imap/render BODYSTRUCTURE, BODY, ENVELOPE). Inputs are
// generated MIME trees (multipart with preamble/epilogue and lost close delimiters,
// message/rfc822, digests, odd parameters, CRLF or LF) with byte mutations, plus
// nesting and part-count bombs past MAX_DEPTH and MAX_PARTS.
// Properties:
// - parseStructure never throws and returns within the time limit;
// - the tree respects the limits: containers nest at most MAX_DEPTH deep, at most
//   MAX_PARTS parts (each multipart may add one empty placeholder part);
// - every part's offsets lie within the input and are ordered: headerStart ≤
//   bodyStart ≤ bodyEnd ≤ length, size = bodyEnd - bodyStart, children inside their
//   parent and in order; `lines` of a text part is the number of LFs in its body;
// - BODYSTRUCTURE and BODY output parses under the RFC 9051 §9 grammar (the strict
//   reader of src/imap/render/test-reader.ts) to the same tree of types and sizes, and
//   ENVELOPE parses as an envelope.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { renderBodyStructure } from '../../src/imap/render/bodystructure.ts';
import { renderEnvelope } from '../../src/imap/render/envelope.ts';
import { type ReadBody, readBody, readEnvelope, WireReader } from '../../src/imap/render/test-reader.ts';
import { MAX_DEPTH, MAX_PARTS, parseStructure } from '../../src/mime/structure.ts';
import type { MimePart } from '../../src/mime/structure-types.ts';
import { type FuzzTarget, withinTime } from '../target.ts';
import { mutate } from './mutate.ts';

type Node =
  | { readonly kind: 'leaf'; readonly ct: string; readonly extra: string; readonly body: string }
  | {
      readonly kind: 'multi';
      readonly subtype: string;
      readonly boundary: string;
      readonly children: readonly Node[];
      readonly preamble: string;
      readonly epilogue: string;
      readonly close: boolean;
    }
  | { readonly kind: 'message'; readonly inner: Node; readonly headers: string };

const bodyText = fc.string({
  unit: fc.constantFrom('a', ' ', '\n', '\r\n', '--', '--b', '=\r\n', 'é', '\t', '.'),
  maxLength: 12,
});
const ctArb = fc.constantFrom(
  'text/plain; charset=utf-8',
  'text/html',
  'application/octet-stream; name="a b.pdf"',
  'image/png',
  'text/plain; format=flowed; delsp=yes',
  'text/plain; name*0="long"; name*1="er.txt"',
  "text/plain; name*=utf-8''%C3%A9t%C3%A9",
  'message/delivery-status',
  'TEXT/PLAIN',
  'text',
  '',
  'multipart/mixed',
);
const extraArb = fc.constantFrom(
  '',
  'Content-Transfer-Encoding: base64\r\n',
  'Content-Transfer-Encoding: quoted-printable\r\n',
  'Content-Disposition: attachment; filename="x.txt"\r\n',
  'Content-Language: en, de\r\n',
  'Content-ID: <a@b>\r\nContent-Description: d\r\n',
  'Content-Location: http://x/ y\r\n',
  'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n',
  'X-Long: ' + 'x'.repeat(50) + '\r\n folded\r\n',
);
const boundaryArb = fc.constantFrom('b', 'b1', 'bb', '=_x', 'b ', 'a'.repeat(70), "'()+_,-./:=?", 'b--');

const { node: nodeArb } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('leaf' as const), ct: ctArb, extra: extraArb, body: bodyText }),
    fc.record({
      kind: fc.constant('multi' as const),
      subtype: fc.constantFrom('mixed', 'alternative', 'digest', 'related'),
      boundary: boundaryArb,
      children: fc.array(tie('node'), { maxLength: 4 }),
      preamble: bodyText,
      epilogue: bodyText,
      close: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('message' as const),
      inner: tie('node'),
      headers: fc.constantFrom(
        '',
        'Subject: inner\r\nFrom: "A" <a@b.c>\r\n',
        'To: undisclosed-recipients:;\r\n',
      ),
    }),
  ),
}));

function serialise(n: Node): string {
  switch (n.kind) {
    case 'leaf':
      return `${n.ct === '' ? '' : `Content-Type: ${n.ct}\r\n`}${n.extra}\r\n${n.body}`;
    case 'message':
      return `Content-Type: message/rfc822\r\n\r\n${n.headers}${serialise(n.inner)}`;
    case 'multi': {
      const parts = n.children.map((c) => `\r\n--${n.boundary}\r\n${serialise(c)}`).join('');
      const end = n.close ? `\r\n--${n.boundary}--\r\n${n.epilogue}` : '';
      return `Content-Type: multipart/${n.subtype}; boundary="${n.boundary}"\r\n\r\n${n.preamble}${parts}${end}`;
    }
  }
}

const HEAD =
  'From: Alice <alice@example.org>\r\nTo: bob@example.org, "B, C" <c@d>\r\nSubject: =?utf-8?q?hi?=\r\nMessage-ID: <1@x>\r\nMIME-Version: 1.0\r\n';

const generated = fc.tuple(nodeArb, fc.boolean()).map(([n, lf]) => {
  const s = HEAD + serialise(n);
  return Buffer.from(lf ? s.replaceAll('\r\n', '\n') : s, 'utf8');
});

/** Nesting past MAX_DEPTH (multipart and message/rfc822) and part counts past MAX_PARTS. */
const bombs = fc.oneof(
  fc.tuple(fc.integer({ min: MAX_DEPTH - 2, max: MAX_DEPTH + 30 }), fc.boolean()).map(([depth, message]) => {
    let s = 'body\r\n';
    for (let i = depth; i > 0; i--) {
      s = message
        ? `Content-Type: message/rfc822\r\n\r\n${s}`
        : `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${s}\r\n--b${i}--\r\n`;
    }
    return Buffer.from(s);
  }),
  fc
    .integer({ min: MAX_PARTS - 10, max: MAX_PARTS + 2000 })
    .map((n) =>
      Buffer.from(
        `Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\n\r\nx\r\n'.repeat(n)}--b--\r\n`,
      ),
    ),
  fc
    .integer({ min: 100, max: 3000 })
    .map((n) =>
      Buffer.from(
        `Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n'.repeat(n)}`,
      ),
    ),
);

/**
 * CPU time allowed for parseStructure, and for rendering, of one input (best of three;
 * the checks around them are not timed). A hang guard with headroom: clean CI runs saw
 * up to 92 ms for the largest generated bombs, so 100 ms would fail at random on a slower
 * machine. The 100 ms event-loop budget itself is enforced on the real server by the
 * hostile suite's watchdog (test/hostile/mime-bombs.test.ts).
 */
const PARSE_MILLIS = 250;

function countLf(raw: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = raw.indexOf(0x0a, from); i !== -1 && i < to; i = raw.indexOf(0x0a, i + 1)) n++;
  return n;
}

interface Walk {
  parts: number;
  maxDepth: number;
}

function walk(raw: Buffer, p: MimePart, depth: number, w: Walk): void {
  w.parts++;
  w.maxDepth = Math.max(w.maxDepth, depth);
  assert.ok(
    0 <= p.headerStart && p.headerStart <= p.bodyStart,
    `headerStart ${p.headerStart} > bodyStart ${p.bodyStart}`,
  );
  assert.ok(
    p.bodyStart <= p.bodyEnd && p.bodyEnd <= raw.length,
    `body [${p.bodyStart}, ${p.bodyEnd}) outside 0..${raw.length}`,
  );
  assert.equal(p.size, p.bodyEnd - p.bodyStart);
  assert.ok(p.type === p.type.toLowerCase() && p.subtype === p.subtype.toLowerCase());
  if (p.type === 'text' && p.children.length === 0)
    assert.equal(p.lines, countLf(raw, p.bodyStart, p.bodyEnd), 'lines');
  if (p.type === 'multipart') {
    assert.ok(p.children.length > 0, 'multipart without children');
    let at = p.bodyStart;
    for (const c of p.children) {
      assert.ok(c.headerStart >= at, `child starts at ${c.headerStart}, before ${at}`);
      assert.ok(c.bodyEnd <= p.bodyEnd, `child ends at ${c.bodyEnd}, after its parent ${p.bodyEnd}`);
      walk(raw, c, depth + 1, w);
      at = c.bodyEnd;
    }
  } else assert.equal(p.children.length, 0, 'a leaf with children');
  if (p.message !== null) {
    assert.ok(p.type === 'message');
    assert.equal(p.message.body.headerStart, p.bodyStart, 'enclosed message starts at the body');
    assert.ok(p.message.body.bodyEnd <= p.bodyEnd);
    walk(raw, p.message.body, depth + 1, w);
  }
}

function sameTree(read: ReadBody, p: MimePart): void {
  assert.equal(read.type, p.type);
  assert.equal(read.subtype.toLowerCase(), p.subtype);
  assert.equal(read.children.length, p.type === 'multipart' ? p.children.length : 0);
  if (p.type !== 'multipart') assert.equal(read.size, p.size);
  for (const [i, c] of read.children.entries()) sameTree(c, p.children[i]!);
  if (p.message !== null) sameTree(read.message!.body, p.message.body);
}

export function checkMime(raw: Buffer): void {
  const s = withinTime(PARSE_MILLIS, () => parseStructure(raw));
  const w: Walk = { parts: 0, maxDepth: 0 };
  walk(raw, s.body, 0, w);
  assert.ok(w.maxDepth <= MAX_DEPTH, `parts nested ${w.maxDepth} deep (limit ${MAX_DEPTH})`);
  assert.ok(w.parts <= 2 * MAX_PARTS + 1, `${w.parts} parts (limit ${MAX_PARTS} plus placeholders)`);
  for (const extensible of [true, false]) {
    const text = withinTime(
      PARSE_MILLIS,
      () => `(${renderBodyStructure(s.body, extensible)} ${renderEnvelope(s.envelope)})`,
    );
    const r = new WireReader(text);
    const items = r.value();
    r.done();
    assert.ok(Array.isArray(items) && items.length === 2);
    sameTree(readBody(items[0]!, extensible), s.body);
    readEnvelope(items[1]!);
  }
}

export const mime: FuzzTarget<Buffer> = {
  name: 'mime',
  description:
    'parseStructure + BODYSTRUCTURE/ENVELOPE: limits, ordered in-bounds offsets, output parses back',
  arbitrary: fc.oneof({ weight: 8, arbitrary: mutate(generated) }, { weight: 1, arbitrary: bombs }),
  fromCorpus: (bytes) => bytes,
  check: checkMime,
  limits: { maxMillis: 3000 },
};
