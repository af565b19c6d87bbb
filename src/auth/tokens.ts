// Access tokens: short-lived JWTs (RFC 7519) signed with Ed25519 (RFC 8037, JWS alg
// "EdDSA"), in the shape of RFC 9068 (typ "at+jwt"; iss, sub, aud, exp, iat, jti), plus
// "sid" (the web session they belong to) and an optional space-separated "scope".
// DESIGN.md invariant 6: every service checks the audience.
//
// Invariants:
// - The signing key is derived from the master key ring (HKDF, ACCESS_TOKEN_KEY_INFO),
//   one key pair per master key version; the header's "kid" is that version. Tokens
//   signed before `sealpost keys rotate` verify for their lifetime while the old
//   version stays in the ring; a kid not in the ring is refused.
// - Verification pins alg "EdDSA" (so "none" and HMAC-with-the-public-key confusion are
//   refused before any key is looked up), typ "at+jwt", the issuer, and exactly one
//   audience (an array "aud" is refused even if it lists the right surface).
// - exp, nbf and iat are checked with a 5-second clock tolerance; a token may not live
//   longer than MAX_ACCESS_TOKEN_TTL_SECONDS, whatever its exp claims.
// - Errors carry a reason, never the token or key bytes.

import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { SealpostError } from '../core/errors.ts';
import { deriveKey } from '../crypto/derive.ts';
import type { MasterKeyRing } from '../crypto/master-key.ts';

export const ACCESS_TOKEN_KEY_INFO = 'sealpost access-token signing v1';
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 300;
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 900;
export const CLOCK_TOLERANCE_SECONDS = 5;

export const AUDIENCES = ['webmail', 'jmap', 'admin'] as const;
export type Audience = (typeof AUDIENCES)[number];

export type TokenFailure = 'malformed' | 'signature' | 'expired' | 'audience' | 'issuer' | 'algorithm';

/** A token was refused; the HTTP layer answers 401. The message never holds the token. */
export class TokenError extends Error {
  readonly reason: TokenFailure;
  constructor(reason: TokenFailure, message: string) {
    super(message);
    this.name = 'TokenError';
    this.reason = reason;
  }
}

export interface TokenRequest {
  sub: string; // account id
  sid: string; // session id
  aud: Audience;
  scope?: string[];
}

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  sid: string;
  aud: Audience;
  scope: string[];
  jti: string;
  iat: number;
  exp: number;
  /** The master key version that signed the token. */
  kid: number;
}

export interface TokenOptions {
  /** The fixed issuer, e.g. the server's hostname. */
  issuer: string;
  /** The clock, in milliseconds since the epoch (injectable for tests). */
  now?: () => number;
}

// PKCS#8 DER prefix of an Ed25519 private key (RFC 8410 §7); the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// RFC 6749 §3.3 scope-token characters.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const KID = /^[1-9][0-9]{0,8}$/;

interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

function signingKey(ring: MasterKeyRing, version: number): SigningKey {
  const seed = deriveKey(ring.get(version).key, ACCESS_TOKEN_KEY_INFO);
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  seed.fill(0);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Key pairs made on first use, one per master key version. */
function keyCache(ring: MasterKeyRing): (version: number) => SigningKey {
  const cache = new Map<number, SigningKey>();
  return (version) => {
    let k = cache.get(version);
    if (k === undefined) {
      k = signingKey(ring, version);
      cache.set(version, k);
    }
    return k;
  };
}

function checkIssuer(issuer: string): void {
  if (typeof issuer !== 'string' || issuer === '') {
    throw new SealpostError('config.invalid', 'access tokens need a non-empty issuer');
  }
}

function checkRequest(claims: TokenRequest, ttlSeconds: number): void {
  const bad = (what: string): never => {
    throw new SealpostError('input.invalid', `cannot issue an access token: ${what}`);
  };
  if (typeof claims.sub !== 'string' || claims.sub === '') bad('sub is empty');
  if (typeof claims.sid !== 'string' || claims.sid === '') bad('sid is empty');
  if (!(AUDIENCES as readonly string[]).includes(claims.aud)) bad(`unknown audience ${String(claims.aud)}`);
  for (const s of claims.scope ?? []) if (!SCOPE_TOKEN.test(s)) bad('a scope is not a scope token');
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_ACCESS_TOKEN_TTL_SECONDS) {
    bad(`ttl must be 1..${MAX_ACCESS_TOKEN_TTL_SECONDS} seconds`);
  }
}

export function tokenSigner(ring: MasterKeyRing, options: TokenOptions) {
  checkIssuer(options.issuer);
  const keyOf = keyCache(ring);
  const now = options.now ?? Date.now;
  return {
    /** A signed access token for one surface; lives `ttlSeconds` (5 minutes by default). */
    async issue(claims: TokenRequest, ttlSeconds = DEFAULT_ACCESS_TOKEN_TTL_SECONDS): Promise<string> {
      checkRequest(claims, ttlSeconds);
      const version = ring.current.version;
      const iat = Math.floor(now() / 1000);
      const payload: Record<string, unknown> = { sid: claims.sid };
      if (claims.scope !== undefined && claims.scope.length > 0) payload.scope = claims.scope.join(' ');
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYP, kid: String(version) })
        .setIssuer(options.issuer)
        .setSubject(claims.sub)
        .setAudience(claims.aud)
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + ttlSeconds)
        .setJti(randomBytes(16).toString('base64url'))
        .sign(keyOf(version).privateKey);
    },
  };
}

function failureOf(e: unknown): TokenError {
  if (e instanceof TokenError) return e;
  if (e instanceof joseErrors.JOSEAlgNotAllowed)
    return new TokenError('algorithm', 'token algorithm refused');
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new TokenError('signature', 'token signature does not verify');
  }
  if (e instanceof joseErrors.JWTExpired) return new TokenError('expired', 'token has expired');
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case 'aud':
        return new TokenError('audience', 'token is not for this service');
      case 'iss':
        return new TokenError('issuer', 'token was issued by someone else');
      case 'nbf':
      case 'iat':
        return new TokenError('expired', 'token is outside its validity period');
      default:
        return new TokenError('malformed', `token claim ${e.claim} is invalid`);
    }
  }
  return new TokenError('malformed', 'token is malformed');
}

function stringClaim(payload: Record<string, unknown>, name: string): string {
  const v = payload[name];
  if (typeof v !== 'string' || v === '') throw new TokenError('malformed', `token claim ${name} is missing`);
  return v;
}

function scopeClaim(value: unknown): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'string') throw new TokenError('malformed', 'token claim scope is invalid');
  return value.split(' ').filter((s) => s !== '');
}

export function tokenVerifier(ring: MasterKeyRing, options: TokenOptions) {
  checkIssuer(options.issuer);
  const keyOf = keyCache(ring);
  const now = options.now ?? Date.now;
  return {
    /** The claims of a valid token for `audience`, or TokenError. */
    async verify(token: string, audience: Audience): Promise<AccessTokenClaims> {
      if (typeof token !== 'string' || token.length > 4096)
        throw new TokenError('malformed', 'token is malformed');
      let kid = 0;
      try {
        const { payload } = await jwtVerify(
          token,
          (header) => {
            // Reached only once alg is known to be EdDSA.
            const v = typeof header.kid === 'string' && KID.test(header.kid) ? Number(header.kid) : 0;
            if (!ring.versions().includes(v)) throw new TokenError('signature', 'token key id is unknown');
            kid = v;
            return keyOf(v).publicKey;
          },
          {
            algorithms: ['EdDSA'],
            typ: ACCESS_TOKEN_TYP,
            issuer: options.issuer,
            audience,
            clockTolerance: CLOCK_TOLERANCE_SECONDS,
            maxTokenAge: MAX_ACCESS_TOKEN_TTL_SECONDS,
            requiredClaims: ['exp', 'sub', 'sid', 'jti'],
            currentDate: new Date(now()),
          },
        );
        if (payload.aud !== audience) throw new TokenError('audience', 'token is not for this service');
        const p = payload as Record<string, unknown>;
        return {
          iss: options.issuer,
          sub: stringClaim(p, 'sub'),
          sid: stringClaim(p, 'sid'),
          aud: audience,
          scope: scopeClaim(p.scope),
          jti: stringClaim(p, 'jti'),
          iat: payload.iat as number, // present and numeric: maxTokenAge requires it
          exp: payload.exp as number, // present and numeric: requiredClaims + jose's check
          kid,
        };
      } catch (e) {
        throw failureOf(e);
      }
    },
  };
}

export type TokenSigner = ReturnType<typeof tokenSigner>;
export type TokenVerifier = ReturnType<typeof tokenVerifier>;
