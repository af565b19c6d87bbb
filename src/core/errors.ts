// The error catalogue: every error Sealpost raises on purpose has a stable code.
// Protocol layers map these to their wire form (SMTP reply, IMAP NO/BAD); only the
// dispatcher of a protocol turns an error into a response. Internal text never
// reaches a client: an unexpected error becomes a temporary failure with an incident id.

import { randomBytes } from 'node:crypto';

export type ErrorCode =
  | 'config.invalid'
  | 'config.missing'
  | 'key.file-permissions'
  | 'key.missing'
  | 'key.invalid'
  | 'crypto.integrity'
  | 'store.not-found'
  | 'store.conflict'
  | 'store.unavailable'
  | 'store.quota'
  | 'input.invalid'
  | 'audit.broken-chain'
  | 'tls.invalid-certificate'
  | 'internal';

export class SealpostError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (never secrets). */
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, detail: Record<string, unknown> = {}) {
    super(message);
    this.name = 'SealpostError';
    this.code = code;
    this.detail = detail;
  }
}

/** A sealed value failed to open: tampered, swapped between rows, or the wrong key. */
export class IntegrityError extends SealpostError {
  constructor(what: string) {
    super('crypto.integrity', `integrity check failed: ${what}`);
    this.name = 'IntegrityError';
  }
}

export function isSealpostError(e: unknown, code?: ErrorCode): e is SealpostError {
  return e instanceof SealpostError && (code === undefined || e.code === code);
}

/** A short random id to correlate a generic client-facing failure with the log line. */
export function incidentId(): string {
  return randomBytes(6).toString('base64url');
}
