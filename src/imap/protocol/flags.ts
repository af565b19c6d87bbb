// Message flags: RFC 9051 §2.3.2 and §9 `flag`, `flag-list`, `flag-keyword`,
// `flag-extension`. Invariants: system flags come back in their canonical case
// (`\seen` → `\Seen`); keywords keep the client's spelling (they compare
// case-insensitively above this layer); `\*` is only accepted where the caller
// allows it (PERMANENTFLAGS is a response, never a command argument).

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
