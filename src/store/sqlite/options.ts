// Options of the SQLite store and the defaults behind them (limits, warnings).

import { SealpostError } from '../../core/errors.ts';

export interface SqliteStoreOptions {
  readonly path: string;
  /** Folder of the blobs too large to keep inline (default: `blobs` beside the database). */
  readonly blobDir?: string;
  /**
   * Sealed blobs up to this many bytes are kept in the database, larger ones in files
   * (default 128 KiB; see blobs.ts for why).
   */
  readonly inlineBlobMaxBytes?: number;
  /** How long a writer waits for another process's lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Clock for row timestamps (default Date.now). */
  readonly now?: () => number;
  /** Told when a change listener throws (default: a process warning). */
  readonly onListenerError?: (error: unknown) => void;
  /** Told when a blob file cannot be deleted after its commit (default: a process warning). */
  readonly onBlobFileError?: (error: unknown) => void;
}

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return NO_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new SealpostError('input.invalid', 'bad limit');
  return limit;
}

export function reportListenerError(error: unknown): void {
  const name = error instanceof Error ? error.name : typeof error;
  process.emitWarning(`store change listener threw (${name})`, 'SealpostStoreWarning');
}

export function reportBlobFileError(error: unknown): void {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'unknown';
  process.emitWarning(`could not delete a blob file, left as an orphan (${code})`, 'SealpostStoreWarning');
}
