// SEARCH criteria (layer 2): RFC 9051 §6.4.4 and §9 `search-key`,
// `search-program`, `search-return-opts`, plus IMAP4rev1's NEW, OLD, RECENT
// (RFC 3501 §6.4.4), CONDSTORE MODSEQ (RFC 7162 §3.1.5), WITHIN OLDER/YOUNGER
// (RFC 5032), OBJECTID EMAILID/THREADID (RFC 8474 §6), SEARCHRES `$` (RFC 5182).
//
// Invariants:
// - Recursion (parenthesised groups, NOT, OR) goes through Cursor.nested, so a
//   `NOT NOT NOT …` chain is bounded by maxListDepth like any list (TOOBIG).
// - Several keys are one `and`; a group of one key is that key.
// - Only UTF-8 and US-ASCII are accepted charsets; another one is
//   `NO [BADCHARSET (UTF-8 US-ASCII)]` (RFC 9051 §6.4.4: NO, not BAD), raised
//   before any string of the criteria is decoded.
// - Dates are UTC midnights in ms; HEADER field names are lower-cased.
// Commands: SEARCH (RFC 9051 §6.4.4), SORT (RFC 5256 §3, RFC 5957 DISPLAYFROM/
// DISPLAYTO, RFC 5267 §3 ESORT RETURN), THREAD (RFC 5256 §3), and UID forms.
// SORT and THREAD take a mandatory charset.

import type { Command, CommandSpec } from './commands.ts';
import { date } from './datetime.ts';
import { ImapBad } from './errors.ts';
import type { SearchKey, SearchReturn, SortKey } from './fetch-types.ts';
import { sequenceSet } from './sequence.ts';
import type { Cursor } from './tokens.ts';

type TextKind = 'bcc' | 'body' | 'cc' | 'from' | 'subject' | 'text' | 'to';
type DateKind = 'before' | 'on' | 'since' | 'sentbefore' | 'senton' | 'sentsince';

const byName = <K extends string>(kinds: readonly K[]): ReadonlyMap<string, K> =>
  new Map(kinds.map((k) => [k.toUpperCase(), k]));

const NO_ARGUMENT: ReadonlyMap<string, SearchKey> = new Map(
  (
    [
      'all',
      'answered',
      'deleted',
      'draft',
      'flagged',
      'seen',
      'recent',
      'new',
      'old',
      'unanswered',
      'undeleted',
      'undraft',
      'unflagged',
      'unseen',
    ] as const
  ).map((kind) => [kind.toUpperCase(), { kind }]),
);
const TEXT = byName<TextKind>(['bcc', 'body', 'cc', 'from', 'subject', 'text', 'to']);
const DATES = byName<DateKind>(['before', 'on', 'since', 'sentbefore', 'senton', 'sentsince']);

const WITH_ARGUMENT = new Set([
  'NOT',
  'OR',
  'KEYWORD',
  'UNKEYWORD',
  'HEADER',
  'LARGER',
  'SMALLER',
  'OLDER',
  'YOUNGER',
  'UID',
  'MODSEQ',
  'EMAILID',
  'THREADID',
]);

export const CHARSETS: readonly string[] = ['UTF-8', 'US-ASCII'];
const RETURNS: readonly SearchReturn[] = ['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE'];
// RFC 8474 §4: objectid = 1*255(ALPHA / DIGIT / "_" / "-")
const OBJECT_ID = /[A-Za-z0-9_-]{1,255}/y;
// RFC 7162 §3.1.5: entry-name = DQUOTE "/flags/" attr-flag DQUOTE
const ENTRY_NAME = /^\/flags\/\\?[^\x00-\x20\x7f-\xff(){%*"\\\]]+$/;
const ENTRY_TYPES = new Set(['PRIV', 'SHARED', 'ALL']);

/** One group of several keys is their conjunction. */
function and(keys: SearchKey[]): SearchKey {
  return keys.length === 1 && keys[0] ? keys[0] : { kind: 'and', keys };
}

/** search-key, one level of recursion deeper for each group, NOT and OR operand. */
export function searchKey(c: Cursor): SearchKey {
  const p = c.peek();
  if (p === '(') return and(c.list(searchKey, false));
  if (p === '$' || p === '*' || (p !== undefined && p >= '0' && p <= '9'))
    return { kind: 'seq', set: sequenceSet(c) };
  const word = c.keyword();
  const simple = NO_ARGUMENT.get(word);
  if (simple) return simple;
  if (!TEXT.has(word) && !DATES.has(word) && !WITH_ARGUMENT.has(word))
    c.bad(`Unknown search key ${word.slice(0, 30)}`);
  c.sp();
  const text = TEXT.get(word);
  if (text) return { kind: text, value: c.astring() };
  const day = DATES.get(word);
  if (day) return { kind: day, date: date(c) };
  return keyWithArgument(c, word);
}

function keyWithArgument(c: Cursor, word: string): SearchKey {
  switch (word) {
    case 'NOT':
      return { kind: 'not', key: c.nested(() => searchKey(c)) };
    case 'OR': {
      const a = c.nested(() => searchKey(c));
      c.sp();
      return { kind: 'or', a, b: c.nested(() => searchKey(c)) };
    }
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { kind: word === 'KEYWORD' ? 'keyword' : 'unkeyword', flag: c.atom() };
    case 'HEADER': {
      const field = c.astring().toLowerCase();
      c.sp();
      return { kind: 'header', field, value: c.astring() };
    }
    case 'LARGER':
    case 'SMALLER':
      return { kind: word === 'LARGER' ? 'larger' : 'smaller', size: c.number64() };
    case 'OLDER':
    case 'YOUNGER':
      return { kind: word === 'OLDER' ? 'older' : 'younger', seconds: c.nzNumber() };
    case 'UID':
      return { kind: 'uid', set: sequenceSet(c) };
    case 'MODSEQ':
      return { kind: 'modseq', modseq: modSeqCriterion(c) };
    case 'EMAILID':
    case 'THREADID':
      return { kind: word === 'EMAILID' ? 'emailid' : 'threadid', id: c.token(OBJECT_ID, 'an object id') };
    default:
      return c.bad(`Unknown search key ${word.slice(0, 30)}`);
  }
}

// RFC 7162 §3.1.5: "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer.
// We keep one mod-sequence per message, so entry name and type are checked and ignored.
function modSeqCriterion(c: Cursor): bigint {
  if (c.peek() === '"') {
    if (!ENTRY_NAME.test(c.quoted())) c.bad('Invalid MODSEQ entry name');
    c.sp();
    if (!ENTRY_TYPES.has(c.keyword())) c.bad('Invalid MODSEQ entry type');
    c.sp();
  }
  return c.modSeq();
}

/** charset = atom / quoted; UTF-8 or US-ASCII, upper-cased. */
export function charset(c: Cursor): string {
  const name = (c.peek() === '"' ? c.quoted() : c.atom()).toUpperCase();
  if (!CHARSETS.includes(name)) {
    throw new ImapBad(`Unsupported charset ${name.slice(0, 30)}`, 'BADCHARSET', {
      codeArgs: `(${CHARSETS.join(' ')})`,
      status: 'NO',
    });
  }
  return name;
}

/** search-key *(SP search-key), as one key. */
export function searchKeys(c: Cursor): SearchKey {
  const keys: SearchKey[] = [];
  do {
    if (keys.length >= c.options.limits.maxListItems) throw new ImapBad('Too many search keys', 'TOOBIG');
    keys.push(searchKey(c));
  } while (c.maybe(' '));
  return and(keys);
}

/**
 * Optional SP "RETURN" SP "(" [opt *(SP opt)] ")" (RFC 4731 §3.1, RFC 9051 §6.4.4):
 * undefined without a RETURN clause; `RETURN ()` means `RETURN (ALL)`; duplicates dropped.
 */
export function searchReturnOpts(c: Cursor): SearchReturn[] | undefined {
  if (!c.maybe(' RETURN ')) return undefined;
  const opts = c.list((l) => {
    const opt = l.keyword();
    const known = RETURNS.find((r) => r === opt);
    return known ?? l.bad(`Unknown RETURN option ${opt.slice(0, 20)}`);
  });
  return opts.length === 0 ? ['ALL'] : [...new Set(opts)];
}

function search(name: 'SEARCH' | 'UID SEARCH') {
  return (c: Cursor): Command => {
    const returns = searchReturnOpts(c);
    c.sp();
    let cs: string | undefined;
    if (c.maybe('CHARSET ')) {
      cs = charset(c);
      c.sp();
    }
    return { name, returns, charset: cs, key: searchKeys(c) };
  };
}

const SORT_KEYS: readonly SortKey['key'][] = [
  'ARRIVAL',
  'CC',
  'DATE',
  'FROM',
  'SIZE',
  'SUBJECT',
  'TO',
  'DISPLAYFROM',
  'DISPLAYTO',
];

// RFC 5256 §5: sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"; sort-criterion = ["REVERSE" SP] sort-key
function sortCriteria(c: Cursor): SortKey[] {
  return c.list((l) => {
    let word = l.keyword();
    const reverse = word === 'REVERSE';
    if (reverse) {
      l.sp();
      word = l.keyword();
    }
    const key = SORT_KEYS.find((k) => k === word) ?? l.bad(`Unknown sort key ${word.slice(0, 20)}`);
    return { key, reverse };
  }, false);
}

function sort(name: 'SORT' | 'UID SORT') {
  return (c: Cursor): Command => {
    const returns = searchReturnOpts(c);
    c.sp();
    const criteria = sortCriteria(c);
    c.sp();
    const cs = charset(c);
    c.sp();
    return { name, returns, sort: criteria, charset: cs, key: searchKeys(c) };
  };
}

function thread(name: 'THREAD' | 'UID THREAD') {
  return (c: Cursor): Command => {
    c.sp();
    const alg = c.keyword();
    const algorithm =
      alg === 'REFERENCES' || alg === 'ORDEREDSUBJECT'
        ? alg
        : c.bad(`Unknown THREAD algorithm ${alg.slice(0, 20)}`);
    c.sp();
    const cs = charset(c);
    c.sp();
    return { name, algorithm, charset: cs, key: searchKeys(c) };
  };
}

export const SEARCH_COMMANDS: readonly CommandSpec[] = [
  { name: 'SEARCH', parse: search('SEARCH') },
  { name: 'UID SEARCH', parse: search('UID SEARCH') },
  { name: 'SORT', parse: sort('SORT') },
  { name: 'UID SORT', parse: sort('UID SORT') },
  { name: 'THREAD', parse: thread('THREAD') },
  { name: 'UID THREAD', parse: thread('UID THREAD') },
];
