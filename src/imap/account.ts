// Access to the logged-in account and its mailboxes from a command handler.

import type { Account, Mailbox } from '../store/types.ts';
import type { ImapConnection } from './connection.ts';
import { ImapNo } from './errors.ts';
import type { SelectedMailbox } from './selected.ts';

export function accountOf(conn: ImapConnection): Account {
  const s = conn.state;
  if (s.kind !== 'authenticated' && s.kind !== 'selected') throw new ImapNo(undefined, 'Not logged in');
  return s.account;
}

export function selectedOf(conn: ImapConnection): SelectedMailbox {
  const s = conn.state;
  if (s.kind !== 'selected') throw new ImapNo(undefined, 'No mailbox selected');
  return s.mailbox;
}

/** The named mailbox of the logged-in account, or NO [NONEXISTENT] (TRYCREATE for COPY/APPEND targets). */
export async function mailboxNamed(conn: ImapConnection, name: string, tryCreate = false): Promise<Mailbox> {
  const box = await conn.server.store.getMailbox(accountOf(conn).id, name);
  if (box === null) throw new ImapNo(tryCreate ? 'TRYCREATE' : 'NONEXISTENT', 'No such mailbox');
  return box;
}
