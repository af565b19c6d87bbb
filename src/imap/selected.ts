// The selected mailbox as one session sees it (RFC 9051 §2.3.1, §7.4, §7.5):
// sequence numbers, UIDs, flags and modseqs as last reported to the client, and
// the sync that brings the view up to date with the store and tells the client.
//
// Invariants:
// - Sequence numbers change only through EXPUNGE/VANISHED responses this session
//   has sent; an expunge made elsewhere is held back (pendingExpunge) while a
//   sequence-number command runs (RFC 9051 §7.5.1: no EXPUNGE during FETCH, STORE
//   or SEARCH) and reported at the next command that allows it.
// - The view follows the store by modseq (RFC 7162): entries with a modseq above
//   the view's are new or changed, expunges come from the change feed. This works
//   across processes and nodes; the in-process change feed only makes it prompt.
// - Changes this session made itself are applied to the view at once (with their
//   modseq), so they are not echoed back as unsolicited FETCHes.

import type { Mailbox, MessageEntry, Store } from '../store/types.ts';
import { ImapCommandBad } from './errors.ts';
import { MailboxCache, type ViewEntry } from './mailbox-cache.ts';
import { response, type SequenceSet } from './protocol/index.ts';

/** Ascending numbers as a compact sequence set: 1:3,5,7:9. */
export const compactSet = response.sequenceSetString;

export type { ViewEntry } from './mailbox-cache.ts';

export interface SyncOptions {
  /** Whether EXPUNGE/VANISHED may be sent now (false during FETCH, STORE, SEARCH by sequence number). */
  readonly allowExpunge: boolean;
  readonly condstore: boolean;
  readonly qresync: boolean;
}

/** The session's messages: an entry of the shared cache, for UIDs this session numbers. */
export interface SessionEntries {
  get(uid: number): ViewEntry | undefined;
  has(uid: number): boolean;
}

export class SelectedMailbox {
  readonly id: string;
  readonly name: string;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  /** Sequence number n is uids[n-1]: the only per-message state a session keeps. */
  uids: number[] = [];
  readonly cache: MailboxCache;
  readonly entries: SessionEntries;
  /** Highest modseq the client has been told of (the view is current up to here). */
  modseq: number;
  /** Expunged in the store, not yet reported (their entries stay in the view). */
  readonly pendingExpunge = new Set<number>();
  /** Modseqs of flag changes this session made and reported itself. */
  readonly #own = new Set<number>();
  /** UIDs of the last SEARCH RETURN (SAVE), for `$` (RFC 5182). */
  searchResult: number[] = [];
  /** Deleted by another session: the next command ends the session (RFC 9051 §7.1 BYE). */
  gone = false;

  /** A view of `mailbox`; without a shared cache it makes its own from `entries`. */
  constructor(mailbox: Mailbox, entries: readonly MessageEntry[], readOnly: boolean, cache?: MailboxCache) {
    this.id = mailbox.id;
    this.name = mailbox.name;
    this.readOnly = readOnly;
    this.uidValidity = mailbox.uidValidity;
    this.cache = cache ?? new MailboxCache(mailbox, entries);
    this.modseq = this.cache.modseq;
    this.uids = [...this.cache.live.keys()];
    this.cache.readers.add(this);
    this.entries = {
      get: (uid) => (this.seqOf(uid) > 0 ? this.cache.get(uid) : undefined),
      has: (uid) => this.seqOf(uid) > 0 && this.cache.get(uid) !== undefined,
    };
  }

  get uidNext(): number {
    return this.cache.uidNext;
  }

  get exists(): number {
    return this.uids.length;
  }

  /** 1-based sequence number of a UID in the view, or 0. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.uids[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Index of the first UID >= uid. */
  #lowerBound(uid: number): number {
    let lo = 0;
    let hi = this.uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.uids[mid]! < uid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The UIDs a sequence set names, ascending, without duplicates. Sequence numbers out of range are BAD. */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (set.kind === 'searchres') return this.searchResult.filter((u) => this.entries.has(u));
    const out = new Set<number>();
    const count = this.uids.length;
    const maxUid = count > 0 ? this.uids[count - 1]! : 0;
    for (const r of set.ranges) {
      if (byUid) {
        const a = r.from === '*' ? maxUid : r.from;
        const b = r.to === '*' ? maxUid : r.to;
        const lo = Math.min(a, b);
        const hi = Math.max(a, b);
        for (let i = this.#lowerBound(lo); i < count && this.uids[i]! <= hi; i++) out.add(this.uids[i]!);
      } else {
        if (count === 0) throw new ImapCommandBad('No messages in the mailbox');
        const a = r.from === '*' ? count : r.from;
        const b = r.to === '*' ? count : r.to;
        if (a > count || b > count) throw new ImapCommandBad('Invalid message sequence number');
        for (let i = Math.min(a, b); i <= Math.max(a, b); i++) out.add(this.uids[i - 1]!);
      }
    }
    return [...out].sort((x, y) => x - y);
  }

  /** Apply a flag change this session made (its FETCH is sent by the caller). */
  applyFlags(uid: number, flags: readonly string[], modseq: number): void {
    const e = this.cache.get(uid);
    if (e === undefined) return;
    if (modseq >= e.modseq) {
      e.flags = flags;
      e.modseq = modseq;
    }
    this.#own.add(modseq);
  }

  /** Remove UIDs this session expunged; returns the sequence numbers to report, in sending order. */
  removeExpunged(uids: readonly number[]): number[] {
    const seqs: number[] = [];
    const gone = new Set(uids);
    // Highest first: each EXPUNGE renumbers the messages above it (RFC 9051 §7.5.1).
    for (let i = this.uids.length - 1; i >= 0; i--) {
      const uid = this.uids[i]!;
      if (!gone.has(uid)) continue;
      seqs.push(i + 1);
      this.pendingExpunge.delete(uid);
    }
    if (seqs.length > 0) this.uids = this.uids.filter((u) => !gone.has(u));
    return seqs;
  }

  /**
   * Bring the view up to date with the store; returns the untagged responses to send
   * (EXPUNGE or VANISHED first, then EXISTS, then FETCH for changed flags).
   */
  async sync(store: Store, opts: SyncOptions): Promise<string[]> {
    if (!(await this.cache.refresh(store))) {
      this.gone = true;
      return [];
    }
    const out: string[] = [];
    const changes = this.cache.changesSince(this.modseq);
    const lastUid = this.uids.length > 0 ? this.uids[this.uids.length - 1]! : 0;
    const added: number[] = [];
    const flagChanges = new Set<number>();
    for (const r of changes) {
      if (r.expunged) {
        if (this.seqOf(r.uid) > 0) this.pendingExpunge.add(r.uid);
      } else if (r.uid > lastUid) {
        if (this.cache.live.has(r.uid)) added.push(r.uid);
      } else if (!this.#own.has(r.modseq) && this.seqOf(r.uid) > 0) flagChanges.add(r.uid);
    }
    if (added.length > 0) {
      const fresh = [...new Set(added)].filter((u) => this.cache.live.has(u)).sort((a, b) => a - b);
      this.uids.push(...fresh);
    }
    this.modseq = this.cache.modseq;
    this.#own.clear();
    this.cache.trim();
    if (opts.allowExpunge) out.push(...this.#reportExpunges(opts.qresync));
    if (added.length > 0) out.push(`${this.uids.length} EXISTS`);
    for (const uid of flagChanges) {
      const seq = this.seqOf(uid);
      const v = this.cache.live.get(uid);
      if (seq === 0 || v === undefined || this.pendingExpunge.has(uid)) continue;
      const modseq = opts.condstore ? ` MODSEQ (${v.modseq})` : '';
      out.push(`${seq} FETCH (UID ${uid} FLAGS (${v.flags.join(' ')})${modseq})`);
    }
    return out;
  }

  /** This session no longer has the mailbox selected. */
  release(caches: { release(cache: MailboxCache, reader: SelectedMailbox): void }): void {
    caches.release(this.cache, this);
  }

  #reportExpunges(qresync: boolean): string[] {
    if (this.pendingExpunge.size === 0) return [];
    const uids = [...this.pendingExpunge].sort((a, b) => a - b);
    const seqs = this.removeExpunged(uids);
    if (qresync) return [`VANISHED ${compactSet(uids)}`];
    return seqs.map((s) => `${s} EXPUNGE`);
  }
}
