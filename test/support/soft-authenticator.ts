// A software WebAuthn authenticator for tests (W3C WebAuthn Level 3 §6, §8.7), built on
// node:crypto only, so the server side is exercised end to end without mocking it.
//
// It holds ES256 (P-256, COSE alg -7) credentials, answers create() with a 'none'
// attestation (§8.7) and get() with an assertion whose signature covers
// authenticatorData || SHA-256(clientDataJSON) (§6.3.3 step 11), DER-encoded as
// WebAuthn requires for ECDSA. CBOR is encoded by the small writer below (RFC 8949 §3:
// unsigned and negative integers, byte and text strings, maps), enough for the
// attestation object and the COSE_Key (RFC 9052 §7, RFC 9053 §7.1.1).
//
// Invariants:
// - Each credential keeps its own signature counter, incremented before every assertion,
//   unless the test asks it to lie (`counter`), as a cloned authenticator would.
// - Every field a relying party must check can be falsified per call (origin, rpId,
//   challenge, type, counter, user presence) so failure paths are testable.

import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

type Cbor = number | string | Uint8Array | ReadonlyMap<Cbor, Cbor>;

function cborHead(major: number, value: number): Buffer {
  const m = major << 5;
  if (value < 24) return Buffer.from([m | value]);
  if (value < 0x100) return Buffer.from([m | 24, value]);
  if (value < 0x10000) return Buffer.from([m | 25, value >> 8, value & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = m | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

/** RFC 8949 §3.1 encoding of the few types a WebAuthn authenticator emits. */
export function encodeCbor(value: Cbor): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || Math.abs(value) > 0xffffffff) throw new RangeError('cbor: int');
    return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  const parts: Buffer[] = [cborHead(5, value.size)];
  for (const [k, v] of value) parts.push(encodeCbor(k), encodeCbor(v));
  return Buffer.concat(parts);
}

const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface SoftCredential {
  readonly id: Buffer;
  readonly rpId: string;
  readonly userHandle: Buffer;
  readonly privateKey: KeyObject;
  readonly cosePublicKey: Buffer;
  signCount: number;
}

/** What a test may falsify on one ceremony; everything else follows the options. */
export interface Lies {
  readonly origin?: string;
  readonly rpId?: string;
  readonly challenge?: string;
  readonly type?: string;
  /** The signCount to report instead of the incremented one. */
  readonly counter?: number;
  readonly userPresent?: boolean;
  /** Report this credential id instead of the real one (signature still by the real key). */
  readonly credentialId?: string;
}

/** The W3C JSON shapes (what @simplewebauthn/browser would hand to the server). */
export interface SoftRegistrationResponse {
  id: string;
  rawId: string;
  type: 'public-key';
  clientExtensionResults: Record<string, never>;
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
}

export interface SoftAuthenticationResponse {
  id: string;
  rawId: string;
  type: 'public-key';
  clientExtensionResults: Record<string, never>;
  response: {
    clientDataJSON: string;
    authenticatorData: string;
    signature: string;
    userHandle?: string;
  };
}

function coseKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.x === undefined || jwk.y === undefined) throw new Error('soft authenticator: no EC point');
  // RFC 9053 §7.1.1: kty 2 (EC2), alg -7 (ES256), crv 1 (P-256), x, y.
  const map = new Map<Cbor, Cbor>([
    [1, 2],
    [3, -7],
    [-1, 1],
    [-2, Buffer.from(jwk.x, 'base64url')],
    [-3, Buffer.from(jwk.y, 'base64url')],
  ]);
  return encodeCbor(map);
}

function authData(rpId: string, flags: number, signCount: number, attested?: Buffer): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(signCount >>> 0, 0);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, attested ?? Buffer.alloc(0)]);
}

function clientData(type: string, challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
}

export class SoftAuthenticator {
  readonly origin: string;
  readonly credentials: SoftCredential[] = [];

  constructor(origin: string) {
    this.origin = origin;
  }

  /** navigator.credentials.create(): a new ES256 credential with 'none' attestation. */
  create(
    options: { challenge: string; rp: { id?: string }; user: { id: string } },
    lies: Lies = {},
  ): SoftRegistrationResponse {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const id = randomBytes(32);
    const cose = coseKey(publicKey);
    const cred: SoftCredential = {
      id,
      rpId,
      userHandle: Buffer.from(options.user.id, 'base64url'),
      privateKey,
      cosePublicKey: cose,
      signCount: 0,
    };
    this.credentials.push(cred);
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(id.length, 0);
    // §6.5.2 attested credential data: AAGUID (16 zero bytes for 'none'), L, id, COSE_Key.
    const attested = Buffer.concat([Buffer.alloc(16), idLen, id, cose]);
    const flags = (lies.userPresent === false ? 0 : FLAG_UP) | FLAG_UV | FLAG_AT;
    const data = authData(lies.rpId ?? rpId, flags, lies.counter ?? cred.signCount, attested);
    const attestationObject = encodeCbor(
      new Map<Cbor, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', data],
      ]),
    );
    const cd = clientData(
      lies.type ?? 'webauthn.create',
      lies.challenge ?? options.challenge,
      lies.origin ?? this.origin,
    );
    const idText = lies.credentialId ?? b64url(id);
    return {
      id: idText,
      rawId: idText,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(cd),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
    };
  }

  /** navigator.credentials.get(): an assertion by the first allowed credential we hold. */
  get(
    options: { challenge: string; rpId?: string; allowCredentials?: ReadonlyArray<{ id: string }> },
    lies: Lies = {},
  ): SoftAuthenticationResponse {
    const rpId = options.rpId ?? new URL(this.origin).hostname;
    const allowed = options.allowCredentials ?? [];
    const cred = this.credentials.find(
      (c) => c.rpId === rpId && (allowed.length === 0 || allowed.some((a) => a.id === b64url(c.id))),
    );
    if (cred === undefined) throw new Error('soft authenticator: no matching credential');
    cred.signCount += 1;
    const flags = (lies.userPresent === false ? 0 : FLAG_UP) | FLAG_UV;
    const data = authData(lies.rpId ?? rpId, flags, lies.counter ?? cred.signCount);
    const cd = clientData(
      lies.type ?? 'webauthn.get',
      lies.challenge ?? options.challenge,
      lies.origin ?? this.origin,
    );
    const signature = sign('sha256', Buffer.concat([data, sha256(cd)]), {
      key: cred.privateKey,
      dsaEncoding: 'der',
    });
    const idText = lies.credentialId ?? b64url(cred.id);
    return {
      id: idText,
      rawId: idText,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(cd),
        authenticatorData: b64url(data),
        signature: b64url(signature),
        userHandle: b64url(cred.userHandle),
      },
    };
  }
}
