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

import type { SearchKey } from '../protocol/fetch-types.ts';
import type { ViewEntry } from '../selected.ts';
import { compile, type Node, type SearchView, type WordsNode } from './criteria.ts';
import { fold, type MessageSource, MessageText } from './message-text.ts';

export { hasModseq, type SearchView } from './criteria.ts';

export interface SearchEnv {
  readonly view: SearchView;
  /** ms since epoch, for OLDER/YOUNGER. */
  readonly now: number;
  /** The stored messages for these UIDs (ascending), batch by batch; expunged ones missing. */
  load(uids: readonly number[]): AsyncIterable<ReadonlyMap<number, MessageSource>>;
  /** Store ids of the account's messages indexed under every one of `tokens` (blind index). */
  indexed(tokens: readonly string[]): Promise<ReadonlySet<string>>;
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

async function wordsMatch(n: WordsNode, m: MessageText): Promise<boolean> {
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

function wordNodes(n: Node, out: WordsNode[] = []): WordsNode[] {
  if (n.t === 'words') out.push(n);
  else if (n.t === 'not') wordNodes(n.node, out);
  else if (n.t === 'and' || n.t === 'or') for (const c of n.nodes) wordNodes(c, out);
  return out;
}

/** Messages tried at once while content keys are evaluated (bounds decrypted bytes in memory). */
const PARALLEL = 32;

/** The UIDs of the view matching `key`, ascending. */
export async function evaluateSearch(env: SearchEnv, key: SearchKey): Promise<number[]> {
  const root = compile(key, env.view, env.now);
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
            // A message expunged by another session meanwhile cannot be read: no match.
            decided.set(uid, await full(root, e, new MessageText(source)).catch(() => false));
          }),
        );
      }
    }
  }
  return view.uids.filter((uid) => decided.get(uid) === true);
}
