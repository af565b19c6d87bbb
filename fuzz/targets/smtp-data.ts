// Fuzz target: the SMTP DATA paths on both sides.
// Inbound (src/smtp/data-collector.ts): collectData over the message split into
// random chunks is checked against a byte-at-a-time reference of the wire rules
// (bare CR/LF, NUL, line length, size): it refuses exactly the messages that break a rule,
// whatever the chunking, and names a rule the message does break; and an accepted message is kept byte for byte.
// Outbound (src/delivery/smtp-client-data.ts): the encoder's output, for any chunking,
// has only CRLF line ends, no premature end-of-data line, ends with CRLF "." CRLF,
// and un-stuffing it gives the content with every line end made CRLF; wireSize is
// the length of that; the encoding is the same however the content is chunked.
// Also declaredSize (src/smtp/envelope.ts): any SIZE argument → a safe integer ≥ 0.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import type { SMTPServerSession } from 'smtp-server';
import { DataEncoder, encodeData, wireSize } from '../../src/delivery/smtp-client-data.ts';
import { collectData, type DataProblem } from '../../src/smtp/data-collector.ts';
import { declaredSize } from '../../src/smtp/envelope.ts';
import type { FuzzTarget } from '../target.ts';
import { splitAt } from './mutate.ts';

export interface SmtpDataInput {
  readonly data: Buffer;
  readonly cuts: readonly number[];
  readonly maxLine: number;
  readonly maxBytes: number;
  readonly size: unknown;
}

/** Every wire rule the message breaks (the collector reports whichever it meets first). */
function problems(data: Buffer, maxLine: number, maxBytes: number): Set<DataProblem> {
  const out = new Set<DataProblem>();
  if (data.includes(0)) out.add('nul');
  let len = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b === 0x0a || (b === 0x0d && data[i + 1] !== 0x0a)) {
      out.add('bare-newline');
      len = 0;
      continue;
    }
    if (b === 0x0d) {
      i++;
      len = 0;
      continue;
    }
    len++;
    if (len > maxLine - 2) out.add('line-too-long');
  }
  if (data.length > maxBytes) out.add('too-big');
  return out;
}

/** The content as the next hop must see it: every CR, LF or CRLF one CRLF, a final CRLF added. */
function normalised(data: Buffer): Buffer {
  const s = data.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  return Buffer.from(s.length === 0 || s.endsWith('\r\n') ? s : `${s}\r\n`, 'latin1');
}

function checkEncoder(input: SmtpDataInput): void {
  const enc = new DataEncoder();
  const pieces = splitAt(input.data, input.cuts).map((c) => enc.encode(c));
  const out = Buffer.concat([...pieces, enc.end()]);
  const whole = Buffer.concat([...encodeData(input.data, 7)]);
  assert.ok(out.equals(whole), 'encoding depends on chunking');
  const text = out.toString('latin1');
  assert.ok(text.endsWith('.\r\n') && (text.length === 3 || text.endsWith('\r\n.\r\n')), 'bad terminator');
  const body = text.slice(0, -3);
  assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(body), 'bare CR or LF sent');
  const lines = body === '' ? [] : body.slice(0, -2).split('\r\n');
  for (const l of lines) assert.notEqual(l, '.', 'a lone "." line ends the data early');
  const unstuffed = lines.map((l) => (l.startsWith('.') ? l.slice(1) : l));
  const got = Buffer.from(unstuffed.length === 0 ? '' : `${unstuffed.join('\r\n')}\r\n`, 'latin1');
  const want = normalised(input.data);
  assert.ok(got.equals(want), 'un-stuffed output differs from the content');
  assert.equal(wireSize(input.data), want.length, 'wireSize');
}

async function checkCollector(input: SmtpDataInput): Promise<void> {
  const chunks = splitAt(input.data, input.cuts);
  const limits = { maxBytes: input.maxBytes, maxLineLength: input.maxLine };
  const got = await collectData(Readable.from(chunks, { objectMode: false }), limits);
  const want = problems(input.data, input.maxLine, input.maxBytes);
  assert.equal(got.size, input.data.length);
  assert.equal(got.problem === null, want.size === 0, `collector ${got.problem}, rules broken: ${[...want]}`);
  if (got.problem !== null)
    assert.ok(want.has(got.problem), `collector ${got.problem}, rules broken: ${[...want]}`);
  if (got.problem === null) assert.ok(got.data.equals(input.data), 'accepted data changed');
  else assert.equal(got.data.length, 0, 'refused data kept');
}

function checkSize(size: unknown): void {
  const session = { envelope: { mailFrom: { address: 'a@b', args: { SIZE: size } }, rcptTo: [] } };
  const n = declaredSize(session as unknown as SMTPServerSession);
  assert.ok(Number.isSafeInteger(n) && n >= 0, `declaredSize ${n}`);
}

const byte = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0x0d, 0x0a, 0x2e, 0x41, 0x20) },
  { weight: 1, arbitrary: fc.nat(255) },
);

export const smtpData: FuzzTarget<SmtpDataInput> = {
  name: 'smtp-data',
  description:
    'SMTP DATA: collector vs a reference of the wire rules (any chunking); encoder stuffing/CRLF round trip',
  arbitrary: fc.record({
    data: fc.oneof(
      fc.array(byte, { maxLength: 200 }).map((b) => Buffer.from(b)),
      fc
        .array(fc.constantFrom('\r\n', '.', '..', '\r', '\n', 'ab', '\r\n.\r\n', '\n.\n'), { maxLength: 30 })
        .map((s) => Buffer.from(s.join(''), 'latin1')),
    ),
    cuts: fc.array(fc.nat(300), { maxLength: 6 }),
    maxLine: fc.integer({ min: 3, max: 40 }),
    maxBytes: fc.integer({ min: 0, max: 250 }),
    size: fc.oneof(fc.string(), fc.double(), fc.integer(), fc.constant(undefined), fc.bigInt().map(String)),
  }),
  fromCorpus: (bytes) => ({
    data: bytes,
    cuts: [1, 7, 64],
    maxLine: 1000,
    maxBytes: 1 << 20,
    size: String(bytes.length),
  }),
  check: async (input) => {
    checkEncoder(input);
    checkSize(input.size);
    await checkCollector(input);
  },
  limits: { maxMillis: 100 },
};
