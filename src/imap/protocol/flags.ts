// Message flags: RFC 9051 §2.3.2 and §9 `flag`, `flag-list`, `flag-keyword`,
// `flag-extension`. Invariants: system flags come back in their canonical case
// (`\seen` → `\Seen`); keywords keep the client's spelling (they compare
// case-insensitively above this layer); `\*` is only accepted where the caller
// allows it (PERMANENTFLAGS is a response, never a command argument).
// Flags a client sets (STORE, APPEND) are the five system flags and keywords:
// `\Recent` cannot be set by a client (RFC 3501 §2.3.2), and other `\` flags are
// flag-extensions no standard defines, so both are refused.

import type { Cursor } from './tokens.ts';

const SYSTEM = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];
const CANONICAL = new Map(SYSTEM.map((f) => [f.toUpperCase(), f]));

export function flag(c: Cursor): string {
  if (c.maybe('\\')) {
    const name = `\\${c.atom()}`;
    return CANONICAL.get(name.toUpperCase()) ?? name;
  }
  return c.atom();
}

/** flag-list = "(" [flag *(SP flag)] ")" */
export function flagList(c: Cursor): string[] {
  return c.list(flag);
}

/** A flag a client may set: a system flag other than \Recent, or a keyword (an atom). */
export function settableFlag(c: Cursor): string {
  const f = flag(c);
  if (f.startsWith('\\') && !CANONICAL.has(f.toUpperCase()))
    c.bad(`Flag ${f.slice(0, 20)} cannot be set by a client`);
  return f;
}

/** "(" [settable flag *(SP settable flag)] ")" */
export function settableFlagList(c: Cursor): string[] {
  return c.list(settableFlag);
}
