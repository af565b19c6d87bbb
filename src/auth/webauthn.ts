// WebAuthn / passkeys (W3C WebAuthn Level 3 §7.1 registration, §7.2 authentication)
// over @simplewebauthn/server. Pure logic: the caller generates and stores the
// challenge it got from the options, stores the factor we return, and persists the
// new signature counter before reporting a successful login.
//
// Invariants:
// - Every response is checked for its ceremony type, the exact challenge issued, an
//   origin in cfg.origins (https://<rpId> plus configured extras) and the SHA-256 of
//   cfg.rpId in authenticatorData (§7.1 steps 8-13, §7.2 steps 11-15). We check these
//   ourselves first, so each refusal has a typed reason, and the library checks them
//   again with the signature.
// - User presence is always required; user verification is 'preferred' and reported
//   back (userVerified) so a passwordless caller can insist on it.
// - A login is refused unless the response names the factor's credential id, and,
//   when the authenticator returns a user handle, that handle is the factor's
//   account. The caller looks the factor up among the account's own factors only.
// - Signature counter (§6.1.1, §7.2 step 21): when either the stored or the reported
//   counter is non-zero, the reported one must be strictly greater, else 'counter'
//   (a cloned authenticator or a replayed assertion).

import { createHash } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import { SealpostError } from '../core/errors.ts';
import type { AuthFactor } from '../store/types.ts';

/** COSE algorithms offered (RFC 9053): ES256, EdDSA, RS256. */
export const WEBAUTHN_ALGORITHMS: readonly number[] = [-7, -8, -257];

export interface WebAuthnConfig {
  readonly rpId: string;
  readonly rpName: string;
  /** Exact origins accepted in clientDataJSON. */
  readonly origins: readonly string[];
}

export type WebAuthnFailure =
  | 'malformed'
  | 'type'
  | 'challenge'
  | 'origin'
  | 'rp-id'
  | 'user-presence'
  | 'unknown-credential'
  | 'user-handle'
  | 'counter'
  | 'signature'
  | 'invalid';

export type WebAuthnRefusal = {
  readonly ok: false;
  readonly reason: WebAuthnFailure;
  /** Short, for logs; never shown to the client. */
  readonly detail: string;
};

export type RegistrationResult =
  | {
      readonly ok: true;
      readonly credentialId: string;
      readonly publicKey: Uint8Array;
      readonly counter: number;
      readonly transports: readonly string[];
      readonly userVerified: boolean;
    }
  | WebAuthnRefusal;

export type AuthenticationResult =
  | { readonly ok: true; readonly newCounter: number; readonly userVerified: boolean }
  | WebAuthnRefusal;

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function originOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SealpostError('config.invalid', `webauthn origin is not a URL: ${text}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && url.hostname === 'localhost')) {
    throw new SealpostError('config.invalid', `webauthn origin must be https: ${text}`);
  }
  if (url.origin !== text.replace(/\/$/, '')) {
    throw new SealpostError('config.invalid', `webauthn origin must have no path: ${text}`);
  }
  return url.origin;
}

/** The relying party: rpId is the server hostname; https://<rpId> is always an origin. */
export function webauthnConfig(params: {
  rpId: string;
  rpName: string;
  origins?: readonly string[];
}): WebAuthnConfig {
  const rpId = params.rpId.toLowerCase().replace(/\.$/, '');
  if (!HOSTNAME.test(rpId)) {
    throw new SealpostError('config.invalid', `webauthn RP ID is not a hostname: ${params.rpId}`);
  }
  const origins = new Set([`https://${rpId}`, ...(params.origins ?? []).map(originOf)]);
  return { rpId, rpName: params.rpName, origins: [...origins] };
}

/** The user handle for an account: its id as UTF-8 bytes (never the address). */
export function userHandleOf(accountId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(accountId, 'utf8'));
}

function descriptors(factors: readonly AuthFactor[]): { id: string; transports?: string[] }[] {
  const out: { id: string; transports?: string[] }[] = [];
  for (const f of factors) {
    if (f.kind !== 'webauthn' || f.credentialId === null) continue;
    out.push(
      f.transports === null ? { id: f.credentialId } : { id: f.credentialId, transports: [...f.transports] },
    );
  }
  return out;
}

/** Options for navigator.credentials.create(); the caller keeps options.challenge. */
export function registrationOptions(
  cfg: WebAuthnConfig,
  params: { accountId: string; address: string; existing: readonly AuthFactor[] },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: cfg.rpName,
    rpID: cfg.rpId,
    userName: params.address,
    userDisplayName: params.address,
    userID: userHandleOf(params.accountId),
    attestationType: 'none',
    excludeCredentials: descriptors(params.existing),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    supportedAlgorithmIDs: [...WEBAUTHN_ALGORITHMS],
  });
}

/** Options for navigator.credentials.get(); an empty list asks for a discoverable credential. */
export function authenticationOptions(
  cfg: WebAuthnConfig,
  params: { factors: readonly AuthFactor[] },
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: cfg.rpId,
    allowCredentials: descriptors(params.factors),
    userVerification: 'preferred',
  });
}

function refuse(reason: WebAuthnFailure, detail: string): WebAuthnRefusal {
  return { ok: false, reason, detail };
}

/** Our own checks of clientDataJSON and authenticatorData, so refusals are typed. */
function precheck(
  cfg: WebAuthnConfig,
  type: string,
  expectedChallenge: string,
  clientDataB64: unknown,
  authDataBytes: Buffer | null,
): WebAuthnRefusal | null {
  if (typeof clientDataB64 !== 'string' || authDataBytes === null || authDataBytes.length < 37) {
    return refuse('malformed', 'missing clientDataJSON or authenticatorData');
  }
  let cd: { type?: unknown; challenge?: unknown; origin?: unknown };
  try {
    cd = JSON.parse(Buffer.from(clientDataB64, 'base64url').toString('utf8'));
  } catch {
    return refuse('malformed', 'clientDataJSON is not JSON');
  }
  if (cd === null || typeof cd !== 'object') return refuse('malformed', 'clientDataJSON is not an object');
  if (cd.type !== type) return refuse('type', `type ${String(cd.type)}`);
  if (cd.challenge !== expectedChallenge) return refuse('challenge', 'challenge mismatch');
  if (typeof cd.origin !== 'string' || !cfg.origins.includes(cd.origin)) {
    return refuse('origin', `origin ${String(cd.origin).slice(0, 100)}`);
  }
  const rpIdHash = createHash('sha256').update(cfg.rpId).digest();
  if (!rpIdHash.equals(authDataBytes.subarray(0, 32))) return refuse('rp-id', 'RP ID hash mismatch');
  const flags = authDataBytes[32] ?? 0;
  if ((flags & 0x01) === 0) return refuse('user-presence', 'user not present');
  return null;
}

function attestedAuthData(attestationObject: unknown): Buffer | null {
  if (typeof attestationObject !== 'string') return null;
  try {
    const raw = new Uint8Array(Buffer.from(attestationObject, 'base64url'));
    const authData: unknown = decodeAttestationObject(raw).get('authData');
    return authData instanceof Uint8Array ? Buffer.from(authData) : null;
  } catch {
    return null;
  }
}

function libraryFailure(err: unknown): WebAuthnRefusal {
  const msg = err instanceof Error ? err.message : String(err);
  if (/counter value/i.test(msg)) return refuse('counter', msg.slice(0, 200));
  if (/origin/i.test(msg)) return refuse('origin', msg.slice(0, 200));
  if (/RP ID/i.test(msg)) return refuse('rp-id', msg.slice(0, 200));
  if (/challenge/i.test(msg)) return refuse('challenge', msg.slice(0, 200));
  return refuse('invalid', msg.slice(0, 200));
}

/** §7.1: verify a registration response; the caller stores the result as a webauthn factor. */
export async function verifyRegistration(
  cfg: WebAuthnConfig,
  params: { response: RegistrationResponseJSON; expectedChallenge: string },
): Promise<RegistrationResult> {
  const { response, expectedChallenge } = params;
  const r = response.response as Partial<RegistrationResponseJSON['response']> | undefined;
  const pre = precheck(
    cfg,
    'webauthn.create',
    expectedChallenge,
    r?.clientDataJSON,
    attestedAuthData(r?.attestationObject),
  );
  if (pre !== null) return pre;
  try {
    const v = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: [...cfg.origins],
      expectedRPID: cfg.rpId,
      requireUserPresence: true,
      requireUserVerification: false,
      supportedAlgorithmIDs: [...WEBAUTHN_ALGORITHMS],
    });
    if (!v.verified) return refuse('invalid', 'registration not verified');
    const { credential, userVerified } = v.registrationInfo;
    return {
      ok: true,
      credentialId: credential.id,
      publicKey: new Uint8Array(credential.publicKey),
      counter: credential.counter,
      transports: (r?.transports ?? []).filter((t) => typeof t === 'string').slice(0, 8),
      userVerified,
    };
  } catch (err) {
    return libraryFailure(err);
  }
}

/** The account's webauthn factor named by a response, or null (never another account's). */
export function findWebAuthnFactor(
  factors: readonly AuthFactor[],
  response: AuthenticationResponseJSON,
): AuthFactor | null {
  return (
    factors.find(
      (f) => f.kind === 'webauthn' && f.credentialId === response.id && f.credentialId === response.rawId,
    ) ?? null
  );
}

/** §7.2: verify an assertion against one stored factor; persist newCounter before success. */
export async function verifyAuthentication(
  cfg: WebAuthnConfig,
  params: { response: AuthenticationResponseJSON; expectedChallenge: string; factor: AuthFactor },
): Promise<AuthenticationResult> {
  const { response, expectedChallenge, factor } = params;
  if (factor.kind !== 'webauthn' || factor.credentialId === null || factor.publicKey === null) {
    return refuse('unknown-credential', 'not a webauthn factor');
  }
  if (response.id !== factor.credentialId || response.rawId !== factor.credentialId) {
    return refuse('unknown-credential', 'credential id is not this factor');
  }
  const r = response.response as Partial<AuthenticationResponseJSON['response']> | undefined;
  const authData =
    typeof r?.authenticatorData === 'string' ? Buffer.from(r.authenticatorData, 'base64url') : null;
  const pre = precheck(cfg, 'webauthn.get', expectedChallenge, r?.clientDataJSON, authData);
  if (pre !== null) return pre;
  const handle = r?.userHandle;
  if (
    typeof handle === 'string' &&
    handle !== '' &&
    handle !== Buffer.from(userHandleOf(factor.accountId)).toString('base64url')
  ) {
    return refuse('user-handle', 'user handle is another account');
  }
  const stored = factor.counter ?? 0;
  const reported = authData?.readUInt32BE(33) ?? 0;
  if ((stored > 0 || reported > 0) && reported <= stored) {
    return refuse('counter', `counter ${reported} not above ${stored}`);
  }
  try {
    const v = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: [...cfg.origins],
      expectedRPID: cfg.rpId,
      credential: { id: factor.credentialId, publicKey: new Uint8Array(factor.publicKey), counter: stored },
      requireUserVerification: false,
    });
    if (!v.verified) return refuse('signature', 'signature does not verify');
    return {
      ok: true,
      newCounter: v.authenticationInfo.newCounter,
      userVerified: v.authenticationInfo.userVerified,
    };
  } catch (err) {
    return libraryFailure(err);
  }
}
