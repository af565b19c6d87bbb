// SEARCH keys (RFC 9051 §6.4.4, RFC 3501 §6.4.4, RFC 5032, RFC 7162 §3.1.5,
// RFC 8474, RFC 5182) compiled into a tree of tests for evaluate.ts, each test
// labelled with what it needs: the view entry only ('entry'), the summary or raw
// message ('content', cost 1 or 2) or the blind index then the text ('words').
//
// Invariants:
// - Set-valued keys (UID, sequence sets, `$`) are resolved once, at compile time.
// - \Recent is not tracked: RECENT and NEW are false, OLD is true.
// - Children of AND/OR are ordered cheapest first, so evaluation reads content
//   only when the view cannot decide.

import { tokenize } from '../../mime/text.ts';
import type { SearchKey } from '../protocol/fetch-types.ts';
import type { SequenceSet } from '../protocol/index.ts';
import type { ViewEntry } from '../selected.ts';
import { DAY_MS, fold, type MessageText } from './message-text.ts';

/** The parts of SelectedMailbox a search reads. */
export interface SearchView {
  readonly uids: readonly number[];
  readonly entries: { get(uid: number): ViewEntry | undefined; has(uid: number): boolean };
  readonly searchResult: readonly number[];
  resolve(set: SequenceSet, byUid: boolean): number[];
}

type EntryTest = (e: ViewEntry) => boolean;
type ContentTest = (m: MessageText) => Promise<boolean>;

export interface WordsNode {
  readonly t: 'words';
  readonly scope: 'body' | 'text';
  /** tokenize() of the query; empty: substring scan of the text. */
  readonly tokens: readonly string[];
  readonly needle: string;
  /** Store ids the index holds every token for (set by the evaluator before reading content). */
  candidates: ReadonlySet<string> | undefined;
}

export type Node =
  | { readonly t: 'entry'; readonly test: EntryTest }
  /** cost 1: summary/structure only; cost 2: raw message. */
  | { readonly t: 'content'; readonly cost: 1 | 2; readonly test: ContentTest }
  | WordsNode
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

/** How much reading a node may take: 0 view, 1 summary, 2 raw message, 3 index and text. */
export function cost(n: Node): number {
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

/** Flag keys (RFC 9051 §6.4.4), or undefined for another key. */
function flagKey(key: SearchKey): Node | undefined {
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
      const want = key.flag.toLowerCase(); // keywords compare case-insensitively
      const has = entry((e) => e.flags.some((f) => f.toLowerCase() === want));
      return key.kind === 'keyword' ? has : not(has);
    }
    default:
      return undefined;
  }
}

/** Keys on the message's content (header fields, sent date, text), or undefined. */
function contentKey(key: SearchKey): Node | undefined {
  switch (key.kind) {
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
    default:
      return undefined;
  }
}

/** The test tree of a search key; `now` (ms) anchors OLDER/YOUNGER. */
export function compile(key: SearchKey, view: SearchView, now: number): Node {
  const simple = flagKey(key) ?? contentKey(key);
  if (simple !== undefined) return simple;
  switch (key.kind) {
    case 'before':
      return entry((e) => dayOf(e.internalDate) < key.date);
    case 'on':
      return entry((e) => dayOf(e.internalDate) === key.date);
    case 'since':
      return entry((e) => dayOf(e.internalDate) >= key.date);
    case 'larger':
      return entry((e) => e.size > key.size);
    case 'smaller':
      return entry((e) => e.size < key.size);
    case 'older':
      return entry((e) => e.internalDate <= now - key.seconds * 1000);
    case 'younger':
      return entry((e) => e.internalDate > now - key.seconds * 1000);
    case 'uid': {
      const uids = new Set(view.resolve(key.set, true));
      return entry((e) => uids.has(e.uid));
    }
    case 'seq': {
      const uids = seqSetUids(view, key.set);
      return entry((e) => uids.has(e.uid));
    }
    case 'modseq':
      return entry((e) => BigInt(e.modseq) >= key.modseq);
    case 'emailid':
      return entry((e) => e.messageId === key.id);
    case 'threadid':
      return entry((e) => e.threadId === key.id);
    case 'not':
      return not(compile(key.key, view, now));
    case 'or':
      return { t: 'or', nodes: cheapestFirst([compile(key.a, view, now), compile(key.b, view, now)]) };
    case 'and':
      return { t: 'and', nodes: cheapestFirst(key.keys.map((k) => compile(k, view, now))) };
    default:
      throw new Error(`search key ${key.kind} not compiled`);
  }
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
