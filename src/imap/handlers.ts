// The command table: every IMAP command this server implements, by name.

import { APPEND_HANDLERS } from './commands/append.ts';
import { COPY_HANDLERS } from './commands/copy.ts';
import { FETCH_HANDLERS } from './commands/fetch.ts';
import { IDLE_HANDLERS } from './commands/idle.ts';
import { LIST_HANDLERS } from './commands/list.ts';
import { MAILBOX_HANDLERS } from './commands/mailboxes.ts';
import { SEARCH_HANDLERS } from './commands/search.ts';
import { SELECT_HANDLERS } from './commands/select.ts';
import { SESSION_HANDLERS } from './commands/session.ts';
import { STORE_HANDLERS } from './commands/store.ts';
import type { Handler } from './handler.ts';

export type { Outcome } from './handler.ts';

export const HANDLERS: ReadonlyMap<string, Handler> = new Map([
  ...SESSION_HANDLERS,
  ...MAILBOX_HANDLERS,
  ...LIST_HANDLERS,
  ...SELECT_HANDLERS,
  ...FETCH_HANDLERS,
  ...STORE_HANDLERS,
  ...SEARCH_HANDLERS,
  ...COPY_HANDLERS,
  ...APPEND_HANDLERS,
  ...IDLE_HANDLERS,
]);
