// Layer 3 entry: one framed command → grammar → state check → handler → untagged
// updates → tagged status. The only place an error becomes a response (STYLE.md):
// ImapNo → NO, ImapBad/ImapCommandBad → BAD, anything unexpected → NO [SERVERBUG]
// with an incident id (internal text never reaches the client).
// RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH (and SORT,
// THREAD) by sequence number; their UID forms may carry them.

import { incidentId, isSealpostError } from '../core/errors.ts';
import type { ImapConnection } from './connection.ts';
import { ImapCommandBad, ImapNo } from './errors.ts';
import { HANDLERS, type Outcome } from './handlers.ts';
import { type CommandPart, ImapBad, parseCommand } from './protocol/index.ts';

const SEQUENCE_COMMANDS = new Set(['FETCH', 'STORE', 'SEARCH', 'SORT', 'THREAD']);

export async function dispatch(conn: ImapConnection, parts: readonly CommandPart[]): Promise<void> {
  const parsed = parseCommand(parts, { limits: conn.server.limits, utf8: conn.utf8 });
  if (
    !conn.authenticated &&
    ++conn.unauthenticatedCommands > conn.server.config.max_unauthenticated_commands
  ) {
    conn.bye('Too many commands before login');
    return;
  }
  if (!parsed.ok) {
    const e = parsed.error;
    const code = e.codeText ? `[${e.codeText}] ` : '';
    conn.write(`${parsed.tag ?? '*'} ${e.status} ${code}${e.message}\r\n`);
    if (e.status === 'BAD') conn.countBad();
    return;
  }
  const { tag, command } = parsed;
  const handler = HANDLERS.get(command.name);
  if (handler === undefined) {
    conn.write(`${tag} BAD Command not supported\r\n`);
    conn.countBad();
    return;
  }
  if (!handler.states.includes(conn.state.kind)) {
    const why = conn.authenticated ? 'Not allowed in this state' : 'Log in first';
    conn.write(`${tag} BAD ${why}\r\n`);
    conn.countBad();
    return;
  }
  let outcome: Outcome;
  const syncs = conn.state.kind === 'selected' && handler.sync !== 'none';
  try {
    // Before and after: the command sees the mailbox as it is now (a SEARCH for a
    // flag another session just set finds it), and what changed meanwhile follows.
    if (syncs && !(await syncSelected(conn, command.name))) return;
    outcome = await handler.run(conn, command, tag);
  } catch (e) {
    outcome = failure(conn, e);
  }
  if (conn.closed || outcome.tagged === false) return;
  if (syncs && conn.state.kind === 'selected') {
    try {
      if (!(await syncSelected(conn, command.name))) return;
    } catch (e) {
      outcome = failure(conn, e);
    }
  }
  const status = outcome.status ?? 'OK';
  const code = outcome.code !== undefined ? `[${outcome.code}] ` : '';
  conn.write(`${tag} ${status} ${code}${outcome.text}\r\n`);
  if (status === 'BAD') conn.countBad();
}

/** Send what changed in the selected mailbox; false if the session had to end. */
async function syncSelected(conn: ImapConnection, name: string): Promise<boolean> {
  if (conn.state.kind !== 'selected') return true;
  const mailbox = conn.state.mailbox;
  const lines = await mailbox.sync(conn.server.store, {
    allowExpunge: !SEQUENCE_COMMANDS.has(name),
    condstore: conn.condstore,
    qresync: conn.enabled.has('QRESYNC'),
  });
  for (const l of lines) conn.untagged(l);
  if (!mailbox.gone) return true;
  conn.bye('The selected mailbox was deleted or renamed elsewhere');
  return false;
}

function failure(conn: ImapConnection, e: unknown): Outcome {
  if (e instanceof ImapNo)
    return { status: 'NO', ...(e.responseCode ? { code: e.responseCode } : {}), text: e.message };
  if (e instanceof ImapBad)
    return { status: e.status, ...(e.codeText ? { code: e.codeText } : {}), text: e.message };
  if (e instanceof ImapCommandBad) {
    return { status: 'BAD', ...(e.responseCode ? { code: e.responseCode } : {}), text: e.message };
  }
  if (isSealpostError(e, 'store.not-found'))
    return { status: 'NO', code: 'NONEXISTENT', text: 'No such mailbox' };
  if (isSealpostError(e, 'store.conflict'))
    return { status: 'NO', code: 'ALREADYEXISTS', text: 'Already exists' };
  if (isSealpostError(e, 'store.quota')) return { status: 'NO', code: 'OVERQUOTA', text: 'Quota exceeded' };
  const incident = incidentId();
  conn.log.error({ err: e, incident }, 'imap: unexpected error');
  return { status: 'NO', code: 'SERVERBUG', text: `Internal error, incident ${incident}` };
}
