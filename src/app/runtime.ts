// The runtime: everything a role or a CLI command needs, opened once from a Config —
// the master key ring, the store (which keeps the sealed message bodies too) and the
// audit log. Opening checks the key file's permissions and applies migrations;
// closing flushes the store.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AuditLog } from '../audit/log.ts';
import type { Config } from '../config/index.ts';
import { auditKey, loadMasterKeyFile, type MasterKeyRing, masterKeyRingFromEnv } from '../crypto/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/types.ts';

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly keys: MasterKeyRing;
  readonly store: Store;
  readonly audit: AuditLog;
  close(): Promise<void>;
}

export function dataPaths(config: Config) {
  const dir = config.data_dir;
  return {
    database: path.join(dir, 'sealpost.db'),
    blobs: path.join(dir, 'blobs'),
    auditHead: path.join(dir, 'audit.head'),
    pidFile: path.join(dir, 'sealpost.pid'),
  };
}

export async function loadKeys(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<MasterKeyRing> {
  const fromEnv = env['SEALPOST_MASTER_KEY'];
  if (fromEnv !== undefined && fromEnv !== '') return masterKeyRingFromEnv(fromEnv);
  return loadMasterKeyFile(config.keys.master_key_file);
}

export async function openRuntime(
  config: Config,
  options: { logger?: Logger; env?: NodeJS.ProcessEnv } = {},
): Promise<Runtime> {
  const logger = options.logger ?? silentLogger();
  const keys = await loadKeys(config, options.env);
  const paths = dataPaths(config);
  mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
  const store = await openSqliteStore({ path: paths.database, blobDir: paths.blobs });
  await store.migrate();
  const audit = new AuditLog(store, auditKey(keys), { headFile: paths.auditHead });
  return {
    config,
    logger,
    keys,
    store,
    audit,
    close: () => store.close(),
  };
}
