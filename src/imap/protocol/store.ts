// STORE, COPY, MOVE and their UID forms (layer 2): RFC 9051 §6.4.6, §6.4.7,
// §6.4.8, §6.4.9 and §9 `store`, `store-att-flags`, `copy`, `move`; RFC 4466
// store-modifiers; RFC 7162 §3.1.3 UNCHANGEDSINCE; RFC 6851 MOVE.
//
// Invariants: STORE flags are a flag-list or space-separated flags (at least
// one); `\Recent` and other non-system `\` flags are refused (a client cannot set
// them); keywords are atoms. UNCHANGEDSINCE takes mod-sequence-valzer (0 allowed).

import type { Command, CommandSpec } from './commands.ts';
import { ImapBad } from './errors.ts';
import type { StoreAction } from './fetch-types.ts';
import { settableFlag, settableFlagList } from './flags.ts';
import { mailbox } from './mailbox.ts';
import { sequenceSet } from './sequence.ts';
import type { Cursor } from './tokens.ts';

const STORE_ITEM = /[+-]?[A-Za-z]+(?:\.[A-Za-z]+)?/y;
const STORE_ITEM_SHAPE = /^([+-]?)FLAGS(\.SILENT)?$/;

function unchangedSince(c: Cursor): bigint | undefined {
  let modSeq: bigint | undefined;
  c.list((l) => {
    const m = l.keyword();
    if (m !== 'UNCHANGEDSINCE' || modSeq !== undefined)
      l.bad(`Unknown or repeated STORE modifier ${m.slice(0, 20)}`);
    l.sp();
    modSeq = l.modSeq();
  }, false);
  c.sp();
  return modSeq;
}

function flags(c: Cursor): string[] {
  if (c.peek() === '(') return settableFlagList(c);
  const out: string[] = [];
  do {
    if (out.length >= c.options.limits.maxListItems) throw new ImapBad('Too many flags', 'TOOBIG');
    out.push(settableFlag(c));
  } while (c.maybe(' '));
  return out;
}

// store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
function store(name: 'STORE' | 'UID STORE') {
  return (c: Cursor): Command => {
    c.sp();
    const set = sequenceSet(c);
    c.sp();
    const modSeq = c.peek() === '(' ? unchangedSince(c) : undefined;
    const item = c.token(STORE_ITEM, 'FLAGS, +FLAGS or -FLAGS').toUpperCase();
    const m = STORE_ITEM_SHAPE.exec(item) ?? c.bad('Expected FLAGS, +FLAGS or -FLAGS');
    c.sp();
    const action: StoreAction = {
      mode: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set',
      silent: m[2] !== undefined,
      flags: flags(c),
    };
    return { name, set, unchangedSince: modSeq, action };
  };
}

function copy(name: 'COPY' | 'UID COPY' | 'MOVE' | 'UID MOVE') {
  return (c: Cursor): Command => {
    c.sp();
    const set = sequenceSet(c);
    c.sp();
    return { name, set, mailbox: mailbox(c) };
  };
}

export const STORE_COMMANDS: readonly CommandSpec[] = [
  { name: 'STORE', parse: store('STORE') },
  { name: 'UID STORE', parse: store('UID STORE') },
  { name: 'COPY', parse: copy('COPY') },
  { name: 'UID COPY', parse: copy('UID COPY') },
  { name: 'MOVE', parse: copy('MOVE') },
  { name: 'UID MOVE', parse: copy('UID MOVE') },
];
