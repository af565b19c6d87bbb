// IMAP command head and entry point (layer 2): RFC 9051 §2.2.1 and §9 `command`,
// `tag`; one framed command in, a typed command or an ImapBad out.
// Invariants: never throws; the tag is reported whenever it could be read so
// the dispatcher can answer `<tag> BAD …` (otherwise `* BAD …`). Which commands
// are legal in which session state is the dispatcher's job, not the grammar's.

import { COMMANDS, type Command } from './commands.ts';
import { ImapBad } from './errors.ts';
import { type CommandPart, TAG } from './framing.ts';
import { Cursor, type ParseOptions } from './tokens.ts';

export type ParseResult =
  | { readonly ok: true; readonly tag: string; readonly command: Command }
  | { readonly ok: false; readonly tag: string | undefined; readonly error: ImapBad };

const TAG_TOKEN = /^[^ ]*/;

export function parseCommand(parts: readonly CommandPart[], options: ParseOptions): ParseResult {
  const first = typeof parts[0] === 'string' ? parts[0] : '';
  const rawTag = TAG_TOKEN.exec(first)?.[0] ?? '';
  const tag = TAG.test(rawTag) ? rawTag : undefined;
  try {
    if (tag === undefined) throw new ImapBad('Missing or invalid tag');
    const c = new Cursor(parts, options);
    c.expect(tag);
    c.sp();
    let name = c.keyword();
    if (name === 'UID') {
      c.sp();
      name = `UID ${c.keyword()}`;
    }
    const spec = COMMANDS.get(name);
    if (!spec) throw new ImapBad(`Unknown command ${name.slice(0, 30)}`);
    const command = spec.parse(c);
    c.expectEnd();
    return { ok: true, tag, command };
  } catch (e) {
    if (e instanceof ImapBad) return { ok: false, tag, error: e };
    // A bug in a parse function must not escape as an unexpected error with internal text.
    return { ok: false, tag, error: new ImapBad('Invalid command') };
  }
}
