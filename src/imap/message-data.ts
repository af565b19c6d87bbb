// Reading messages for FETCH and SEARCH: the stored rows for a batch of UIDs, the
// sealed metadata (summary and the MIME structure computed at delivery), and the
// raw message. Messages stored before the structure was sealed with them get it
// parsed from the body on demand.

import { readRaw, readSummary } from '../mail/read.ts';
import { parseStructure } from '../mime/structure.ts';
import type { MessageStructure } from '../mime/structure-types.ts';
import type { MessageSummary } from '../mime/summary.ts';
import type { StoredMessage } from '../store/types.ts';
import type { ImapServerContext } from './context.ts';

export type StoredMeta = MessageSummary & { readonly structure?: MessageStructure };

export class LoadedMessage {
  readonly row: StoredMessage;
  readonly #server: ImapServerContext;
  #meta: Promise<StoredMeta> | undefined;
  #raw: Promise<Buffer> | undefined;
  #structure: Promise<MessageStructure> | undefined;

  constructor(server: ImapServerContext, row: StoredMessage) {
    this.#server = server;
    this.row = row;
  }

  meta(): Promise<StoredMeta> {
    this.#meta ??= readSummary(this.#server, this.row) as Promise<StoredMeta>;
    return this.#meta;
  }

  raw(): Promise<Buffer> {
    this.#raw ??= readRaw(this.#server, this.row);
    return this.#raw;
  }

  structure(): Promise<MessageStructure> {
    this.#structure ??= this.meta().then(async (m) => m.structure ?? parseStructure(await this.raw()));
    return this.#structure;
  }
}

/** Rows for `uids` (ascending) in batches, so a FETCH 1:* never holds the whole mailbox. */
export async function* loadBatches(
  server: ImapServerContext,
  mailboxId: string,
  uids: readonly number[],
  batch = 100,
): AsyncGenerator<Map<number, LoadedMessage>> {
  for (let i = 0; i < uids.length; i += batch) {
    const rows = await server.store.getMessages(mailboxId, uids.slice(i, i + batch));
    yield new Map(rows.map((r) => [r.uid, new LoadedMessage(server, r)]));
  }
}
