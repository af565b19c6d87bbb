// POP3 grammar (layer 2): one line to a typed command, no I/O. RFC 1939 §3 (keyword,
// single-space separated arguments), §5–§7 (the commands), RFC 2449 §5 (CAPA),
// RFC 2595 §4 (STLS), RFC 5034 §4 (AUTH).
//
// Invariants:
// - Keywords are case-insensitive; arguments are taken as sent.
// - A message number is a positive decimal integer of at most MAX_NUMBER_DIGITS
//   digits with no sign or leading zero; a TOP line count a non-negative one. Range
//   checks against the maildrop belong to the command layer.
// - PASS takes the rest of the line as the password (RFC 1939 §7 allows spaces in
//   it); nothing here logs or echoes an argument.

import { MAX_NUMBER_DIGITS } from './limits.ts';

export type Pop3Command =
  | { readonly name: 'CAPA' | 'QUIT' | 'STLS' | 'NOOP' | 'STAT' | 'RSET' }
  | { readonly name: 'USER'; readonly user: string }
  | { readonly name: 'PASS'; readonly password: string }
  | { readonly name: 'AUTH'; readonly mechanism?: string; readonly initialResponse?: string }
  | { readonly name: 'LIST' | 'UIDL'; readonly msg?: number }
  | { readonly name: 'RETR' | 'DELE'; readonly msg: number }
  | { readonly name: 'TOP'; readonly msg: number; readonly lines: number };

export type CommandName = Pop3Command['name'];

/** The variant(s) of Pop3Command a name belongs to (a variant may cover several names). */
export type CommandOf<N extends CommandName> = Pop3Command extends infer C
  ? C extends { readonly name: infer X }
    ? [Extract<N, X>] extends [never]
      ? never
      : C
    : never
  : never;

export type ParseResult =
  | { readonly ok: true; readonly command: Pop3Command }
  | { readonly ok: false; readonly unknown: boolean; readonly error: string };

const NO_ARGS = new Set(['CAPA', 'QUIT', 'STLS', 'NOOP', 'STAT', 'RSET']);
const POSITIVE = new RegExp(`^[1-9][0-9]{0,${MAX_NUMBER_DIGITS - 1}}$`);
const NON_NEGATIVE = new RegExp(`^(?:0|[1-9][0-9]{0,${MAX_NUMBER_DIGITS - 1}})$`);

const fail = (error: string): ParseResult => ({ ok: false, unknown: false, error });
const ok = (command: Pop3Command): ParseResult => ({ ok: true, command });

function messageNumber(arg: string | undefined): number | null {
  return arg !== undefined && POSITIVE.test(arg) ? Number(arg) : null;
}

export function parseCommand(line: string): ParseResult {
  const space = line.indexOf(' ');
  const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase();
  const rest = space < 0 ? '' : line.slice(space + 1);
  if (keyword === 'PASS')
    return rest === '' ? fail('Missing password') : ok({ name: 'PASS', password: rest });
  const args = rest === '' ? [] : rest.split(' ');
  if (args.some((a) => a === '')) return fail('Arguments are separated by a single space');
  if (NO_ARGS.has(keyword)) {
    return args.length === 0 ? ok({ name: keyword } as Pop3Command) : fail(`${keyword} takes no argument`);
  }
  switch (keyword) {
    case 'USER':
      return args.length === 1 ? ok({ name: 'USER', user: args[0]! }) : fail('Usage: USER name');
    case 'AUTH':
      return parseAuth(args);
    case 'LIST':
    case 'UIDL': {
      if (args.length === 0) return ok({ name: keyword });
      const msg = messageNumber(args[0]);
      if (args.length > 1 || msg === null) return fail('Invalid message number');
      return ok({ name: keyword, msg });
    }
    case 'RETR':
    case 'DELE': {
      const msg = messageNumber(args[0]);
      if (args.length !== 1 || msg === null) return fail('Invalid message number');
      return ok({ name: keyword, msg });
    }
    case 'TOP': {
      const msg = messageNumber(args[0]);
      const count = args[1];
      if (args.length !== 2 || msg === null) return fail('Usage: TOP msg lines');
      if (count === undefined || !NON_NEGATIVE.test(count)) return fail('Invalid line count');
      return ok({ name: 'TOP', msg, lines: Number(count) });
    }
    default:
      return { ok: false, unknown: true, error: 'Unknown command' };
  }
}

/** RFC 5034 §4: AUTH mechanism [initial-response]; "=" is an empty initial response. */
function parseAuth(args: readonly string[]): ParseResult {
  if (args.length === 0) return ok({ name: 'AUTH' });
  if (args.length > 2) return fail('Usage: AUTH mechanism [initial-response]');
  const mechanism = args[0]!.toUpperCase();
  const initial = args[1];
  return ok(
    initial === undefined
      ? { name: 'AUTH', mechanism }
      : { name: 'AUTH', mechanism, initialResponse: initial },
  );
}

export { decodeBase64, parsePlain } from '../auth/sasl-plain.ts';
