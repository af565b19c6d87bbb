// One process-wide, shared picture of a selected mailbox: every message's flags,
// modseq, size, date and ids as the store has them now, and a short log of what
// changed, by modseq. Every session that has the mailbox selected reads from it;
// a session keeps only its own sequence numbering (selected.ts). So 1,000 idle
// clients on one 10,000-message INBOX hold one copy of its entries, not 1,000.
//
// Invariants:
// - `modseq` is the store's highestModseq this picture is current to; refresh()
//   brings it up to date from the store (entries above it, expunges above it).
// - The log holds every change above the lowest modseq of an attached session,
//   so each session can tell its client exactly what it has not been told yet.
//   An expunged entry is kept as a tombstone while a session may still number it.
// - Refreshes are serialised per mailbox; the store stays the source of truth.

import type { Mailbox, MessageEntry, Store } from '../store/types.ts';

export interface ViewEntry {
  readonly uid: number;
  flags: readonly string[];
  modseq: number;
  readonly size: number;
  readonly internalDate: number;
  readonly messageId: string;
  readonly threadId: string;
}

export interface ChangeRecord {
  readonly modseq: number;
  readonly uid: number;
  readonly expunged: boolean;
}

/** What an attached session tells the cache: how far it has been told, and which UIDs it numbers. */
export interface CacheReader {
  readonly modseq: number;
  seqOf(uid: number): number;
}

const toView = (e: MessageEntry): ViewEntry => ({ ...e });

export class MailboxCache {
  readonly id: string;
  readonly uidValidity: number;
  modseq: number;
  uidNext: number;
  readonly live = new Map<number, ViewEntry>();
  readonly #tombs = new Map<number, ViewEntry>();
  #log: ChangeRecord[] = [];
  readonly readers = new Set<CacheReader>();
  #refreshing: Promise<boolean> | null = null;

  constructor(mailbox: Mailbox, entries: readonly MessageEntry[]) {
    this.id = mailbox.id;
    this.uidValidity = mailbox.uidValidity;
    this.modseq = mailbox.highestModseq;
    this.uidNext = mailbox.uidNext;
    for (const e of entries) this.live.set(e.uid, toView(e));
  }

  /** The entry of a UID, also while it is a tombstone. */
  get(uid: number): ViewEntry | undefined {
    return this.live.get(uid) ?? this.#tombs.get(uid);
  }

  /** Changes above `modseq`, in the order they were learnt. */
  changesSince(modseq: number): ChangeRecord[] {
    return this.#log.filter((r) => r.modseq > modseq);
  }

  /** Bring the picture up to date; false if the mailbox is gone (deleted, or re-created). */
  refresh(store: Store): Promise<boolean> {
    this.#refreshing ??= this.#refresh(store).finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(store: Store): Promise<boolean> {
    const mailbox = await store.getMailboxById(this.id);
    if (mailbox === null || mailbox.uidValidity !== this.uidValidity) return false;
    if (mailbox.highestModseq <= this.modseq) return true;
    const since = this.modseq;
    const [changed, expunged] = await Promise.all([
      store.listEntries(this.id, since),
      store.expungedSince(this.id, since),
    ]);
    for (const e of changed) {
      const v = this.live.get(e.uid);
      if (v === undefined) this.live.set(e.uid, toView(e));
      else {
        v.flags = e.flags;
        v.modseq = e.modseq;
      }
      this.#log.push({ modseq: e.modseq, uid: e.uid, expunged: false });
    }
    for (const uid of expunged) {
      const v = this.live.get(uid);
      if (v !== undefined) {
        this.live.delete(uid);
        this.#tombs.set(uid, v);
      }
      // The store gives no modseq per expunge; all are above `since`, at most this one.
      this.#log.push({ modseq: mailbox.highestModseq, uid, expunged: true });
    }
    this.modseq = Math.max(this.modseq, mailbox.highestModseq);
    this.uidNext = mailbox.uidNext;
    this.trim();
    return true;
  }

  /**
   * Drop what every attached session has already been told, and the tombstones no
   * session numbers any more (one may still, with its expunge not yet reported).
   */
  trim(): void {
    let low = this.modseq;
    for (const r of this.readers) low = Math.min(low, r.modseq);
    if (this.#log.length > 0 && this.#log[0]!.modseq <= low)
      this.#log = this.#log.filter((r) => r.modseq > low);
    for (const uid of this.#tombs.keys()) {
      let numbered = false;
      for (const r of this.readers) if (r.seqOf(uid) > 0) numbered = true;
      if (!numbered) this.#tombs.delete(uid);
    }
  }
}

/** The caches of one server, one per mailbox with a session attached. */
export class MailboxCaches {
  readonly #caches = new Map<string, MailboxCache>();
  readonly #opening = new Map<string, Promise<MailboxCache>>();

  /** The current picture of `mailbox` (read from the store if no session has it). */
  async acquire(store: Store, mailbox: Mailbox): Promise<MailboxCache> {
    const existing = this.#caches.get(mailbox.id);
    if (existing !== undefined && existing.uidValidity === mailbox.uidValidity) {
      await existing.refresh(store);
      return existing;
    }
    let opening = this.#opening.get(mailbox.id);
    if (opening === undefined) {
      opening = store.listEntries(mailbox.id).then((entries) => {
        const c = new MailboxCache(mailbox, entries);
        this.#caches.set(mailbox.id, c);
        return c;
      });
      this.#opening.set(mailbox.id, opening);
      opening.finally(() => this.#opening.delete(mailbox.id)).catch(() => {});
    }
    const c = await opening;
    await c.refresh(store);
    return c;
  }

  /** Forget a cache no session reads any more. */
  release(cache: MailboxCache, reader: CacheReader): void {
    cache.readers.delete(reader);
    if (cache.readers.size === 0 && this.#caches.get(cache.id) === cache) this.#caches.delete(cache.id);
    else cache.trim();
  }

  get size(): number {
    return this.#caches.size;
  }
}
