// Local delivery: seal a message for each recipient account and append it to the
// right mailbox in one durable store transaction. Every copy gets its own data key
// (wrapped by that account's key), so accounts never share ciphertext or keys.
//
// Invariant: the returned promise resolves only when every copy is durable (sealed
// bodies and rows committed: the store keeps each body with its rows, see
// Store.appendMessages); callers send 250/OK only after it resolves. If anything
// fails, nothing is appended.

import { newId } from '../core/ids.ts';
import { keyedHash, newDataKey, sealBlob, sealJson, wrapDataKey } from '../crypto/index.ts';
import type { MessageSummary } from '../mime/summary.ts';
import type { Account, Appended, Mailbox, NewMessage, Store } from '../store/types.ts';
import type { AccountKeys } from './account-keys.ts';
import type { MessageContent } from './content.ts';

export interface DeliveryTarget {
  readonly account: Account;
  readonly mailbox: Mailbox;
}

export interface DeliveryInput {
  readonly raw: Buffer;
  readonly content: MessageContent;
  readonly targets: readonly DeliveryTarget[];
  readonly internalDate: number;
  readonly flags?: readonly string[];
}

export interface DeliveryDeps {
  readonly store: Store;
  readonly accountKeys: AccountKeys;
}

/** What is sealed beside the blob: the summary clients list without reading the body. */
export const META_PURPOSE = 'message-meta';
export const BLOB_PURPOSE = 'message';

export async function deliver(deps: DeliveryDeps, input: DeliveryInput): Promise<Appended[]> {
  return deps.store.appendMessages(await prepareMessages(deps, input));
}

/** The sealed rows for every target of one message (append several inputs' rows in one call to store them atomically). */
export function prepareMessages(deps: DeliveryDeps, input: DeliveryInput): Promise<NewMessage[]> {
  return Promise.all(input.targets.map((t) => prepare(deps, input, t)));
}

/** Bytes of a blind-index term: a keyed hash truncated to 128 bits (DESIGN.md "Search"). */
export const SEARCH_TERM_BYTES = 16;

export function searchTerm(searchKey: Buffer, token: string): Uint8Array {
  return keyedHash(searchKey, token).subarray(0, SEARCH_TERM_BYTES);
}

async function prepare(
  deps: DeliveryDeps,
  input: DeliveryInput,
  target: DeliveryTarget,
): Promise<NewMessage> {
  const accountId = target.account.id;
  const key = await deps.accountKeys.current(accountId);
  const id = newId('msg');
  const dataKey = newDataKey();
  const aad = (purpose: string) => ({ purpose, accountId, objectId: id });
  const { summary, structure, tokens } = input.content;
  const threadKeys = threadKeysOf(summary).map((k) => keyedHash(key.threadKey, k));
  const existingThread = threadKeys.length > 0 ? await deps.store.findThread(accountId, threadKeys) : null;
  return {
    id,
    accountId,
    mailboxId: target.mailbox.id,
    blobRef: id,
    size: input.raw.length,
    internalDate: input.internalDate,
    flags: input.flags ?? [],
    threadId: existingThread ?? newId('thr'),
    threadKeys,
    keyVersion: key.version,
    wrappedKey: wrapDataKey(key, dataKey, id),
    sealedMeta: sealJson(dataKey, { ...summary, structure }, aad(META_PURPOSE)),
    searchTerms: tokens.map((t) => searchTerm(key.searchKey, t)),
    sealedBlob: sealBlob(dataKey, input.raw, aad(BLOB_PURPOSE)),
  };
}

/** Message-ID, In-Reply-To and References, normalised: the keys replies thread on. */
function threadKeysOf(s: MessageSummary): string[] {
  const ids = new Set<string>();
  for (const v of [s.messageId, s.inReplyTo, ...s.references]) {
    if (v) ids.add(v.trim().toLowerCase());
  }
  return [...ids];
}
