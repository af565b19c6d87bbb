// Mailbox commands with options (layer 2): CREATE with RFC 4466 create-params
// and the RFC 6154 §5.2 USE parameter; LIST with RFC 5258 selection and return
// options, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE; IMAP4rev1 LSUB (RFC 3501 §6.3.9); STATUS (RFC 9051 §6.3.11);
// APPEND with RFC 3502 MULTIAPPEND (several messages in one command) and RFC 3516
// literal8.
//
// Invariants:
// - Unknown LIST options are BAD (RFC 5258 §3), RECURSIVEMATCH alone (or only
//   with REMOTE) is BAD (RFC 5258 §3.1); MYRIGHTS (RFC 8440) is accepted and
//   ignored; options are upper-cased and listed once.
// - CREATE takes at most one special-use attribute, one of RFC 6154 §2's, in
//   canonical case; anything else is `NO [USEATTR]` (RFC 6154 §5.2).
// - APPEND flags are settable flags (no \Recent); each message is a literal or
//   literal8; the number of messages is bounded by the framing's literal caps.

import type { AppendMessage, Command, CommandSpec } from './commands.ts';
import { dateTime, type ImapDateTime } from './datetime.ts';
import { ImapBad } from './errors.ts';
import { settableFlagList } from './flags.ts';
import { listMailbox, mailbox } from './mailbox.ts';
import type { Cursor } from './tokens.ts';

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
const SELECTION_OPTIONS = new Set(['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE']);
const RETURN_OPTIONS = new Set(['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE', 'STATUS', 'MYRIGHTS']);
const SPECIAL_USES = new Map(
  ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'].map((u) => [
    u.toUpperCase(),
    u,
  ]),
);

function statusItems(c: Cursor): string[] {
  return c.list((l) => {
    const item = l.keyword();
    if (!STATUS_ITEMS.has(item)) l.bad(`Unknown STATUS item ${item.slice(0, 20)}`);
    return item;
  }, false);
}

function useAttribute(c: Cursor): string {
  c.expect('\\', 'a special-use attribute');
  const name = `\\${c.atom()}`;
  const canonical = SPECIAL_USES.get(name.toUpperCase());
  if (!canonical) throw new ImapBad(`Unknown special use ${name.slice(0, 20)}`, 'USEATTR', { status: 'NO' });
  return canonical;
}

// RFC 4466: create = "CREATE" SP mailbox [create-params]; RFC 6154: create-param =/ "USE" SP "(" [use-attr *(SP use-attr)] ")"
function create(c: Cursor): Command {
  c.sp();
  const box = mailbox(c);
  let specialUse: string | undefined;
  let used = false;
  if (c.maybe(' ')) {
    c.list((l) => {
      const param = l.keyword();
      if (param !== 'USE' || used) l.bad(`Unknown or repeated CREATE parameter ${param.slice(0, 20)}`);
      used = true;
      l.sp();
      const uses = l.list(useAttribute);
      if (uses.length > 1) throw new ImapBad('One special use per mailbox', 'USEATTR', { status: 'NO' });
      specialUse = uses[0];
    }, false);
  }
  return { name: 'CREATE', mailbox: box, specialUse };
}

function selectionOptions(c: Cursor): string[] {
  const options = c.list((l) => {
    const opt = l.keyword();
    if (!SELECTION_OPTIONS.has(opt)) l.bad(`Unknown LIST selection option ${opt.slice(0, 20)}`);
    return opt;
  });
  if (options.includes('RECURSIVEMATCH') && options.every((o) => o === 'RECURSIVEMATCH' || o === 'REMOTE'))
    c.bad('RECURSIVEMATCH needs another selection option');
  c.sp();
  return [...new Set(options)];
}

// RFC 5258 §6: LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
function list(c: Cursor): Command {
  c.sp();
  const selection = c.peek() === '(' ? selectionOptions(c) : [];
  const reference = listMailbox(c, true);
  c.sp();
  const patterns = c.peek() === '(' ? c.list((l) => listMailbox(l, false), false) : [listMailbox(c, false)];
  const returns: string[] = [];
  let returnStatus: string[] | undefined;
  if (c.maybe(' ')) {
    c.expect('RETURN ', 'RETURN');
    c.list((l) => {
      const opt = l.keyword();
      if (!RETURN_OPTIONS.has(opt)) l.bad(`Unknown LIST return option ${opt.slice(0, 20)}`);
      if (opt === 'STATUS') {
        if (returnStatus) l.bad('STATUS given twice');
        l.sp();
        returnStatus = statusItems(l);
      }
      if (opt !== 'MYRIGHTS' && !returns.includes(opt)) returns.push(opt);
    });
  }
  return { name: 'LIST', selection, reference, patterns, returns, returnStatus };
}

// RFC 3502: append = "APPEND" SP mailbox 1*append-message;
// append-message = [SP flag-list] [SP date-time] SP (literal / literal8)
function appendMessage(c: Cursor): AppendMessage {
  c.sp();
  let flags: string[] = [];
  if (c.peek() === '(') {
    flags = settableFlagList(c);
    c.sp();
  }
  let date: ImapDateTime | undefined;
  if (c.peek() === '"') {
    date = dateTime(c);
    c.sp();
  }
  if (!c.atLiteral()) c.bad('APPEND needs the message as a literal');
  return { flags, date, message: c.literal(true) };
}

function append(c: Cursor): Command {
  c.sp();
  const box = mailbox(c);
  const messages: AppendMessage[] = [];
  do messages.push(appendMessage(c));
  while (c.peek() === ' ');
  return { name: 'APPEND', mailbox: box, messages };
}

export const MAILBOX_COMMANDS: readonly CommandSpec[] = [
  { name: 'CREATE', parse: create },
  { name: 'LIST', parse: list },
  {
    name: 'LSUB',
    parse: (c) => {
      c.sp();
      const reference = listMailbox(c, true);
      c.sp();
      return { name: 'LSUB', reference, pattern: listMailbox(c, false) };
    },
  },
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
];
