// Small wire-format helpers the command handlers share: mailbox names as the
// client expects them (modified UTF-7 unless UTF8=ACCEPT, RFC 9051 §5.1.3) and
// quoting (RFC 9051 §9 `quoted`; a literal when the text cannot be quoted).

import type { ImapConnection } from './connection.ts';
import { encodeModifiedUtf7 } from './protocol/index.ts';

const QUOTABLE = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;

/** A string as `quoted` when possible, else as a literal. */
export function imapString(s: string): string {
  if (QUOTABLE.test(s) && s.length <= 1024) return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  const bytes = Buffer.byteLength(s, 'utf8');
  return `{${bytes}}\r\n${s}`;
}

export function mailboxWire(conn: ImapConnection, name: string): string {
  return imapString(conn.enabled.has('UTF8=ACCEPT') ? name : encodeModifiedUtf7(name));
}

export function flagsWire(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}
