// Reading stored mail back: unwrap a message's data key with its account key and
// open the sealed summary or the sealed body. Any mismatch (a row or blob swapped,
// edited or moved between accounts) surfaces as an IntegrityError, never as data.

import { type AccountKey, openBlob, openJson, unwrapDataKey } from '../crypto/index.ts';
import type { MessageSummary } from '../mime/summary.ts';
import type { Store, StoredMessage } from '../store/types.ts';
import type { AccountKeys } from './account-keys.ts';
import { BLOB_PURPOSE, META_PURPOSE } from './deliver.ts';

export interface ReadDeps {
  readonly store: Pick<Store, 'readBlob'>;
  readonly accountKeys: AccountKeys;
}

async function dataKeyOf(deps: ReadDeps, m: StoredMessage): Promise<Buffer> {
  const key: AccountKey = await deps.accountKeys.current(m.accountId);
  return unwrapDataKey(key, m.wrappedKey, m.id);
}

export async function readSummary(deps: ReadDeps, m: StoredMessage): Promise<MessageSummary> {
  const dataKey = await dataKeyOf(deps, m);
  return openJson<MessageSummary>(dataKey, m.sealedMeta, {
    purpose: META_PURPOSE,
    accountId: m.accountId,
    objectId: m.id,
  });
}

export async function readRaw(deps: ReadDeps, m: StoredMessage): Promise<Buffer> {
  const dataKey = await dataKeyOf(deps, m);
  const sealed = await deps.store.readBlob(m.blobRef);
  return openBlob(dataKey, sealed, { purpose: BLOB_PURPOSE, accountId: m.accountId, objectId: m.id });
}
