// Reading messages for FETCH and SEARCH: the sealed metadata (summary and the MIME
// structure computed at delivery) and the raw message of a batch of UIDs. Metadata
// comes from the process-wide MetaCache when it can, so a search over a mailbox
// whose headers were read before touches neither the store rows nor the keys;
// the rows of a batch are read (once) only when something needs them. Messages
// stored before the structure was sealed with them get it parsed from the body.

import { MetaCache } from '../mail/meta-cache.ts';
import { readRaw, readSummary } from '../mail/read.ts';
import { parseStructure } from '../mime/structure.ts';
import type { MessageStructure } from '../mime/structure-types.ts';
import type { MessageSummary } from '../mime/summary.ts';
import type { StoredMessage } from '../store/types.ts';
import type { ImapServerContext } from './context.ts';

export type StoredMeta = MessageSummary & { readonly structure?: MessageStructure };

/** 64 MiB of sealed metadata: about 30,000 typical messages. */
export const META_CACHE = new MetaCache<StoredMeta>(64 * 1024 * 1024);

export class LoadedMessage {
  readonly uid: number;
  readonly #server: ImapServerContext;
  readonly #messageId: string | undefined;
  readonly #row: () => Promise<StoredMessage | undefined>;
  #meta: Promise<StoredMeta> | undefined;
  #raw: Promise<Buffer> | undefined;
  #structure: Promise<MessageStructure> | undefined;

  constructor(
    server: ImapServerContext,
    uid: number,
    messageId: string | undefined,
    row: () => Promise<StoredMessage | undefined>,
  ) {
    this.#server = server;
    this.uid = uid;
    this.#messageId = messageId;
    this.#row = row;
  }

  async #stored(): Promise<StoredMessage> {
    const r = await this.#row();
    if (r === undefined) throw new Error(`message ${this.uid} is no longer stored`);
    return r;
  }

  meta(): Promise<StoredMeta> {
    const cached = this.#messageId === undefined ? undefined : META_CACHE.get(this.#messageId);
    this.#meta ??=
      cached !== undefined
        ? Promise.resolve(cached)
        : this.#stored().then(async (r) => {
            const meta = (await readSummary(this.#server, r)) as StoredMeta;
            META_CACHE.set(r.id, meta, r.sealedMeta.length);
            return meta;
          });
    return this.#meta;
  }

  raw(): Promise<Buffer> {
    this.#raw ??= this.#stored().then((r) => readRaw(this.#server, r));
    return this.#raw;
  }

  structure(): Promise<MessageStructure> {
    this.#structure ??= this.meta().then(async (m) => m.structure ?? parseStructure(await this.raw()));
    return this.#structure;
  }
}

/**
 * The messages of `uids` (ascending) in batches, so a FETCH 1:* never holds the
 * whole mailbox. With `entries` (the session's view: uid → message id) a batch's
 * rows are read only if a message needs them; without, they are read up front and
 * UIDs no longer stored are left out.
 */
export async function* loadBatches(
  server: ImapServerContext,
  mailboxId: string,
  uids: readonly number[],
  entries?: { get(uid: number): { readonly messageId: string } | undefined },
  batch = 100,
): AsyncGenerator<Map<number, LoadedMessage>> {
  for (let i = 0; i < uids.length; i += batch) {
    const chunk = uids.slice(i, i + batch);
    let rows: Promise<Map<number, StoredMessage>> | undefined;
    const row = (uid: number) => {
      rows ??= server.store.getMessages(mailboxId, chunk).then((rs) => new Map(rs.map((r) => [r.uid, r])));
      return rows.then((m) => m.get(uid));
    };
    if (entries === undefined) {
      const stored = await server.store.getMessages(mailboxId, chunk);
      rows = Promise.resolve(new Map(stored.map((r) => [r.uid, r])));
      yield new Map(stored.map((r) => [r.uid, new LoadedMessage(server, r.uid, r.id, () => row(r.uid))]));
    } else {
      yield new Map(
        chunk.map((u) => [u, new LoadedMessage(server, u, entries.get(u)?.messageId, () => row(u))]),
      );
    }
  }
}
