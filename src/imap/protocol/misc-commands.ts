// COMPRESS (RFC 4978 §3) and QUOTA (RFC 9208 §4.1: GETQUOTA, GETQUOTAROOT,
// SETQUOTA) commands (layer 2).
// Invariants: DEFLATE is the only compression mechanism (anything else is BAD,
// RFC 4978 §3); quota root names are astrings kept as sent (they name roots,
// not mailboxes: "" is the usual one); resource names are upper-cased atoms,
// each at most once, with number64 limits.

import type { Command, CommandSpec } from './commands.ts';
import { mailbox } from './mailbox.ts';
import type { Cursor } from './tokens.ts';

function setQuota(c: Cursor): Command {
  c.sp();
  const root = c.astring();
  c.sp();
  const limits = new Map<string, number>();
  c.list((l) => {
    const resource = l.keyword();
    l.sp();
    const limit = l.number64();
    if (limits.has(resource)) l.bad(`Resource ${resource.slice(0, 20)} given twice`);
    limits.set(resource, limit);
  });
  return { name: 'SETQUOTA', root, limits };
}

export const MISC_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'COMPRESS',
    parse: (c) => {
      c.sp();
      const mechanism = c.keyword();
      if (mechanism !== 'DEFLATE') c.bad(`Unknown compression mechanism ${mechanism.slice(0, 20)}`);
      return { name: 'COMPRESS', mechanism: 'DEFLATE' };
    },
  },
  {
    name: 'GETQUOTA',
    parse: (c) => {
      c.sp();
      return { name: 'GETQUOTA', root: c.astring() };
    },
  },
  {
    name: 'GETQUOTAROOT',
    parse: (c) => {
      c.sp();
      return { name: 'GETQUOTAROOT', mailbox: mailbox(c) };
    },
  },
  { name: 'SETQUOTA', parse: setQuota },
];
