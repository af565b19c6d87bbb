// Test helpers for the IMAP protocol layer: frame a raw command and open a cursor on it.

import { type CommandPart, CommandReader } from './framing.ts';
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
