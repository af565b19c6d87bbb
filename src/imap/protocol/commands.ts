// Declarative grammar of the simple IMAP commands (RFC 9051 §6; RFC 3501 where
// IMAP4rev1 differs): each entry is `{ name, parse }`, and parse reads the
// arguments after "<tag> SP <name>". The dispatcher (issue 3) adds states and run.
// Extensions: SASL-IR (RFC 4959), ENABLE (RFC 5161), CONDSTORE/QRESYNC (RFC 7162
// §3.1.8, §3.2.5), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// SPECIAL-USE (RFC 6154), BINARY APPEND (RFC 3516), UIDPLUS UID EXPUNGE
// (RFC 4315), ID (RFC 2971).
// Not here yet: FETCH, STORE, SEARCH, COPY, MOVE, UID variants of those,
// MULTIAPPEND, CATENATE, CREATE parameters.

import { dateTime, type ImapDateTime } from './datetime.ts';
import { flagList } from './flags.ts';
import type { Literal } from './framing.ts';
import { listMailbox, mailbox } from './mailbox.ts';
import { type SequenceSet, sequenceSet } from './sequence.ts';
import type { Cursor } from './tokens.ts';

export interface QresyncParams {
  readonly uidValidity: number;
  readonly modSeq: bigint;
  readonly knownUids: SequenceSet | undefined;
  readonly seqMatch: { readonly seqs: SequenceSet; readonly uids: SequenceSet } | undefined;
}

export type Command =
  | { readonly name: 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'IDLE' | 'CLOSE' | 'UNSELECT' }
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
  | { readonly name: 'CREATE' | 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; readonly mailbox: string }
  | { readonly name: 'RENAME'; readonly from: string; readonly to: string }
  | {
      readonly name: 'LIST';
      readonly selection: readonly string[];
      readonly reference: string;
      readonly patterns: readonly string[];
      readonly returns: readonly string[];
      readonly returnStatus: readonly string[] | undefined;
    }
  | { readonly name: 'STATUS'; readonly mailbox: string; readonly items: readonly string[] }
  | {
      readonly name: 'APPEND';
      readonly mailbox: string;
      readonly flags: readonly string[];
      readonly date: ImapDateTime | undefined;
      readonly message: Literal;
    }
  | { readonly name: 'UID EXPUNGE'; readonly uids: SequenceSet }
  | { readonly name: 'ID'; readonly params: ReadonlyMap<string, string | null> | null };

export interface CommandSpec {
  readonly name: string;
  readonly parse: (c: Cursor) => Command;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const STATUS_ITEMS = new Set([
  'MESSAGES',
  'RECENT',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'DELETED',
  'SIZE',
  'HIGHESTMODSEQ',
  'APPENDLIMIT',
  'MAILBOXID',
]);

function statusItems(c: Cursor): string[] {
  return c.list((l) => {
    const item = l.keyword();
    if (!STATUS_ITEMS.has(item)) l.bad(`Unknown STATUS item ${item.slice(0, 20)}`);
    return item;
  }, false);
}

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

function oneMailbox(name: 'CREATE' | 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE') {
  return (c: Cursor): Command => {
    c.sp();
    return { name, mailbox: mailbox(c) };
  };
}

const none = (name: 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'IDLE' | 'CLOSE' | 'UNSELECT') => () => ({
  name,
});

// RFC 5258 §6: LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
function list(c: Cursor): Command {
  c.sp();
  const selection = c.peek() === '(' ? c.list((l) => l.keyword()) : [];
  if (c.peek() === ' ') c.sp();
  const reference = listMailbox(c, true);
  c.sp();
  const patterns = c.peek() === '(' ? c.list((l) => listMailbox(l, false), false) : [listMailbox(c, false)];
  const returns: string[] = [];
  let returnStatus: string[] | undefined;
  if (c.maybe(' ')) {
    c.expect('RETURN ', 'RETURN');
    c.list((l) => {
      const opt = l.keyword();
      if (opt === 'STATUS') {
        l.sp();
        returnStatus = statusItems(l);
      }
      returns.push(opt);
    });
  }
  return { name: 'LIST', selection, reference, patterns, returns, returnStatus };
}

function append(c: Cursor): Command {
  c.sp();
  const box = mailbox(c);
  c.sp();
  const flags = c.peek() === '(' ? flagList(c) : [];
  if (c.peek() === ' ') c.sp();
  const date = c.peek() === '"' ? dateTime(c) : undefined;
  if (date) c.sp();
  if (!c.atLiteral()) c.bad('APPEND needs the message as a literal');
  return { name: 'APPEND', mailbox: box, flags, date, message: c.literal(true) };
}

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
  { name: 'CREATE', parse: oneMailbox('CREATE') },
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
  { name: 'LIST', parse: list },
  {
    name: 'STATUS',
    parse: (c) => {
      c.sp();
      const box = mailbox(c);
      c.sp();
      return { name: 'STATUS', mailbox: box, items: statusItems(c) };
    },
  },
  { name: 'APPEND', parse: append },
  {
    name: 'UID EXPUNGE',
    parse: (c) => {
      c.sp();
      return { name: 'UID EXPUNGE', uids: sequenceSet(c) };
    },
  },
  { name: 'ID', parse: id },
];

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(SPECS.map((s) => [s.name, s]));
