// SEARCH criteria evaluation over a selected mailbox's view (RFC 9051 §6.4.4, the
// IMAP4rev1 keys of RFC 3501 §6.4.4, RFC 5032 OLDER/YOUNGER, RFC 7162 §3.1.5
// MODSEQ, RFC 8474 EMAILID/THREADID, RFC 5182 `$`).
//
// Evaluation runs in three passes, so a search only pays for what it needs:
// 1. every message is tried on the cheap keys alone (flags, sizes, dates, sets,
//    modseq, ids: all in the view) with three-valued logic; a message whose
//    outcome is already decided is never loaded. `SEARCH UNSEEN` over 10,000
//    messages decrypts nothing.
// 2. BODY/TEXT keys ask the blind index (DESIGN.md "Search") once each for the
//    messages holding every token of the query; the rest are decided false.
// 3. the messages still in question are loaded in batches (loadBatches) and the
//    content keys evaluated, cheapest first (summary before raw message).
//
// Semantics worth knowing:
// - \Recent is not tracked by this server: RECENT and NEW match nothing, OLD
//   matches everything.
// - BODY and TEXT match whole words, not arbitrary substrings (as Dovecot's FTS
//   does): the query is tokenised with mime/text.ts tokenize() and a message
//   matches when every query token is among its tokens. TEXT covers what the index
//   holds (Subject, From, To, Cc and the text parts); BODY the text parts only. A
//   query with no token (punctuation, one letter) falls back to a substring scan
//   of the same text, which loads every candidate message.
// - FROM, TO, CC, BCC, SUBJECT, HEADER: case-insensitive substring of the decoded
//   value ("Name <address>" for address fields). HEADER field "" matches messages
//   having the field.
// - BEFORE/ON/SINCE compare the UTC day of the internal date; SENT* the calendar
//   day written in the Date: field. Sequence numbers beyond the mailbox match
//   nothing (a search is a filter, not a reference).
// Recursion follows the key tree, whose depth the grammar bounds (maxListDepth).

import { tokenize } from '../../mime/text.ts';
import type { SearchKey } from '../protocol/fetch-types.ts';
import type { SequenceSet } from '../protocol/index.ts';
import type { ViewEntry } from '../selected.ts';
import { DAY_MS, fold, type MessageSource, MessageText } from './message-text.ts';

/** The parts of SelectedMailbox a search reads. */
export interface SearchView {
  readonly uids: readonly number[];
  readonly entries: ReadonlyMap<number, ViewEntry>;
  readonly searchResult: readonly number[];
  resolve(set: SequenceSet, byUid: boolean): number[];
}

export interface SearchEnv {
  readonly view: SearchView;
  /** ms since epoch, for OLDER/YOUNGER. */
  readonly now: number;
  /** The stored messages for these UIDs (ascending), batch by batch; expunged ones missing. */
  load(uids: readonly number[]): AsyncIterable<ReadonlyMap<number, MessageSource>>;
  /** Store ids of the account's messages indexed under every one of `tokens` (blind index). */
  indexed(tokens: readonly string[]): Promise<ReadonlySet<string>>;
}

type EntryTest = (e: ViewEntry) => boolean;
type ContentTest = (m: MessageText) => Promise<boolean>;

type Node =
  | { readonly t: 'entry'; readonly test: EntryTest }
  /** cost 1: summary/structure only; cost 2: raw message. */
  | { readonly t: 'content'; readonly cost: 1 | 2; readonly test: ContentTest }
  | {
      readonly t: 'words';
      readonly scope: 'body' | 'text';
      readonly tokens: readonly string[];
      readonly needle: string;
      candidates: ReadonlySet<string> | undefined;
    }
  | { readonly t: 'not'; readonly node: Node }
  | { readonly t: 'and' | 'or'; readonly nodes: readonly Node[] };

const SYSTEM_FLAG = {
  answered: '\\Answered',
  deleted: '\\Deleted',
  draft: '\\Draft',
  flagged: '\\Flagged',
  seen: '\\Seen',
} as const;

const entry = (test: EntryTest): Node => ({ t: 'entry', test });
const content = (cost: 1 | 2, test: ContentTest): Node => ({ t: 'content', cost, test });
const not = (node: Node): Node => ({ t: 'not', node });
const dayOf = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;

/** UIDs of a sequence set by sequence number, ignoring numbers past the end. */
function seqSetUids(view: SearchView, set: SequenceSet): Set<number> {
  if (set.kind === 'searchres') return new Set(view.resolve(set, false));
  const out = new Set<number>();
  const count = view.uids.length;
  for (const r of set.ranges) {
    const a = r.from === '*' ? count : r.from;
    const b = r.to === '*' ? count : r.to;
    for (let s = Math.min(a, b); s <= Math.min(Math.max(a, b), count); s++) out.add(view.uids[s - 1]!);
  }
  return out;
}

function compile(key: SearchKey, env: SearchEnv): Node {
  switch (key.kind) {
    case 'all':
    case 'old':
      return entry(() => true);
    case 'recent':
    case 'new':
      return entry(() => false);
    case 'answered':
    case 'deleted':
    case 'draft':
    case 'flagged':
    case 'seen': {
      const flag = SYSTEM_FLAG[key.kind];
      return entry((e) => e.flags.includes(flag));
    }
    case 'unanswered':
    case 'undeleted':
    case 'undraft':
    case 'unflagged':
    case 'unseen': {
      const flag = SYSTEM_FLAG[key.kind.slice(2) as keyof typeof SYSTEM_FLAG];
      return entry((e) => !e.flags.includes(flag));
    }
    case 'keyword':
    case 'unkeyword': {
      const want = key.flag.toLowerCase();
      const has = entry((e) => e.flags.some((f) => f.toLowerCase() === want));
      return key.kind === 'keyword' ? has : not(has);
    }
    case 'from':
    case 'to':
    case 'cc':
    case 'bcc': {
      const field = key.kind;
      const needle = fold(key.value);
      return content(1, async (m) => (await m.addresses(field)).includes(needle));
    }
    case 'subject': {
      const needle = fold(key.value);
      return content(1, async (m) => (await m.subject()).includes(needle));
    }
    case 'header': {
      const { field } = key;
      const needle = fold(key.value);
      return content(
        2,
        async (m) => (await m.headers()).get(field)?.some((v) => v.includes(needle)) ?? false,
      );
    }
    case 'body':
    case 'text':
      return {
        t: 'words',
        scope: key.kind,
        tokens: tokenize(key.value),
        needle: fold(key.value),
        candidates: undefined,
      };
    case 'before':
    case 'on':
    case 'since': {
      const { date } = key;
      if (key.kind === 'before') return entry((e) => dayOf(e.internalDate) < date);
      if (key.kind === 'on') return entry((e) => dayOf(e.internalDate) === date);
      return entry((e) => dayOf(e.internalDate) >= date);
    }
    case 'sentbefore':
    case 'senton':
    case 'sentsince': {
      const { date, kind } = key;
      return content(1, async (m) => {
        const day = await m.sentDay();
        if (day === null) return false;
        return kind === 'sentbefore' ? day < date : kind === 'senton' ? day === date : day >= date;
      });
    }
    case 'larger':
      return entry((e) => e.size > key.size);
    case 'smaller':
      return entry((e) => e.size < key.size);
    case 'older': {
      const limit = env.now - key.seconds * 1000;
      return entry((e) => e.internalDate <= limit);
    }
    case 'younger': {
      const limit = env.now - key.seconds * 1000;
      return entry((e) => e.internalDate > limit);
    }
    case 'uid': {
      const uids = new Set(env.view.resolve(key.set, true));
      return entry((e) => uids.has(e.uid));
    }
    case 'seq': {
      const uids = seqSetUids(env.view, key.set);
      return entry((e) => uids.has(e.uid));
    }
    case 'modseq': {
      const min = key.modseq;
      return entry((e) => BigInt(e.modseq) >= min);
    }
    case 'emailid':
      return entry((e) => e.messageId === key.id);
    case 'threadid':
      return entry((e) => e.threadId === key.id);
    case 'not':
      return not(compile(key.key, env));
    case 'or':
      return { t: 'or', nodes: cheapestFirst([compile(key.a, env), compile(key.b, env)]) };
    case 'and':
      return { t: 'and', nodes: cheapestFirst(key.keys.map((k) => compile(k, env))) };
  }
}

/** Three-valued: true/false when the view decides it, undefined when the content must be read. */
function quick(n: Node, e: ViewEntry): boolean | undefined {
  switch (n.t) {
    case 'entry':
      return n.test(e);
    case 'content':
      return undefined;
    case 'words':
      return n.candidates !== undefined && !n.candidates.has(e.messageId) ? false : undefined;
    case 'not': {
      const v = quick(n.node, e);
      return v === undefined ? undefined : !v;
    }
    case 'and':
    case 'or': {
      const decisive = n.t === 'or';
      let unknown = false;
      for (const c of n.nodes) {
        const v = quick(c, e);
        if (v === decisive) return decisive;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : !decisive;
    }
  }
}

function cost(n: Node): number {
  switch (n.t) {
    case 'entry':
      return 0;
    case 'content':
      return n.cost;
    case 'words':
      return 3;
    case 'not':
      return cost(n.node);
    case 'and':
    case 'or':
      return Math.max(0, ...n.nodes.map(cost));
  }
}

const cheapestFirst = (nodes: Node[]): Node[] => nodes.sort((a, b) => cost(a) - cost(b));

async function wordsMatch(n: Extract<Node, { t: 'words' }>, m: MessageText): Promise<boolean> {
  if (n.tokens.length === 0) return fold(await m.text(n.scope)).includes(n.needle);
  const have = await m.tokens(n.scope);
  return n.tokens.every((t) => have.has(t));
}

async function full(n: Node, e: ViewEntry, m: MessageText): Promise<boolean> {
  switch (n.t) {
    case 'entry':
      return n.test(e);
    case 'content':
      return n.test(m);
    case 'words':
      return quick(n, e) === false ? false : wordsMatch(n, m);
    case 'not':
      return !(await full(n.node, e, m));
    case 'and':
    case 'or': {
      const decisive = n.t === 'or';
      for (const c of n.nodes) {
        if ((await full(c, e, m)) === decisive) return decisive;
      }
      return !decisive;
    }
  }
}

function wordNodes(n: Node, out: Extract<Node, { t: 'words' }>[] = []): Extract<Node, { t: 'words' }>[] {
  if (n.t === 'words') out.push(n);
  else if (n.t === 'not') wordNodes(n.node, out);
  else if (n.t === 'and' || n.t === 'or') for (const c of n.nodes) wordNodes(c, out);
  return out;
}

/** Messages tried at once while content keys are evaluated (bounds decrypted bytes in memory). */
const PARALLEL = 8;

/** The UIDs of the view matching `key`, ascending. */
export async function evaluateSearch(env: SearchEnv, key: SearchKey): Promise<number[]> {
  const root = compile(key, env);
  const { view } = env;
  const decided = new Map<number, boolean>();
  const sweep = (uids: readonly number[]): number[] => {
    const left: number[] = [];
    for (const uid of uids) {
      const v = quick(root, view.entries.get(uid)!);
      if (v === undefined) left.push(uid);
      else decided.set(uid, v);
    }
    return left;
  };
  let open = sweep(view.uids);
  if (open.length > 0) {
    const words = wordNodes(root).filter((w) => w.tokens.length > 0);
    for (const w of words) w.candidates = await env.indexed(w.tokens);
    if (words.length > 0) open = sweep(open);
  }
  if (open.length > 0) {
    for await (const batch of env.load(open)) {
      const items = [...batch];
      for (let i = 0; i < items.length; i += PARALLEL) {
        await Promise.all(
          items.slice(i, i + PARALLEL).map(async ([uid, source]) => {
            const e = view.entries.get(uid);
            if (e === undefined) return;
            decided.set(uid, await full(root, e, new MessageText(source)));
          }),
        );
      }
    }
  }
  return view.uids.filter((uid) => decided.get(uid) === true);
}

/** Whether a MODSEQ criterion occurs anywhere in the key (RFC 7162 §3.1.5). */
export function hasModseq(key: SearchKey): boolean {
  switch (key.kind) {
    case 'modseq':
      return true;
    case 'not':
      return hasModseq(key.key);
    case 'or':
      return hasModseq(key.a) || hasModseq(key.b);
    case 'and':
      return key.keys.some(hasModseq);
    default:
      return false;
  }
}
