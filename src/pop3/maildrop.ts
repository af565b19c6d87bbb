// The maildrop as one POP3 session sees it (RFC 1939 §5–§6): the account's INBOX as
// it was at login, numbered 1..n in UID order, with the session's deletion marks.
//
// Invariants:
// - Message numbers never change during a session (RFC 1939 §5): mail that arrives
//   later is not seen until the next login, and a deleted message keeps its number.
// - Sizes are the stored sizes. RFC 1939 §11 lets a server report approximate
//   counts; ours are exact for every message stored with CRLF line endings, which is
//   all mail received over SMTP (bare LF is refused there, DESIGN invariant 4).
// - Unique ids (RFC 1939 §7 UIDL) are `${uidValidity}.${uid}` of INBOX: unique in
//   the maildrop (UIDs are never reused while uidValidity stands), stable across
//   sessions, at most 21 characters, all printable ASCII (0x21–0x7E) as UIDL requires.
// - Deletions are only marks here; the connection expunges them at QUIT (§6).

import type { Mailbox, MessageEntry } from '../store/types.ts';

export type Lookup =
  | { readonly ok: true; readonly entry: MessageEntry }
  | { readonly ok: false; readonly error: string };

export class Maildrop {
  readonly mailboxId: string;
  readonly uidValidity: number;
  readonly #entries: readonly MessageEntry[];
  readonly #deleted = new Set<number>();
  readonly #seen = new Set<number>();

  constructor(mailbox: Pick<Mailbox, 'id' | 'uidValidity'>, entries: readonly MessageEntry[]) {
    this.mailboxId = mailbox.id;
    this.uidValidity = mailbox.uidValidity;
    this.#entries = [...entries].sort((a, b) => a.uid - b.uid);
    for (const e of this.#entries) if (e.flags.includes('\\Seen')) this.#seen.add(e.uid);
  }

  /** Messages not marked deleted, and their total size (STAT, RFC 1939 §5). */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    for (const e of this.#entries) {
      if (this.#deleted.has(e.uid)) continue;
      count++;
      octets += e.size;
    }
    return { count, octets };
  }

  /** [number, entry] for every message not marked deleted, in order. */
  *live(): Generator<[number, MessageEntry]> {
    for (let i = 0; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (!this.#deleted.has(e.uid)) yield [i + 1, e];
    }
  }

  /** Message `n` if it exists and is not marked deleted. */
  get(n: number): Lookup {
    const entry = this.#entries[n - 1];
    if (entry === undefined) return { ok: false, error: 'No such message' };
    if (this.#deleted.has(entry.uid)) return { ok: false, error: `Message ${n} already deleted` };
    return { ok: true, entry };
  }

  uidl(entry: MessageEntry): string {
    return `${this.uidValidity}.${entry.uid}`;
  }

  delete(entry: MessageEntry): void {
    this.#deleted.add(entry.uid);
  }

  /** RSET: unmark every deletion. */
  reset(): void {
    this.#deleted.clear();
  }

  deletedUids(): number[] {
    return [...this.#deleted].sort((a, b) => a - b);
  }

  isSeen(entry: MessageEntry): boolean {
    return this.#seen.has(entry.uid);
  }

  markSeen(entry: MessageEntry): void {
    this.#seen.add(entry.uid);
  }
}
