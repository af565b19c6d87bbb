// Small wire-format helpers the command handlers share: mailbox names as the
// client expects them (modified UTF-7 unless UTF8=ACCEPT or IMAP4rev2 is enabled,
// RFC 9051 §5.1; ENABLE IMAP4rev2 turns UTF8=ACCEPT on in commands/session.ts) and
// quoting (RFC 9051 §9 `quoted`; a literal when the text cannot be quoted).

import type { ImapConnection } from './connection.ts';
import { encodeModifiedUtf7 } from './protocol/index.ts';

const QUOTABLE = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;
const QUOTABLE_UTF8 = /^[^\x00\r\n]*$/u;

/**
 * A string as `quoted` when possible, else as a literal. With `utf8` (the session
 * accepts UTF-8, RFC 9051 §9 QUOTED-CHAR / RFC 6855) non-ASCII text may be quoted.
 */
export function imapString(s: string, utf8 = false): string {
  const quotable = utf8 ? QUOTABLE_UTF8 : QUOTABLE;
  if (quotable.test(s) && Buffer.byteLength(s, 'utf8') <= 1024) {
    return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  }
  const bytes = Buffer.byteLength(s, 'utf8');
  return `{${bytes}}\r\n${s}`;
}

export function mailboxWire(conn: ImapConnection, name: string): string {
  const utf8 = conn.enabled.has('UTF8=ACCEPT');
  return imapString(utf8 ? name : encodeModifiedUtf7(name), utf8);
}

export function flagsWire(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}
