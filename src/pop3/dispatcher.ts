// Layer 3 entry: one line → grammar → state check → handler. The only place an
// error becomes a response (STYLE.md): a grammar error or an unknown command is
// `-ERR` (counted towards MAX_PROTOCOL_ERRORS), anything unexpected is
// `-ERR [SYS/TEMP]` (RFC 3206 §4) with an incident id; internal text never reaches
// the client.
//
// Invariant: before login at most max_unauthenticated_commands commands are
// answered; the next one closes the connection.

import { incidentId } from '../core/errors.ts';
import { AUTH_HANDLERS } from './auth.ts';
import { TRANSACTION_HANDLERS } from './commands.ts';
import type { Pop3Connection } from './connection.ts';
import { type CommandName, type CommandOf, parseCommand } from './grammar.ts';
import type { StateKind } from './session.ts';

export interface Handler<N extends CommandName = CommandName> {
  readonly states: readonly StateKind[];
  /** Writes the whole response itself (single- or multi-line). */
  run(conn: Pop3Connection, command: CommandOf<N>): Promise<void>;
}

export type Handlers<N extends CommandName> = { readonly [K in N]: Handler<K> };

const HANDLERS: Handlers<CommandName> = { ...AUTH_HANDLERS, ...TRANSACTION_HANDLERS };

export async function dispatch(conn: Pop3Connection, line: string): Promise<void> {
  const max = conn.server.config.max_unauthenticated_commands;
  if (conn.state.kind === 'authorization' && ++conn.unauthenticatedCommands > max) {
    conn.reply('-ERR Too many commands before login');
    conn.end();
    return;
  }
  const parsed = parseCommand(line);
  if (!parsed.ok) {
    conn.reply(`-ERR ${parsed.error}`);
    conn.countProtocolError();
    return;
  }
  const command = parsed.command;
  const handler = HANDLERS[command.name] as Handler;
  if (!handler.states.includes(conn.state.kind)) {
    conn.reply(conn.state.kind === 'authorization' ? '-ERR Log in first' : '-ERR Not allowed after login');
    conn.countProtocolError();
    return;
  }
  try {
    await handler.run(conn, command);
  } catch (e) {
    const incident = incidentId();
    conn.log.error({ err: e, incident, command: command.name }, 'pop3: unexpected error');
    conn.reply(`-ERR [SYS/TEMP] Internal error (incident ${incident})`);
  }
}
