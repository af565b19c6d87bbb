// The wire forms the command handlers need that depend on the session: mailbox
// names as the client expects them (modified UTF-7 unless the session accepts UTF-8,
// RFC 9051 §5.1 / RFC 6855). The encoding itself is the protocol layer's
// (protocol/response.ts); nothing here re-implements it.

import type { ImapConnection } from './connection.ts';
import { encodeModifiedUtf7, response } from './protocol/index.ts';

/** A mailbox name as a string (quoted, or a literal when it must be). */
export function mailboxWire(conn: ImapConnection, name: string): string {
  return response.str(conn.utf8 ? name : encodeModifiedUtf7(name), conn.utf8);
}

export const imapString = response.str;
export const flagsWire = response.flagList;
