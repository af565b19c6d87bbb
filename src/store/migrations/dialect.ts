// SQL dialects the migrations render for. A migration writes its DDL once, in
// portable SQL, and takes the few type names that differ between SQLite and
// PostgreSQL from here; the PostgreSQL backend adds its own Dialect value.
// Invariants: every dialect stores ids as text, times as integer milliseconds,
// sealed bytes as binary, and gives the change feed an ever-increasing key that is
// never reused, even after rows are deleted.

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** 64-bit integer (ms times, sizes, counters, UIDs, modseqs). */
  readonly int: string;
  /** Opaque sealed bytes. */
  readonly bytes: string;
  /** Stored as 0/1 in SQLite, BOOLEAN in PostgreSQL. */
  readonly bool: string;
  /** An increasing, never-reused integer primary key. */
  readonly serialKey: string;
  /**
   * Appended to CREATE TABLE for a table stored in its primary-key order (SQLite's
   * WITHOUT ROWID: one b-tree instead of a table plus an index).
   */
  readonly clustered: string;
  /** Statements that make a table refuse UPDATE and DELETE. */
  appendOnly(table: string): string[];
}

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  int: 'INTEGER',
  bytes: 'BLOB',
  bool: 'INTEGER',
  serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  clustered: ' WITHOUT ROWID',
  appendOnly: (table) => [
    `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
       BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
    `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
       BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`,
  ],
};

// For the PostgreSQL backend, when it lands:
//   int 'BIGINT', bytes 'BYTEA', bool 'BOOLEAN',
//   serialKey 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', clustered '',
//   appendOnly: a trigger function raising an exception, plus REVOKE UPDATE, DELETE.
