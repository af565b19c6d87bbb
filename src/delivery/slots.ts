// Counting semaphores by key: at most `limit` holders per key at once, the others wait
// in arrival order (the delivery role's per-destination concurrency). No polling: a
// release hands the slot straight to the next waiter. Keys with no holders are dropped.

export class KeyedSlots {
  readonly #limit: number;
  readonly #held = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError('the slot limit must be a positive integer');
    this.#limit = limit;
  }

  /** Resolves once a slot for `key` is held; call the returned function once to release it. */
  async acquire(key: string): Promise<() => void> {
    const held = this.#held.get(key) ?? 0;
    if (held < this.#limit) this.#held.set(key, held + 1);
    else
      await new Promise<void>((resolve) =>
        this.#waiting.set(key, [...(this.#waiting.get(key) ?? []), resolve]),
      );
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(key);
    };
  }

  /** Holders of `key` right now (tests, diagnostics). */
  held(key: string): number {
    return this.#held.get(key) ?? 0;
  }

  #release(key: string): void {
    const queue = this.#waiting.get(key);
    const next = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.#waiting.delete(key);
    if (next !== undefined) {
      next(); // the slot passes to the waiter; the count stays
      return;
    }
    const n = (this.#held.get(key) ?? 1) - 1;
    if (n <= 0) this.#held.delete(key);
    else this.#held.set(key, n);
  }
}
