// Mailbox name policy for names a client creates or renames to (RFC 9051 §5.1,
// §6.3.4): '/' is the hierarchy delimiter, INBOX is case-insensitive, wildcards
// and empty or dot segments are refused. Names are only keys in the store: they
// never become file system paths, but `..`, `.` and empty segments are refused
// anyway so that no client (or export tool) can be confused by them.

import { ImapNo } from './errors.ts';

export const DELIMITER = '/';
const MAX_NAME = 1000;
const MAX_SEGMENT = 255;
const MAX_DEPTH = 16;

/** The canonical form of a client-supplied name (INBOX upper-cased, NFC, trailing '/' dropped). */
export function canonicalName(name: string): string {
  let n = name.normalize('NFC');
  if (n.endsWith(DELIMITER)) n = n.slice(0, -1);
  const first = n.split(DELIMITER, 1)[0] ?? '';
  if (first.toUpperCase() === 'INBOX') n = `INBOX${n.slice(first.length)}`;
  return n;
}

/** A name a mailbox may be created or renamed to; ImapNo with CANNOT otherwise. */
export function checkNewName(name: string): string {
  const n = canonicalName(name);
  const refuse = (why: string): never => {
    throw new ImapNo('CANNOT', `Invalid mailbox name: ${why}`);
  };
  if (n.length === 0) refuse('empty');
  if (n.length > MAX_NAME) refuse('too long');
  if (/[\x00-\x1f\x7f]/.test(n)) refuse('control characters');
  if (/[*%]/.test(n)) refuse('wildcards * and % are not allowed');
  const segments = n.split(DELIMITER);
  if (segments.length > MAX_DEPTH) refuse(`more than ${MAX_DEPTH} levels`);
  for (const s of segments) {
    if (s === '') refuse('empty hierarchy level');
    if (s === '.' || s === '..') refuse('"." and ".." are not allowed');
    if (s.length > MAX_SEGMENT) refuse('a level is too long');
    if (s !== s.trim()) refuse('leading or trailing spaces');
  }
  return n;
}

/** Every ancestor of a name, shortest first: "a/b/c" → ["a", "a/b"]. */
export function ancestors(name: string): string[] {
  const parts = name.split(DELIMITER);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join(DELIMITER));
  return out;
}
