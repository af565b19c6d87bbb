// The declarative shape of a layer-3 command: `{ states, sync, run }` (STYLE.md).
// The dispatcher checks `states` before `run`; `run` returns the tagged status and
// writes untagged responses itself; it never sees bytes or grammar.

import type { ImapConnection } from './connection.ts';
import type { Command } from './protocol/index.ts';
import type { StateKind } from './session.ts';

export interface Outcome {
  readonly status?: 'OK' | 'NO' | 'BAD';
  readonly code?: string;
  readonly text: string;
  /** False when the handler already wrote its own tagged response (STARTTLS, LOGOUT). */
  readonly tagged?: false;
}

export interface Handler {
  readonly states: readonly StateKind[];
  /** 'none': no mailbox sync before the tagged response (LOGOUT, SELECT, …). */
  readonly sync?: 'none';
  run(conn: ImapConnection, command: Command, tag: string): Promise<Outcome>;
}

/** The command variants whose name is one of N (a variant may cover several names). */
type Named<N extends string> = Command extends infer C
  ? C extends { readonly name: infer X }
    ? [Extract<N, X>] extends [never]
      ? never
      : C
    : never
  : never;

export function define<N extends Command['name']>(
  names: N | readonly N[],
  spec: {
    readonly states: readonly StateKind[];
    readonly sync?: 'none';
    run(conn: ImapConnection, command: Named<N>, tag: string): Promise<Outcome>;
  },
): [string, Handler][] {
  const list: readonly N[] = typeof names === 'string' ? [names] : names;
  return list.map((n) => [n, spec as unknown as Handler]);
}

export const ok = (text = 'Completed', code?: string): Outcome =>
  code === undefined ? { text } : { text, code };
