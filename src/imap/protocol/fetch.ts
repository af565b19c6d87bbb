// FETCH and UID FETCH (layer 2): RFC 9051 §6.4.5, §6.4.9 and §9 `fetch`,
// `fetch-att`; RFC 3501 §6.4.5 for RFC822, RFC822.HEADER, RFC822.TEXT; RFC 3516
// §4.2 BINARY/BINARY.PEEK/BINARY.SIZE; RFC 7162 §3.1.4.1 MODSEQ and CHANGEDSINCE,
// §3.2.6 VANISHED; RFC 8474 §5 EMAILID and THREADID; RFC 4466 fetch-modifiers.
//
// Invariants:
// - The macros ALL, FAST and FULL are expanded, and only accepted alone, never
//   inside a parenthesised list (RFC 9051 §9).
// - The attribute list has no duplicates. UID FETCH always includes UID
//   (RFC 9051 §6.4.9: the UID is always returned); CHANGEDSINCE always includes
//   MODSEQ (RFC 7162 §3.1.4.1: it implies the MODSEQ item).
// - VANISHED only with UID FETCH and only together with CHANGEDSINCE (RFC 7162 §3.2.6).

import type { Command, CommandSpec } from './commands.ts';
import type { FetchAttribute, FetchModifiers } from './fetch-types.ts';
import { partial, section, sectionBinary } from './section.ts';
import { sequenceSet } from './sequence.ts';
import type { Cursor } from './tokens.ts';

type SimpleKind = Exclude<FetchAttribute['kind'], 'BODY[]' | 'BINARY[]' | 'BINARY.SIZE[]'>;

const SIMPLE: readonly SimpleKind[] = [
  'UID',
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'MODSEQ',
  'EMAILID',
  'THREADID',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
];
const FAST: readonly SimpleKind[] = ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'];
const MACROS: ReadonlyMap<string, readonly SimpleKind[]> = new Map([
  ['FAST', FAST],
  ['ALL', [...FAST, 'ENVELOPE']],
  ['FULL', [...FAST, 'ENVELOPE', 'BODY']],
]);
const ATT_NAME = /[A-Za-z0-9.]+/y;

/** One fetch-att, or (when `allowMacro`) a macro expanded to its attributes. */
function fetchAtt(c: Cursor, allowMacro: boolean): FetchAttribute[] {
  const name = c.token(ATT_NAME, 'a FETCH attribute').toUpperCase();
  const macro = MACROS.get(name);
  if (macro && allowMacro) return macro.map((kind) => ({ kind }));
  if (c.peek() === '[') {
    if (name === 'BODY' || name === 'BODY.PEEK')
      return [{ kind: 'BODY[]', section: section(c), partial: partial(c), peek: name === 'BODY.PEEK' }];
    if (name === 'BINARY' || name === 'BINARY.PEEK') {
      const part = sectionBinary(c);
      return [{ kind: 'BINARY[]', part, partial: partial(c), peek: name === 'BINARY.PEEK' }];
    }
    if (name === 'BINARY.SIZE')
      return [{ kind: 'BINARY.SIZE[]', part: sectionBinary(c), partial: undefined, peek: true }];
  } else {
    const kind = SIMPLE.find((k) => k === name);
    if (kind) return [{ kind }];
  }
  return c.bad(`Unknown FETCH attribute ${name.slice(0, 30)}`);
}

function fetchModifiers(c: Cursor): FetchModifiers {
  let changedSince: bigint | undefined;
  let vanished = false;
  c.list((l) => {
    const m = l.keyword();
    if (m === 'CHANGEDSINCE' && changedSince === undefined) {
      l.sp();
      changedSince = l.modSeq();
    } else if (m === 'VANISHED' && !vanished) {
      vanished = true;
    } else {
      l.bad(`Unknown or repeated FETCH modifier ${m.slice(0, 20)}`);
    }
  }, false);
  return { changedSince, vanished };
}

function withoutDuplicates(attributes: readonly FetchAttribute[]): FetchAttribute[] {
  const seen = new Set<string>();
  return attributes.filter((a) => {
    const key = JSON.stringify(a);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function fetch(name: 'FETCH' | 'UID FETCH') {
  return (c: Cursor): Command => {
    c.sp();
    const set = sequenceSet(c);
    c.sp();
    const requested = c.peek() === '(' ? c.list((l) => fetchAtt(l, false), false).flat() : fetchAtt(c, true);
    const modifiers = c.maybe(' ') ? fetchModifiers(c) : { changedSince: undefined, vanished: false };
    if (modifiers.vanished && name !== 'UID FETCH') c.bad('VANISHED is only valid with UID FETCH');
    if (modifiers.vanished && modifiers.changedSince === undefined) c.bad('VANISHED needs CHANGEDSINCE');
    const implied: FetchAttribute[] = [];
    if (name === 'UID FETCH') implied.push({ kind: 'UID' });
    const attributes = withoutDuplicates([...implied, ...requested]);
    if (modifiers.changedSince !== undefined && !attributes.some((a) => a.kind === 'MODSEQ'))
      attributes.push({ kind: 'MODSEQ' });
    return { name, set, attributes, modifiers };
  };
}

export const FETCH_COMMANDS: readonly CommandSpec[] = [
  { name: 'FETCH', parse: fetch('FETCH') },
  { name: 'UID FETCH', parse: fetch('UID FETCH') },
];
