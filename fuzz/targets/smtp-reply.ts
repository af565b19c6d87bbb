// Fuzz target: the outbound client's reply reader (src/delivery/smtp-client-reply.ts).
// Inputs are generated replies (one or several, single- and multi-line, with and
// without enhanced codes, CRLF or bare LF) with byte mutations, fed in random chunks.
// Properties:
// - feed throws nothing but ReplyFramingError;
// - what is buffered stays bounded (pendingBytes within the line and line-count caps);
// - unmutated replies come out exactly as sent: code, enhanced code, line texts,
//   however the bytes were chunked.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReplyFramingError, ReplyReader, type SmtpReply } from '../../src/delivery/smtp-client-reply.ts';
import type { FuzzTarget } from '../target.ts';
import { applyEdits, splitAt } from './mutate.ts';

const LIMITS = { maxLineLength: 80, maxLines: 8 };

interface SentReply {
  readonly code: number;
  readonly enhanced: string | null;
  readonly texts: readonly string[];
}

export interface SmtpReplyInput {
  readonly replies: readonly SentReply[];
  readonly bareLf: boolean;
  readonly edits: Parameters<typeof applyEdits>[1];
  readonly cuts: readonly number[];
}

const textArb = fc.string({
  unit: fc.constantFrom('a', ' ', '-', '.', '5', '\t', 'é', '\u0000'),
  maxLength: 30,
});
const replyArb: fc.Arbitrary<SentReply> = fc.record({
  code: fc.integer({ min: 200, max: 599 }),
  enhanced: fc.option(fc.tuple(fc.nat(999), fc.nat(999)).map(([a, b]) => `${a}.${b}`)),
  texts: fc.array(textArb, { minLength: 1, maxLength: 10 }),
});

function wire(r: SentReply, eol: string): string {
  const cls = Math.floor(r.code / 100);
  return r.texts
    .map((t, i) => {
      const sep = i === r.texts.length - 1 ? ' ' : '-';
      const enh = r.enhanced === null ? '' : `${cls}.${r.enhanced} `;
      return `${r.code}${sep}${enh}${t}${eol}`;
    })
    .join('');
}

const editArb = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat(255) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 4 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({
      op: fc.constant('repeat' as const),
      at: fc.nat(),
      n: fc.integer({ min: 1, max: 90 }),
      times: fc.integer({ min: 1, max: 12 }),
    }),
  ),
  { maxLength: 3 },
);

export function checkReplies(input: SmtpReplyInput): void {
  const eol = input.bareLf ? '\n' : '\r\n';
  const raw = applyEdits(Buffer.from(input.replies.map((r) => wire(r, eol)).join(''), 'utf8'), input.edits);
  const reader = new ReplyReader(LIMITS);
  const got: SmtpReply[] = [];
  let failed = false;
  for (const chunk of splitAt(raw, input.cuts)) {
    try {
      reader.feed(chunk);
    } catch (e) {
      if (!(e instanceof ReplyFramingError)) throw e;
      failed = true;
      break;
    }
    for (let r = reader.take(); r; r = reader.take()) got.push(r);
    const cap = LIMITS.maxLineLength + 1 + LIMITS.maxLines * (LIMITS.maxLineLength + 4);
    assert.ok(reader.pendingBytes <= cap, `${reader.pendingBytes} bytes buffered`);
  }
  if (input.edits.length > 0) return;
  // Unmutated, and every line within the limits: each reply reads back as sent.
  const fits = input.replies.every(
    (r) =>
      r.texts.length <= LIMITS.maxLines &&
      r.texts.every((t) => Buffer.byteLength(wire({ ...r, texts: [t] }, '')) <= LIMITS.maxLineLength),
  );
  if (!fits) return;
  assert.ok(!failed, 'valid replies rejected');
  assert.equal(got.length, input.replies.length);
  input.replies.forEach((r, i) => {
    const g = got[i]!;
    assert.equal(g.code, r.code);
    const cls = Math.floor(r.code / 100);
    // RFC 3463: only classes 2, 4 and 5 have enhanced codes.
    if (r.enhanced !== null && cls !== 3) {
      assert.equal(g.enhanced, `${cls}.${r.enhanced.split('.').map(Number).join('.')}`);
      assert.deepEqual(
        g.lines,
        r.texts.map((t) => t.replace(/^ +/, '')),
      );
    } else if (g.enhanced === null && r.enhanced === null) assert.deepEqual(g.lines, r.texts);
  });
}

export const smtpReply: FuzzTarget<SmtpReplyInput> = {
  name: 'smtp-reply',
  description:
    'SMTP client reply reader: only ReplyFramingError, bounded buffering, valid replies read back exactly',
  arbitrary: fc.record({
    replies: fc.array(replyArb, { minLength: 1, maxLength: 3 }),
    bareLf: fc.boolean(),
    edits: editArb,
    cuts: fc.array(fc.nat(500), { maxLength: 5 }),
  }),
  fromCorpus: (bytes) => ({
    replies: [],
    bareLf: false,
    edits: [{ op: 'insert', at: 0, bytes }],
    cuts: [3, 17],
  }),
  check: checkReplies,
  limits: { maxMillis: 100 },
};
