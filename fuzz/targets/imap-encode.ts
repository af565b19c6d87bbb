// Fuzz target: the IMAP response encoder (src/imap/protocol/response.ts) against the
// grammar that reads the same forms (tokens.ts, mailbox.ts, sequence.ts,
// datetime.ts). Each input is a value, encoded as the server would encode it,
// framed into a command and parsed back by our own grammar (the reader):
// - str/astring/nstring: LOGIN <astring> <astring>, ID ("k" <nstring>) read back equal;
// - mailboxName (modified UTF-7 or UTF-8): SELECT <mailbox> reads back the name;
// - sequenceSetString: UID EXPUNGE <set> holds exactly the numbers given;
// - formatDateTime: APPEND INBOX <date-time> {1+} reads back the same instant and zone.
// The render strings (src/imap/render/strings.ts) round-trip through the same path.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Command } from '../../src/imap/protocol/commands.ts';
import { CommandReader } from '../../src/imap/protocol/framing.ts';
import { parseCommand } from '../../src/imap/protocol/grammar.ts';
import { inSequenceSet, response } from '../../src/imap/protocol/index.ts';
import { imapLimits } from '../../src/imap/protocol/limits.ts';
import * as renderStrings from '../../src/imap/render/strings.ts';
import type { FuzzTarget } from '../target.ts';

const LIMITS = imapLimits(1_000_000);

export type EncodeInput =
  | { readonly kind: 'login'; readonly user: string; readonly password: string; readonly utf8: boolean }
  | { readonly kind: 'render'; readonly value: string }
  | { readonly kind: 'id'; readonly value: string | null; readonly utf8: boolean }
  | { readonly kind: 'mailbox'; readonly name: string; readonly utf8: boolean }
  | { readonly kind: 'seqset'; readonly nums: readonly number[] }
  | { readonly kind: 'date'; readonly ms: number; readonly zone: number };

function parseWire(wire: string, utf8: boolean): Command {
  const reader = new CommandReader(LIMITS, 'literal-plus');
  reader.setAuthenticated(true);
  // The encoder writes `{n}` literals; a client sends them the same way (LITERAL+ here).
  reader.push(Buffer.from(`${wire.replace(/\{(\d+)\}\r\n/g, '{$1+}\r\n')}\r\n`, 'utf8'));
  for (let e = reader.next(); e; e = reader.next()) {
    if (e.kind === 'error')
      assert.fail(`framing rejected ${JSON.stringify(wire.slice(0, 200))}: ${e.error.message}`);
    if (e.kind !== 'command') continue;
    const r = parseCommand(e.parts, { limits: LIMITS, utf8 });
    if (!r.ok) assert.fail(`grammar rejected ${JSON.stringify(wire.slice(0, 200))}: ${r.error.message}`);
    return r.command;
  }
  return assert.fail('incomplete command');
}

// Text as IMAP can carry it: well-formed Unicode, no NUL (RFC 9051 §4.3 CHAR8 excludes it).
const text = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('\r', '\n', '"', '\\', ' ', '(', '{', '&', '*', '%'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 40,
  })
  .map((s) => s.replaceAll('\0', ''));
const longText = fc.oneof(
  text,
  fc.tuple(text, fc.integer({ min: 900, max: 1100 })).map(([s, n]) => s.padEnd(n, 'x')),
);
const mailboxName = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('&', '-', '/', '.', ' ', '~'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 30,
  })
  .filter((s) => !/[\x00-\x1f\x7f]/.test(s));

const inputArb: fc.Arbitrary<EncodeInput> = fc.oneof(
  fc.record({ kind: fc.constant('login' as const), user: longText, password: longText, utf8: fc.boolean() }),
  fc.record({ kind: fc.constant('render' as const), value: longText }),
  fc.record({ kind: fc.constant('id' as const), value: fc.option(text), utf8: fc.boolean() }),
  fc.record({ kind: fc.constant('mailbox' as const), name: mailboxName, utf8: fc.boolean() }),
  fc.record({
    kind: fc.constant('seqset' as const),
    nums: fc.array(fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constantFrom(0xffff_ffff, 0xffff_fffe)), {
      minLength: 1,
      maxLength: 40,
    }),
  }),
  fc.record({
    kind: fc.constant('date' as const),
    // years 0000-9999 after the zone shift (formatDateTime's range)
    ms: fc.integer({ min: -62_167_219_200_000 + 86_400_000, max: 253_402_300_799_000 - 86_400_000 }),
    zone: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
  }),
);

export function checkEncode(input: EncodeInput): void {
  switch (input.kind) {
    case 'login': {
      const wire = `a LOGIN ${response.astring(input.user, input.utf8)} ${response.astring(input.password, input.utf8)}`;
      const c = parseWire(wire, input.utf8);
      assert.deepEqual(c, { name: 'LOGIN', user: input.user, password: input.password });
      return;
    }
    case 'render': {
      // render/strings.ts drops NUL; the rest must read back unchanged as string and astring.
      const wire = `a LOGIN ${renderStrings.astring(input.value)} ${renderStrings.string(input.value)}`;
      const c = parseWire(wire, false);
      assert.deepEqual(c, { name: 'LOGIN', user: input.value, password: input.value });
      return;
    }
    case 'id': {
      const wire = `a ID ("k" ${response.nstring(input.value, input.utf8)})`;
      const c = parseWire(wire, input.utf8);
      assert.equal(c.name, 'ID');
      if (c.name === 'ID') assert.deepEqual(c.params, new Map([['k', input.value]]));
      return;
    }
    case 'mailbox': {
      const c = parseWire(`a SELECT ${response.mailboxName(input.name, input.utf8)}`, input.utf8);
      const expected = input.name.toUpperCase() === 'INBOX' ? 'INBOX' : input.name;
      assert.equal(c.name === 'SELECT' ? c.mailbox : null, expected);
      return;
    }
    case 'seqset': {
      const wire = response.sequenceSetString(input.nums);
      const c = parseWire(`a UID EXPUNGE ${wire}`, false);
      assert.ok(c.name === 'UID EXPUNGE' && c.uids.kind === 'ranges');
      const ranges = c.uids.ranges;
      const want = new Set(input.nums);
      for (const r of ranges) assert.ok(typeof r.from === 'number' && typeof r.to === 'number');
      for (const n of want) assert.ok(inSequenceSet(ranges, n, 0xffff_ffff), `${n} missing from ${wire}`);
      const covered = ranges.reduce((s, r) => s + (r.to as number) - (r.from as number) + 1, 0);
      assert.equal(covered, want.size, `${wire} covers other numbers than ${[...want]}`);
      return;
    }
    case 'date': {
      const dt = response.formatDateTime(input.ms, input.zone);
      const c = parseWire(`a APPEND INBOX ${dt} {1+}\r\nx`, false);
      assert.ok(c.name === 'APPEND');
      const date = c.messages[0]?.date;
      assert.deepEqual(date, { time: Math.floor(input.ms / 1000) * 1000, zoneMinutes: input.zone }, dt);
      return;
    }
  }
}

export const imapEncode: FuzzTarget<EncodeInput> = {
  name: 'imap-encode',
  description:
    'IMAP response encoder round-trips through our grammar: strings, mailbox names, sequence sets, date-times',
  arbitrary: inputArb,
  fromCorpus: (bytes) => ({
    kind: 'login',
    user: bytes.toString('utf8').replaceAll('\0', ''),
    password: 'p',
    utf8: true,
  }),
  check: checkEncode,
  limits: { maxMillis: 100 },
};
