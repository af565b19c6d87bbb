// Mailbox names and the default set every account starts with.
// RFC 9051 §5.1 (INBOX is case-insensitive), RFC 6154 (special-use attributes).

import type { SpecialUse } from '../store/types.ts';

export interface DefaultMailbox {
  readonly name: string;
  readonly specialUse: SpecialUse | null;
}

export const DEFAULT_MAILBOXES: readonly DefaultMailbox[] = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];
