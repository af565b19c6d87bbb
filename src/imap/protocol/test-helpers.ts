// Test helpers for the IMAP protocol layer: frame a raw command, open a cursor on
// it, or parse it whole.

import assert from 'node:assert/strict';
import type { Command } from './commands.ts';
import type { ImapBad } from './errors.ts';
import { type CommandPart, CommandReader } from './framing.ts';
import { type ParseResult, parseCommand } from './grammar.ts';
import { imapLimits } from './limits.ts';
import { Cursor } from './tokens.ts';

export const testLimits = imapLimits(1_000_000);

/** Frame `raw` (CRLF appended if missing) with LITERAL+ and return its parts. */
export function frame(raw: string): CommandPart[] {
  const r = new CommandReader(testLimits, 'literal-plus');
  r.setAuthenticated(true);
  r.push(Buffer.from(raw.endsWith('\r\n') ? raw : `${raw}\r\n`, 'utf8'));
  for (let e = r.next(); e; e = r.next()) {
    if (e.kind === 'command') return [...e.parts];
    if (e.kind === 'error') throw e.error;
  }
  throw new Error('incomplete command');
}

export function cursor(raw: string, utf8 = false, limits = testLimits): Cursor {
  return new Cursor(frame(raw), { limits, utf8 });
}

/** Parse one raw command with the test limits. */
export function parse(raw: string, utf8 = false, limits = testLimits): ParseResult {
  return parseCommand(frame(raw), { limits, utf8 });
}

/** The command `raw` parses to; fails the test if it does not parse. */
export function parsed(raw: string, utf8 = false): Command {
  const r = parse(raw, utf8);
  if (!r.ok) assert.fail(`${raw.slice(0, 200)}: ${r.error.message}`);
  return r.command;
}

/** The error `raw` is rejected with; fails the test if it parses. */
export function rejected(raw: string, utf8 = false, limits = testLimits): ImapBad {
  const r = parse(raw, utf8, limits);
  if (r.ok) assert.fail(`${raw.slice(0, 200)} should be rejected`);
  return r.error;
}
