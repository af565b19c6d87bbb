// Declarative grammar of the IMAP commands (RFC 9051 §6; RFC 3501 where
// IMAP4rev1 differs): each entry is `{ name, parse }`, and parse reads the
// arguments after "<tag> SP <name>". The dispatcher (issue 3) adds states and run.
// This file holds the `Command` union and the simple commands; the others live
// by family: mailbox-commands.ts (CREATE, LIST, STATUS, APPEND), fetch.ts,
// store.ts (STORE, COPY, MOVE), search.ts (SEARCH, SORT, THREAD),
// misc-commands.ts (COMPRESS, QUOTA).
// IMAP4rev1-only commands kept for rev1 clients: CHECK (RFC 3501 §6.4.1), LSUB (§6.3.9).
// Extensions here: SASL-IR (RFC 4959), ENABLE (RFC 5161), CONDSTORE/QRESYNC
// (RFC 7162 §3.1.8, §3.2.5), UIDPLUS UID EXPUNGE (RFC 4315), ID (RFC 2971).
// Not here yet: CATENATE.

import type { ImapDateTime } from './datetime.ts';
import { FETCH_COMMANDS } from './fetch.ts';
import type { FetchStoreCommand } from './fetch-types.ts';
import type { Literal } from './framing.ts';
import { mailbox } from './mailbox.ts';
import { MAILBOX_COMMANDS } from './mailbox-commands.ts';
import { MISC_COMMANDS } from './misc-commands.ts';
import { SEARCH_COMMANDS } from './search.ts';
import { type SequenceSet, sequenceSet } from './sequence.ts';
import { STORE_COMMANDS } from './store.ts';
import type { Cursor } from './tokens.ts';

export interface QresyncParams {
  readonly uidValidity: number;
  readonly modSeq: bigint;
  readonly knownUids: SequenceSet | undefined;
  readonly seqMatch: { readonly seqs: SequenceSet; readonly uids: SequenceSet } | undefined;
}

/** One message of an APPEND (RFC 3502 MULTIAPPEND: one or more per command). */
export interface AppendMessage {
  readonly flags: readonly string[];
  readonly date: ImapDateTime | undefined;
  readonly message: Literal;
}

/** Every parsed command: the simple ones below and FETCH, STORE, SEARCH & co. (fetch-types.ts). */
export type Command = SimpleCommand | FetchStoreCommand;

type NoArgument = 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'IDLE' | 'CLOSE' | 'UNSELECT' | 'CHECK';

type SimpleCommand =
  | {
      readonly name: NoArgument;
    }
  | { readonly name: 'EXPUNGE' | 'NAMESPACE' }
  | { readonly name: 'LOGIN'; readonly user: string; readonly password: string }
  | {
      readonly name: 'AUTHENTICATE';
      readonly mechanism: string;
      readonly initialResponse: Buffer | undefined;
    }
  | { readonly name: 'ENABLE'; readonly capabilities: readonly string[] }
  | {
      readonly name: 'SELECT' | 'EXAMINE';
      readonly mailbox: string;
      readonly condstore: boolean;
      readonly qresync: QresyncParams | undefined;
    }
  | {
      readonly name: 'CREATE';
      readonly mailbox: string;
      /** RFC 6154 §5.2 `(USE (\\Drafts))`: the canonical attribute, or undefined. */
      readonly specialUse: string | undefined;
    }
  | { readonly name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; readonly mailbox: string }
  | { readonly name: 'RENAME'; readonly from: string; readonly to: string }
  | {
      readonly name: 'LIST';
      readonly selection: readonly string[];
      readonly reference: string;
      readonly patterns: readonly string[];
      readonly returns: readonly string[];
      readonly returnStatus: readonly string[] | undefined;
    }
  /** IMAP4rev1 LSUB (RFC 3501 §6.3.9): reference and one pattern, as for LIST. */
  | { readonly name: 'LSUB'; readonly reference: string; readonly pattern: string }
  | { readonly name: 'STATUS'; readonly mailbox: string; readonly items: readonly string[] }
  | { readonly name: 'APPEND'; readonly mailbox: string; readonly messages: readonly AppendMessage[] }
  | { readonly name: 'UID EXPUNGE'; readonly uids: SequenceSet }
  | { readonly name: 'ID'; readonly params: ReadonlyMap<string, string | null> | null };

export interface CommandSpec {
  readonly name: string;
  readonly parse: (c: Cursor) => Command;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 4959 §3: initial-response = base64 / "="
function initialResponse(c: Cursor): Buffer | undefined {
  if (!c.maybe(' ')) return undefined;
  if (c.maybe('=')) return Buffer.alloc(0);
  const text = c.atom();
  if (!BASE64.test(text)) c.bad('Invalid base64 in the initial response');
  return Buffer.from(text, 'base64');
}

// RFC 7162 §3.2.5: QRESYNC SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
function qresync(c: Cursor): QresyncParams {
  c.expect('(');
  const uidValidity = c.nzNumber();
  c.sp();
  const modSeq = c.modSeq();
  let knownUids: SequenceSet | undefined;
  let seqMatch: QresyncParams['seqMatch'];
  if (c.maybe(' ') && c.peek() !== '(') knownUids = sequenceSet(c);
  if (c.peek() === '(' || (knownUids && c.maybe(' '))) {
    c.expect('(');
    const seqs = sequenceSet(c);
    c.sp();
    seqMatch = { seqs, uids: sequenceSet(c) };
    c.expect(')');
  }
  c.expect(')');
  return { uidValidity, modSeq, knownUids, seqMatch };
}

function select(name: 'SELECT' | 'EXAMINE') {
  return (c: Cursor): Command => {
    c.sp();
    const box = mailbox(c);
    let condstore = false;
    let qr: QresyncParams | undefined;
    if (c.maybe(' ')) {
      c.list((l) => {
        const p = l.keyword();
        if (p === 'CONDSTORE' && !condstore) condstore = true;
        else if (p === 'QRESYNC' && !qr) {
          l.sp();
          qr = qresync(l);
        } else l.bad(`Unknown or repeated SELECT parameter ${p.slice(0, 20)}`);
      }, false);
    }
    return { name, mailbox: box, condstore, qresync: qr };
  };
}

function oneMailbox(name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE') {
  return (c: Cursor): Command => {
    c.sp();
    return { name, mailbox: mailbox(c) };
  };
}

const none = (name: NoArgument) => () => ({ name });

// RFC 2971 §3.3: "(" string SP nstring *(SP string SP nstring) ")" / NIL; at most 30 pairs
function id(c: Cursor): Command {
  c.sp();
  if (c.peek() !== '(') {
    if (c.keyword() !== 'NIL') c.bad('ID needs a list or NIL');
    return { name: 'ID', params: null };
  }
  const params = new Map<string, string | null>();
  c.list((l) => {
    const key = l.string();
    l.sp();
    const value = l.nstring();
    if (key.length > 30 || (value?.length ?? 0) > 1024 || params.size >= 30) l.bad('ID parameters too long');
    params.set(key, value);
  });
  return { name: 'ID', params };
}

const SPECS: CommandSpec[] = [
  { name: 'CAPABILITY', parse: none('CAPABILITY') },
  { name: 'NOOP', parse: none('NOOP') },
  { name: 'LOGOUT', parse: none('LOGOUT') },
  { name: 'STARTTLS', parse: none('STARTTLS') },
  { name: 'IDLE', parse: none('IDLE') },
  { name: 'CLOSE', parse: none('CLOSE') },
  { name: 'UNSELECT', parse: none('UNSELECT') },
  { name: 'CHECK', parse: none('CHECK') },
  { name: 'EXPUNGE', parse: () => ({ name: 'EXPUNGE' }) },
  { name: 'NAMESPACE', parse: () => ({ name: 'NAMESPACE' }) },
  {
    name: 'LOGIN',
    parse: (c) => {
      c.sp();
      const user = c.astring();
      c.sp();
      return { name: 'LOGIN', user, password: c.astring() };
    },
  },
  {
    name: 'AUTHENTICATE',
    parse: (c) => {
      c.sp();
      const mechanism = c.keyword();
      return { name: 'AUTHENTICATE', mechanism, initialResponse: initialResponse(c) };
    },
  },
  {
    name: 'ENABLE',
    parse: (c) => {
      const capabilities: string[] = [];
      do {
        c.sp();
        capabilities.push(c.keyword());
      } while (c.peek() === ' ');
      return { name: 'ENABLE', capabilities };
    },
  },
  { name: 'SELECT', parse: select('SELECT') },
  { name: 'EXAMINE', parse: select('EXAMINE') },
  { name: 'DELETE', parse: oneMailbox('DELETE') },
  { name: 'SUBSCRIBE', parse: oneMailbox('SUBSCRIBE') },
  { name: 'UNSUBSCRIBE', parse: oneMailbox('UNSUBSCRIBE') },
  {
    name: 'RENAME',
    parse: (c) => {
      c.sp();
      const from = mailbox(c);
      c.sp();
      return { name: 'RENAME', from, to: mailbox(c) };
    },
  },
  {
    name: 'UID EXPUNGE',
    parse: (c) => {
      c.sp();
      return { name: 'UID EXPUNGE', uids: sequenceSet(c) };
    },
  },
  { name: 'ID', parse: id },
  ...MAILBOX_COMMANDS,
  ...FETCH_COMMANDS,
  ...STORE_COMMANDS,
  ...SEARCH_COMMANDS,
  ...MISC_COMMANDS,
];

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(SPECS.map((s) => [s.name, s]));
