// Migration 2: the `blob` table, where a store keeps sealed message bodies inline
// (the SQLite store: those up to its inlineBlobMaxBytes; see sqlite/blobs.ts).
// Invariants encoded here:
// - a ref names one blob (PRIMARY KEY); blobs are immutable once written;
// - no foreign key to message: several message rows may share one ref (a copy),
//   and the store deletes a blob when the last of them goes, in the same transaction.

import type { Migration } from './index.ts';

export const blobTable: Migration = {
  version: 2,
  name: 'inline blobs',
  up(db) {
    db.exec(`CREATE TABLE blob (
       ref TEXT PRIMARY KEY,
       data ${db.dialect.bytes} NOT NULL)`);
  },
};
