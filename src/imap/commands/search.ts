// SEARCH, SORT and THREAD and their UID forms (RFC 9051 §6.4.4, §7.3.4; RFC 4731
// ESEARCH; RFC 5182 SEARCHRES; RFC 5256 SORT/THREAD; RFC 5267 ESORT; RFC 7162
// §3.1.5 MODSEQ in results). Evaluation lives in ../search/; this module turns a
// result into responses.
//
// Invariants:
// - Plain `* SEARCH` unless the command has RETURN (…) or the client ENABLEd
//   IMAP4REV2, then `* ESEARCH (TAG …)`; RETURN (SAVE) alone sends no ESEARCH.
// - SAVE replaces `$` with the result (only the MIN/MAX messages when neither ALL
//   nor COUNT is asked for, RFC 5182 §2.4); a failed SAVE search empties `$`.
// - A search with a MODSEQ criterion turns CONDSTORE on for the session and
//   reports the highest modseq of the messages it returns.
// - BODY/TEXT terms are hashed under the account's search key before they reach
//   the store; the store never sees a query word in the clear.

import { searchTerm } from '../../mail/deliver.ts';
import { accountOf, selectedOf } from '../account.ts';
import type { ImapConnection } from '../connection.ts';
import { define, ok } from '../handler.ts';
import { loadBatches, type StoredMeta } from '../message-data.ts';
import type { SearchKey, SearchReturn } from '../protocol/fetch-types.ts';
import { evaluateSearch, hasModseq } from '../search/evaluate.ts';
import { sortItem, sortItems, sortNeedsMeta } from '../search/sort.ts';
import {
  renderThreads,
  type ThreadItem,
  threadByOrderedSubject,
  threadByReferences,
} from '../search/thread.ts';
import { compactSet, type SelectedMailbox } from '../selected.ts';
import { SELECTED } from '../session.ts';
import { imapString } from '../wire.ts';

async function matching(conn: ImapConnection, view: SelectedMailbox, key: SearchKey): Promise<number[]> {
  if (hasModseq(key)) conn.condstore = true;
  const accountId = accountOf(conn).id;
  const { server } = conn;
  return evaluateSearch(
    {
      view,
      now: Date.now(),
      load: (uids) => loadBatches(server, view.id, uids, view.entries),
      async indexed(tokens) {
        const { searchKey } = await server.accountKeys.current(accountId);
        return server.store.searchTerms(
          accountId,
          tokens.map((t) => searchTerm(searchKey, t)),
        );
      },
    },
    key,
  );
}

/** The summaries of `uids`, loaded in batches (expunged meanwhile: missing). */
async function metasOf(conn: ImapConnection, view: SelectedMailbox, uids: readonly number[]) {
  const out = new Map<number, StoredMeta>();
  for await (const batch of loadBatches(conn.server, view.id, uids, view.entries)) {
    const loaded = await Promise.all(
      [...batch].map(async ([uid, m]) => [uid, await m.meta().catch(() => undefined)] as const),
    );
    for (const [uid, meta] of loaded) if (meta !== undefined) out.set(uid, meta);
  }
  return out;
}

/** RFC 7162 §3.1.5: the highest modseq of the messages a result reports. */
function highestModseq(view: SelectedMailbox, uids: readonly number[]): number | undefined {
  let max: number | undefined;
  for (const u of uids) {
    const m = view.entries.get(u)?.modseq;
    if (m !== undefined && (max === undefined || m > max)) max = m;
  }
  return max;
}

/** Sort-ordered numbers as a sequence set: ascending runs become ranges, order kept (RFC 5267 §3.2). */
function orderedSet(nums: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < nums.length; ) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    parts.push(i === j ? String(nums[i]) : `${nums[i]}:${nums[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

interface Result {
  /** UIDs in result order (ascending for SEARCH, sort order for SORT). */
  readonly uids: readonly number[];
  readonly byUid: boolean;
  readonly returns: readonly SearchReturn[];
  readonly modseq: boolean;
  readonly sorted: boolean;
}

/** The UIDs RETURN reports on (and SAVE keeps): all of them, or only MIN/MAX when neither ALL nor COUNT is asked for. */
function reported(r: Result): number[] {
  const { uids, returns } = r;
  const minMax = returns.includes('MIN') || returns.includes('MAX');
  if (!minMax || returns.includes('ALL') || returns.includes('COUNT') || uids.length === 0) return [...uids];
  // Result order: ascending for SEARCH, sort order for SORT; MIN is first, MAX last either way.
  const first = uids[0]!;
  const last = uids[uids.length - 1]!;
  const out: number[] = [];
  if (returns.includes('MIN')) out.push(first);
  if (returns.includes('MAX') && last !== first) out.push(last);
  return out;
}

/** Apply SAVE and answer with ESEARCH (RFC 4731 §3.1, RFC 5267 §3.2). */
function esearch(conn: ImapConnection, view: SelectedMailbox, tag: string, r: Result): void {
  const { returns } = r;
  if (returns.includes('SAVE')) view.searchResult = reported(r).sort((a, b) => a - b);
  if (returns.every((x) => x === 'SAVE')) return;
  const nums = r.byUid ? [...r.uids] : r.uids.map((u) => view.seqOf(u));
  const parts = [`ESEARCH (TAG ${imapString(tag)})`];
  if (r.byUid) parts.push('UID');
  if (nums.length > 0) {
    if (returns.includes('MIN')) parts.push(`MIN ${nums[0]}`);
    if (returns.includes('MAX')) parts.push(`MAX ${nums[nums.length - 1]}`);
  }
  if (returns.includes('COUNT')) parts.push(`COUNT ${nums.length}`);
  if (nums.length > 0 && returns.includes('ALL'))
    parts.push(`ALL ${r.sorted ? orderedSet(nums) : compactSet(nums)}`);
  const modseq = r.modseq ? highestModseq(view, reported(r)) : undefined;
  if (modseq !== undefined && returns.some((x) => x !== 'SAVE')) parts.push(`MODSEQ ${modseq}`);
  conn.untagged(parts.join(' '));
}

/** `* SEARCH 1 2 3 (MODSEQ n)` or `* SORT 3 1 2 (MODSEQ n)`. */
function plain(conn: ImapConnection, view: SelectedMailbox, name: 'SEARCH' | 'SORT', r: Result): void {
  const nums = r.byUid ? r.uids : r.uids.map((u) => view.seqOf(u));
  const modseq = r.modseq ? highestModseq(view, r.uids) : undefined;
  const tail = modseq === undefined ? '' : ` (MODSEQ ${modseq})`;
  conn.untagged(`${name}${nums.map((n) => ` ${n}`).join('')}${tail}`);
}

/** Runs a search; a failure empties `$` when the command asked to SAVE (RFC 5182 §2.1). */
async function guarded<T>(
  view: SelectedMailbox,
  returns: readonly SearchReturn[],
  f: () => Promise<T>,
): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (returns.includes('SAVE')) view.searchResult = [];
    throw e;
  }
}

export const SEARCH_HANDLERS = [
  ...define(['SEARCH', 'UID SEARCH'], {
    states: SELECTED,
    async run(conn, c, tag) {
      const view = selectedOf(conn);
      const esearchWanted = c.returns !== undefined || conn.enabled.has('IMAP4REV2');
      const returns = c.returns ?? ['ALL'];
      const uids = await guarded(view, returns, () => matching(conn, view, c.key));
      const r = { uids, byUid: c.name === 'UID SEARCH', returns, modseq: hasModseq(c.key), sorted: false };
      if (esearchWanted) esearch(conn, view, tag, r);
      else plain(conn, view, 'SEARCH', r);
      return ok(`${c.name} completed`);
    },
  }),
  ...define(['SORT', 'UID SORT'], {
    states: SELECTED,
    async run(conn, c, tag) {
      const view = selectedOf(conn);
      const returns = c.returns ?? ['ALL'];
      const sorted = await guarded(view, returns, async () => {
        const uids = await matching(conn, view, c.key);
        const metas = sortNeedsMeta(c.sort) ? await metasOf(conn, view, uids) : undefined;
        const items = uids.map((u) => sortItem(view.entries.get(u)!, view.seqOf(u), metas?.get(u)));
        return sortItems(items, c.sort).map((i) => i.uid);
      });
      const r = {
        uids: sorted,
        byUid: c.name === 'UID SORT',
        returns,
        modseq: hasModseq(c.key),
        sorted: true,
      };
      if (c.returns !== undefined) esearch(conn, view, tag, r);
      else plain(conn, view, 'SORT', r);
      return ok(`${c.name} completed`);
    },
  }),
  ...define(['THREAD', 'UID THREAD'], {
    states: SELECTED,
    async run(conn, c) {
      const view = selectedOf(conn);
      const uids = await matching(conn, view, c.key);
      const metas = await metasOf(conn, view, uids);
      const items: ThreadItem[] = uids.map((uid) => {
        const e = view.entries.get(uid)!;
        const seq = view.seqOf(uid);
        const m = metas.get(uid);
        return {
          id: c.name === 'UID THREAD' ? uid : seq,
          seq,
          date: m?.date ?? e.internalDate,
          subject: m?.subject ?? '',
          messageId: m?.messageId ?? null,
          inReplyTo: m?.inReplyTo ?? null,
          references: m?.references ?? [],
        };
      });
      const roots = c.algorithm === 'REFERENCES' ? threadByReferences(items) : threadByOrderedSubject(items);
      conn.untagged(roots.length === 0 ? 'THREAD' : `THREAD ${renderThreads(roots)}`);
      return ok(`${c.name} completed`);
    },
  }),
];
