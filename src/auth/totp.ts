// TOTP second factor: time-based one-time passwords (RFC 6238 over HOTP, RFC 4226),
// with the secret sealed at rest. Pure logic: the caller stores the sealed secret and
// the last accepted time step, and passes them back in.
//
// Parameters are the ones every authenticator app supports: HMAC-SHA1, 6 digits,
// 30-second steps (RFC 6238 §4, §5.2). Secrets are 20 random bytes (RFC 4226 §4
// recommends 160 bits).
//
// Invariants:
// - verifyTotp accepts the current step and one step either side (RFC 6238 §5.2,
//   clock skew) and nothing further.
// - A step at or before the caller's lastStep is refused, so a code is accepted at
//   most once, and an older code never after a newer one (RFC 6238 §5.2: "the
//   verifier MUST NOT accept the second attempt of the OTP after the successful
//   validation has been issued for the first OTP"). The caller must persist the
//   returned step before reporting success.
// - The code is compared in constant time against every candidate step; whether it
//   matched, and which step, is decided only after all comparisons ran.
// - A sealed secret is bound to its account and factor (AAD purpose 'totp-secret'),
//   so it cannot be moved to another account or factor row.

import { randomBytes } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';
import { SealpostError } from '../core/errors.ts';
import { constantTimeEqual, open, seal } from '../crypto/index.ts';

export const TOTP_SECRET_BYTES = 20;
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps accepted either side of the current one. */
export const TOTP_SKEW_STEPS = 1;
/** RFC 4226 §4: the shared secret MUST be at least 128 bits. */
const MIN_SECRET_BYTES = 16;
const SEAL_PURPOSE = 'totp-secret';

export type TotpResult =
  | { readonly ok: true; readonly step: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'wrong' | 'replayed' };

/** A fresh random TOTP secret (160 bits). */
export function newTotpSecret(): Uint8Array {
  return new Uint8Array(randomBytes(TOTP_SECRET_BYTES));
}

/** otpauth's Secret over a private copy (a Buffer may be a view into a shared pool). */
function otpSecret(secret: Uint8Array): Secret {
  if (!(secret instanceof Uint8Array) || secret.length < MIN_SECRET_BYTES) {
    throw new SealpostError('key.invalid', `TOTP secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return new Secret({ buffer: Uint8Array.from(secret).buffer });
}

/**
 * The otpauth:// URI an authenticator app reads from a QR code: SHA1, 6 digits,
 * 30 s, base32 secret, label "issuer:account".
 */
export function totpUri(params: {
  readonly secret: Uint8Array;
  readonly account: string;
  readonly issuer?: string;
}): string {
  return new TOTP({
    issuer: params.issuer ?? 'Sealpost',
    label: params.account,
    secret: otpSecret(params.secret),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

/** The time step (RFC 6238 §4.2, T0 = 0) of a time in milliseconds since the epoch. */
export function totpStep(nowMs: number): number {
  if (!Number.isFinite(nowMs) || nowMs < 0) {
    throw new SealpostError('input.invalid', 'TOTP: the time must be a non-negative finite number');
  }
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code for one time step (HOTP with the step as counter, RFC 6238 §4.2). */
export function totpCode(secret: Uint8Array, step: number, digits: number = TOTP_DIGITS): string {
  return HOTP.generate({ secret: otpSecret(secret), algorithm: 'SHA1', digits, counter: step });
}

/** Exactly six ASCII digits after trimming spaces, or null. */
function normaliseCode(code: string): string | null {
  if (typeof code !== 'string') return null;
  const trimmed = code.trim();
  return /^[0-9]{6}$/.test(trimmed) ? trimmed : null;
}

/**
 * Check a code typed by the user. `now` is milliseconds since the epoch; `lastStep`
 * is the step the caller stored at the last success (null if never). On success the
 * caller stores `step` as the new lastStep.
 */
export function verifyTotp(params: {
  readonly secret: Uint8Array;
  readonly code: string;
  readonly now: number;
  readonly lastStep: number | null;
}): TotpResult {
  const code = normaliseCode(params.code);
  if (code === null) return { ok: false, reason: 'malformed' };
  const current = totpStep(params.now);
  const given = Buffer.from(code, 'ascii');
  // Compare against every candidate before deciding; keep the latest matching step
  // that is still usable, and remember whether any match was a replay.
  let accepted = -1;
  let replayed = false;
  for (let step = current - TOTP_SKEW_STEPS; step <= current + TOTP_SKEW_STEPS; step++) {
    if (step < 0) continue;
    const matches = constantTimeEqual(given, Buffer.from(totpCode(params.secret, step), 'ascii'));
    const usable = params.lastStep === null || step > params.lastStep;
    if (matches && usable) accepted = step;
    if (matches && !usable) replayed = true;
  }
  if (accepted >= 0) return { ok: true, step: accepted };
  return { ok: false, reason: replayed ? 'replayed' : 'wrong' };
}

function aad(accountId: string, factorId: string) {
  return { purpose: SEAL_PURPOSE, accountId, objectId: factorId };
}

/** Seal a TOTP secret for storage, bound to its account and factor row. */
export function sealTotpSecret(key: Buffer, secret: Uint8Array, accountId: string, factorId: string): Buffer {
  otpSecret(secret); // refuse a short secret before it is stored
  return seal(key, secret, aad(accountId, factorId));
}

/** Open a sealed TOTP secret; throws IntegrityError if it was moved or altered. */
export function openTotpSecret(
  key: Buffer,
  sealed: Uint8Array,
  accountId: string,
  factorId: string,
): Uint8Array {
  return new Uint8Array(open(key, sealed, aad(accountId, factorId)));
}
