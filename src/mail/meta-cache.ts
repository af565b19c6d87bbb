// A process-wide cache of opened message metadata (summary and MIME structure):
// IMAP SEARCH on headers, SORT, THREAD and FETCH ENVELOPE/BODYSTRUCTURE would
// otherwise unwrap a data key and open the sealed metadata of every message on
// every command (10,000 messages: ~0.5 s of CPU). Bounded by the sealed size of
// what it holds; eviction is "second chance" (an entry read since it was last
// passed over is kept once more), which costs a get() one flag write instead of
// re-ordering a map on every read of a 10,000-message search.
//
// Invariants:
// - It holds plaintext metadata of messages the server has already opened for a
//   client, in memory only (never written anywhere), like any server's page cache;
//   message bodies are never cached here.
// - Entries are immutable facts of a stored message (metadata never changes for a
//   message id), so nothing is ever stale; a deleted account's entries simply age out.

export class MetaCache<T> {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, { value: T; bytes: number; used: boolean }>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get(id: string): T | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) return undefined;
    e.used = true;
    return e.value;
  }

  set(id: string, value: T, bytes: number): void {
    if (bytes > this.#maxBytes / 16) return; // one huge structure must not flush the rest
    const old = this.#entries.get(id);
    if (old !== undefined) {
      this.#bytes -= old.bytes;
      this.#entries.delete(id);
    }
    this.#entries.set(id, { value, bytes, used: false });
    this.#bytes += bytes;
    while (this.#bytes > this.#maxBytes) {
      const [oldest, e] = this.#entries.entries().next().value as [string, { bytes: number; used: boolean }];
      this.#entries.delete(oldest);
      if (e.used) {
        e.used = false; // second chance: to the back of the queue
        this.#entries.set(oldest, e as { value: T; bytes: number; used: boolean });
      } else this.#bytes -= e.bytes;
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
