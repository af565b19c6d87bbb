// The audit log: append-only and hash-chained. Each entry's hash is an HMAC-SHA256,
// under a key derived from the first master key, over the previous entry's hash and
// this entry's fields, so an edited, removed or reordered entry breaks the chain, and
// nobody without the master key can forge a consistent replacement chain.
// The chain's head (last seq and hash) is also kept in a file beside the database
// (`audit.head`), so cutting entries off the end is detected too.
//
// Invariants: entries are appended one at a time inside the store's serialised
// transaction; detail never holds secrets (passwords, keys, tokens, message text).

import { createHmac } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AuditRow, Store } from '../store/types.ts';

export interface AuditEvent {
  /** Who did it: `cli:<unix user>`, `admin:<address>`, `user:<address>`, `system`. */
  readonly actor: string;
  /** Dotted verb, e.g. `domain.add`, `user.passwd`, `keys.rotate`. */
  readonly action: string;
  /** What it was done to, e.g. an address or domain name. */
  readonly target: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export const GENESIS_HASH = '0'.repeat(64);

export type VerifyResult =
  | { readonly ok: true; readonly entries: number; readonly headHash: string }
  | { readonly ok: false; readonly entries: number; readonly seq: number; readonly problem: string };

export class AuditLog {
  readonly #store: Store;
  readonly #key: Buffer;
  readonly #headFile: string | null;
  readonly #now: () => number;

  constructor(store: Store, key: Buffer, options: { headFile?: string | null; now?: () => number } = {}) {
    this.#store = store;
    this.#key = key;
    this.#headFile = options.headFile ?? null;
    this.#now = options.now ?? Date.now;
  }

  async append(event: AuditEvent): Promise<AuditRow> {
    const row = await this.#store.appendAudit((last) => {
      const seq = (last?.seq ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const fields = {
        seq,
        at: this.#now(),
        actor: event.actor,
        action: event.action,
        target: event.target,
        detail: canonicalJson(event.detail ?? {}),
      };
      return { ...fields, prevHash, hash: this.#hash(prevHash, fields) };
    });
    this.#writeHead(row);
    return row;
  }

  /** Walk the whole chain; report the first entry that does not fit. */
  async verify(): Promise<VerifyResult> {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let count = 0;
    for (;;) {
      const batch = await this.#store.listAudit(expectedSeq, 1000);
      for (const row of batch) {
        count++;
        if (row.seq !== expectedSeq) {
          return fail(count, expectedSeq, `entry ${expectedSeq} is missing (next present is ${row.seq})`);
        }
        if (row.prevHash !== prevHash) {
          return fail(
            count,
            row.seq,
            `entry ${row.seq} does not follow entry ${row.seq - 1} (removed or reordered)`,
          );
        }
        if (row.hash !== this.#hash(row.prevHash, row)) {
          return fail(count, row.seq, `entry ${row.seq} was modified (hash mismatch)`);
        }
        prevHash = row.hash;
        expectedSeq++;
      }
      if (batch.length < 1000) break;
    }
    const head = this.#readHead();
    if (
      head !== null &&
      (head.seq >= expectedSeq || (head.seq === expectedSeq - 1 && head.hash !== prevHash))
    ) {
      return fail(
        count,
        head.seq,
        `entries up to ${head.seq} were written but the log ends at ${expectedSeq - 1}`,
      );
    }
    return { ok: true, entries: count, headHash: prevHash };
  }

  #hash(
    prevHash: string,
    f: Pick<AuditRow, 'seq' | 'at' | 'actor' | 'action' | 'target' | 'detail'>,
  ): string {
    const h = createHmac('sha256', this.#key);
    // Length-prefixed fields: no two different entries share an encoding.
    for (const part of [prevHash, String(f.seq), String(f.at), f.actor, f.action, f.target, f.detail]) {
      const b = Buffer.from(part, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      h.update(len).update(b);
    }
    return h.digest('hex');
  }

  #writeHead(row: AuditRow): void {
    if (this.#headFile === null) return;
    const current = this.#readHead();
    if (current !== null && current.seq > row.seq) return; // another process is ahead
    const tmp = `${this.#headFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${row.seq} ${row.hash}\n`, { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.#headFile);
  }

  #readHead(): { seq: number; hash: string } | null {
    if (this.#headFile === null) return null;
    try {
      const [seq, hash] = readFileSync(this.#headFile, 'utf8').trim().split(' ');
      return { seq: Number(seq), hash: hash ?? '' };
    } catch {
      return null;
    }
  }
}

function fail(entries: number, seq: number, problem: string): VerifyResult {
  return { ok: false, entries, seq, problem };
}

/** JSON with object keys sorted, so the same detail always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
