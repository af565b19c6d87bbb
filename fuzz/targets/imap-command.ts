// Fuzz target: the IMAP framing and command grammar (src/imap/protocol). Inputs are
// grammar-shaped commands (every command name, atoms, quoted strings, literals,
// nested lists, sequence sets, dates, SEARCH keys) with random byte mutations, or
// plain random text, fed to CommandReader in random chunks.
// Properties:
// - framing and grammar throw nothing but ImapBad (the grammar is run WITHOUT the
//   catch-all of parseCommand, which would hide a TypeError or a stack overflow);
// - parseCommand agrees with the strict run (same ok/error, same tag);
// - what the framing buffers stays within the limits: no line segment over
//   maxLineLength, no literal over the literal cap, no command over maxCommandLength;
// - an accepted command carries the tag and the command name it was sent with.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { COMMANDS, type Command } from '../../src/imap/protocol/commands.ts';
import { ImapBad } from '../../src/imap/protocol/errors.ts';
import { type CommandPart, CommandReader, TAG } from '../../src/imap/protocol/framing.ts';
import { parseCommand } from '../../src/imap/protocol/grammar.ts';
import { type ImapLimits, imapLimits } from '../../src/imap/protocol/limits.ts';
import { Cursor } from '../../src/imap/protocol/tokens.ts';
import type { FuzzTarget } from '../target.ts';
import { mutate, splitAt } from './mutate.ts';

const LIMITS: ImapLimits = imapLimits(4096, {
  maxLineLength: 2048,
  maxCommandLength: 8192,
  maxLiteralBeforeAuth: 1024,
  maxLiteralMinus: 512,
  maxCommandLiterals: 8192,
  maxLiteralsPerCommand: 20,
  maxListDepth: 16,
  maxListItems: 200,
  maxTokens: 2000,
  maxSequenceRanges: 100,
});

const WORDS = [
  'FLAGS',
  '(FLAGS)',
  'BODY[]',
  'BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>',
  'BODY[1.2.MIME]',
  'UID',
  'RFC822.SIZE',
  'ALL',
  'FAST',
  'FULL',
  'INBOX',
  'NIL',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BINARY[1]<5.5>',
  'BINARY.SIZE[2]',
  '+FLAGS.SILENT',
  '-FLAGS',
  'FLAGS.SILENT',
  '(\\Seen \\Deleted $Junk)',
  '\\Answered',
  '(CHANGEDSINCE 5)',
  '(UNCHANGEDSINCE 3)',
  '(CONDSTORE)',
  '(QRESYNC (67890007 20050715194045000 41,43:211,214:541))',
  'RETURN (MIN MAX COUNT ALL SAVE)',
  'CHARSET UTF-8',
  'CHARSET',
  'UTF-8',
  'US-ASCII',
  'OR',
  'NOT',
  'SINCE',
  '1-Feb-1994',
  '"17-Jul-1996 02:44:25 -0700"',
  'HEADER',
  'TEXT',
  'LARGER',
  'SMALLER',
  'MODSEQ',
  '$',
  '1:*',
  '*',
  '4294967295',
  '4294967296',
  '0',
  '(SPECIAL-USE)',
  '(SUBSCRIBED RECURSIVEMATCH)',
  'RETURN (CHILDREN STATUS (MESSAGES))',
  '(MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)',
  'REFERENCES',
  'ORDEREDSUBJECT',
  '(REVERSE DATE ARRIVAL FROM SUBJECT)',
  '(USE (\\Drafts))',
  'PLAIN',
  'dGVzdA==',
  '=',
  'DEFLATE',
  'UTF8=ACCEPT',
  'CONDSTORE',
  '("name" "x" "version" NIL)',
  '(STORAGE 512)',
  '""',
  'KEYWORD',
  'SEEN',
  'UNSEEN',
  'BEFORE',
  'ON',
  'SENTSINCE',
  'FROM',
  'TO',
  'SUBJECT',
  'BCC',
  'NEW',
  'OLD',
  'RECENT',
  'DELETED',
  '~{3}',
  '(PARTIAL 1:10)',
  'PARTIAL',
  'SAVEDATE',
  'EMAILID',
  'THREADID',
  '&AKM-',
  '&Jjo-!',
  'a/../../b',
  '%',
  'x*',
];

const tag = fc.stringMatching(/^[A-Za-z0-9.]{1,6}$/);
const names = [...COMMANDS.keys()];
const atomArb = fc.stringMatching(/^[A-Za-z0-9\\$.:,*<>[\]+-]{1,10}$/);
const numberArb = fc.oneof(
  fc.nat({ max: 5000 }).map(String),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
);
const seqArb = fc
  .array(
    fc.tuple(fc.oneof(fc.integer({ min: 0, max: 20 }).map(String), fc.constant('*')), fc.option(fc.nat(30))),
    {
      minLength: 1,
      maxLength: 6,
    },
  )
  .map((rs) => rs.map(([a, b]) => (b === null ? a : `${a}:${b}`)).join(','));
const quotedArb = fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`);
const literalArb = fc
  .tuple(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('', '+'), fc.constantFrom('', '', '~'))
  .map(([s, plus, tilde]) => `${tilde}{${Buffer.byteLength(s)}${plus}}\r\n${s}`);

/** Literals at the size caps (LITERAL- 512, before/after auth 1024/4096): off-by-ones live there. */
const bigLiteralArb = fc
  .tuple(fc.constantFrom(511, 512, 513, 1023, 1024, 1025, 4095, 4096, 4097), fc.constantFrom('', '+'))
  .map(([n, plus]) => `{${n}${plus}}\r\n${'x'.repeat(n)}`);

const { value: valueArb } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...WORDS),
    atomArb,
    numberArb,
    seqArb,
    quotedArb,
    literalArb,
    bigLiteralArb,
    fc.array(tie('value'), { maxLength: 4 }).map((xs) => `(${xs.join(' ')})`),
  ),
}));

/** A command: tag, name, arguments; sometimes nested deeply. */
const commandArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(tag, fc.constantFrom(...names), fc.array(valueArb, { maxLength: 6 }))
      .map(([t, n, args]) => `${t} ${n}${args.map((a) => ` ${a}`).join('')}\r\n`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        tag,
        fc.constantFrom(
          'SEARCH NOT ',
          'SEARCH (',
          'SEARCH OR ALL ',
          'FETCH 1 (',
          'LIST "" (',
          'STORE 1 FLAGS (',
        ),
        fc.integer({ min: 1, max: 400 }),
      )
      .map(([t, head, n]) => `${t} ${head}${head.slice(head.indexOf(' ') + 1).repeat(n)}ALL\r\n`),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 200 }) },
);

export interface ImapCommandInput {
  readonly raw: Buffer;
  readonly cuts: readonly number[];
  readonly utf8: boolean;
  readonly literalPlus: boolean;
}

function strictParse(
  parts: readonly CommandPart[],
  utf8: boolean,
): { ok: boolean; tag?: string; command?: Command } {
  const first = typeof parts[0] === 'string' ? parts[0] : '';
  const rawTag = /^[^ ]*/.exec(first)?.[0] ?? '';
  if (!TAG.test(rawTag)) return { ok: false };
  try {
    const c = new Cursor(parts, { limits: LIMITS, utf8 });
    c.expect(rawTag);
    c.sp();
    let name = c.keyword();
    if (name === 'UID') {
      c.sp();
      name = `UID ${c.keyword()}`;
    }
    const spec = COMMANDS.get(name);
    if (!spec) throw new ImapBad('unknown');
    const command = spec.parse(c);
    c.expectEnd();
    return { ok: true, tag: rawTag, command };
  } catch (e) {
    if (e instanceof ImapBad) return { ok: false, tag: rawTag };
    throw e; // a TypeError, RangeError (stack) … escaping the grammar is the bug
  }
}

function checkParts(parts: readonly CommandPart[], literalPlus: boolean): void {
  let text = 0;
  for (const [i, p] of parts.entries()) {
    if (typeof p === 'string') {
      // RFC 7888 §5: without LITERAL+ a non-synchronising literal is at most maxLiteralMinus.
      const marker = /\{([0-9]+)\+\}$/.exec(p);
      if (marker !== null && !literalPlus && i < parts.length - 1)
        assert.ok(
          Number(marker[1]) <= LIMITS.maxLiteralMinus,
          `LITERAL- literal of ${marker[1]} octets accepted`,
        );
      assert.ok(p.length + 2 <= LIMITS.maxLineLength, `line segment of ${p.length} octets buffered`);
      text += p.length + 2;
    } else {
      assert.ok(p.data.length <= LIMITS.maxLiteralAfterAuth, `literal of ${p.data.length} octets buffered`);
    }
  }
  assert.ok(text <= LIMITS.maxCommandLength, `command of ${text} octets buffered`);
  assert.ok((parts.length - 1) / 2 <= LIMITS.maxLiteralsPerCommand, 'too many literals buffered');
}

export function checkCommand(input: ImapCommandInput): void {
  const reader = new CommandReader(LIMITS, input.literalPlus ? 'literal-plus' : 'literal-minus');
  reader.setAuthenticated(true);
  for (const piece of splitAt(input.raw, input.cuts)) {
    reader.push(piece);
    for (let e = reader.next(); e; e = reader.next()) {
      if (e.kind === 'error') assert.ok(e.error instanceof ImapBad);
      if (e.kind !== 'command') continue;
      checkParts(e.parts, input.literalPlus);
      const strict = strictParse(e.parts, input.utf8);
      const loose = parseCommand(e.parts, { limits: LIMITS, utf8: input.utf8 });
      assert.equal(loose.ok, strict.ok, 'parseCommand and the strict grammar run disagree');
      if (!loose.ok || !strict.command) continue;
      assert.equal(loose.tag, strict.tag);
      const head = (e.parts[0] as string).split(' ');
      const sent = (head[1] ?? '').toUpperCase();
      const name = sent === 'UID' ? `UID ${(head[2] ?? '').toUpperCase()}` : sent;
      assert.equal(loose.command.name, name.replace(/\{.*$/, ''), 'command name differs from the wire');
    }
  }
}

export const imapCommand: FuzzTarget<ImapCommandInput> = {
  name: 'imap-command',
  description: 'IMAP framing + grammar: only ImapBad, limits hold, parseCommand agrees with the strict run',
  arbitrary: fc
    .record({
      text: mutate(commandArb.map((s) => Buffer.from(s, 'utf8'))),
      cuts: fc.array(fc.nat(400), { maxLength: 4 }),
      utf8: fc.boolean(),
      literalPlus: fc.boolean(),
    })
    .map(({ text, cuts, utf8, literalPlus }) => ({ raw: text, cuts, utf8, literalPlus })),
  fromCorpus: (bytes) => ({ raw: bytes, cuts: [], utf8: true, literalPlus: true }),
  check: checkCommand,
  limits: { maxMillis: 100 },
};
