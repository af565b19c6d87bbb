// The store's public surface: the Store and BlobStore interfaces with their types,
// the SQLite backend, the file blob store, and flag normalisation. The contract
// suite (contract.ts) is not exported here: backend tests import it directly.

export { FileBlobStore } from './blobs/file-blob-store.ts';
export { applyFlags, isSeen, normalizeFlags } from './flags.ts';
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.ts';
export type * from './types.ts';
