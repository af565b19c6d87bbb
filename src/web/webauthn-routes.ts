// WebAuthn over HTTP (W3C WebAuthn Level 3 §7.1, §7.2; issue 4 item 2): enrolling a
// security key or passkey as a second factor, and answering a pending login with
// one. The ceremonies themselves are checked in auth/webauthn.ts.
//
// Invariants:
// - The relying party is the server hostname; the only origin accepted is the web
//   listener's own (server.ts webOrigin).
// - Each challenge is kept in the session, tagged with its ceremony, and cleared
//   when a response is checked: one challenge answers at most one response.
// - Enrolment needs a complete session; login needs a pending one, and only the
//   account's own credentials are offered and accepted.
// - An assertion draws on the same attempt budget as TOTP and recovery codes
//   (factor-attempts.ts): a refused one is a failed login in the shared throttle, and
//   the fifth wrong answer of any kind ends the pending session; while the account is
//   backed off, no assertion is even checked. The new signature counter
//   is stored before the session completes, and completing moves it to a new cookie
//   value (sessions.complete), so the pre-login cookie stops working.

import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance } from 'fastify';
import {
  authenticationOptions,
  findWebAuthnFactor,
  registrationOptions,
  verifyAuthentication,
  verifyRegistration,
  webauthnConfig,
} from '../auth/webauthn.ts';
import type { FactorAttempts } from './factor-attempts.ts';
import { nameSchema, newFactor, recordFactor, strictBody } from './factor-routes.ts';
import { WebError } from './http.ts';
import type { WebServerDeps } from './server.ts';
import type { WebSessions } from './sessions.ts';

const REGISTER = 'webauthn-register:';
const LOGIN = 'webauthn-login:';

const b64 = { type: 'string', minLength: 1, maxLength: 4096 };
const credential = (response: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required: ['id', 'rawId', 'type', 'response'],
  properties: {
    id: b64,
    rawId: b64,
    type: { type: 'string', const: 'public-key' },
    authenticatorAttachment: { type: 'string', maxLength: 32 },
    clientExtensionResults: { type: 'object' },
    response: { type: 'object', additionalProperties: false, required, properties: response },
  },
});
const registrationSchema = credential(
  {
    clientDataJSON: b64,
    attestationObject: b64,
    authenticatorData: b64,
    publicKey: b64,
    publicKeyAlgorithm: { type: 'integer' },
    transports: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 32 } },
  },
  ['clientDataJSON', 'attestationObject'],
);
const authenticationSchema = credential(
  {
    clientDataJSON: b64,
    authenticatorData: b64,
    signature: b64,
    userHandle: { type: 'string', maxLength: 128 },
  },
  ['clientDataJSON', 'authenticatorData', 'signature'],
);

const taken = (challenge: string | null, tag: string) =>
  challenge?.startsWith(tag) === true ? challenge.slice(tag.length) : null;

export function registerWebAuthnRoutes(
  app: FastifyInstance,
  d: WebServerDeps,
  sessions: WebSessions,
  origin: () => string,
  attempts: FactorAttempts,
): void {
  const { store } = d;
  const rp = () => webauthnConfig({ rpId: d.config.hostname, rpName: 'Sealpost', origins: [origin()] });

  app.post('/api/auth/factors/webauthn/options', async (request) => {
    const c = await sessions.require(request, false);
    const { accountId, idHash } = c.session;
    const account = await store.getAccount(accountId);
    if (account === null) throw new WebError(404, 'not-found', 'no such account');
    const existing = (await store.listFactors(accountId)).filter((f) => f.kind === 'webauthn');
    const options = await registrationOptions(rp(), { accountId, address: account.address, existing });
    await store.setWebSessionChallenge(idHash, REGISTER + options.challenge);
    return options;
  });

  app.post(
    '/api/auth/factors/webauthn',
    { schema: strictBody({ name: nameSchema, response: registrationSchema }) },
    async (request) => {
      const c = await sessions.require(request, false);
      const { name, response } = request.body as { name: string; response: RegistrationResponseJSON };
      const { accountId, idHash } = c.session;
      const expectedChallenge = taken(c.session.challenge, REGISTER);
      if (expectedChallenge === null) throw new WebError(409, 'no-enrolment', 'ask for options first');
      await store.setWebSessionChallenge(idHash, null);
      const r = await verifyRegistration(rp(), { response, expectedChallenge });
      if (!r.ok) {
        d.logger.info(
          { reason: r.reason, detail: r.detail, account: accountId },
          'webauthn: enrolment refused',
        );
        throw new WebError(400, 'webauthn-refused', `the authenticator's answer was refused (${r.reason})`);
      }
      if ((await store.getFactorByCredentialId(r.credentialId)) !== null) {
        throw new WebError(409, 'already-enrolled', 'this credential is already enrolled');
      }
      const factor = newFactor(accountId, 'webauthn', name, sessions.now(), {
        credentialId: r.credentialId,
        publicKey: r.publicKey,
        counter: r.counter,
        transports: r.transports,
      });
      await store.addFactor(factor);
      recordFactor(sessions, c, 'factor-added', factor);
      return { factor: { id: factor.id, kind: factor.kind, name: factor.name, createdAt: factor.createdAt } };
    },
  );

  app.post('/api/auth/webauthn/options', async (request) => {
    const c = await sessions.require(request, true);
    if (!c.session.pending) throw new WebError(409, 'not-pending', 'this session needs no second factor');
    const factors = (await store.listFactors(c.session.accountId)).filter((f) => f.kind === 'webauthn');
    if (factors.length === 0) throw new WebError(409, 'no-webauthn', 'no security key is enrolled');
    const options = await authenticationOptions(rp(), { factors });
    await store.setWebSessionChallenge(c.session.idHash, LOGIN + options.challenge);
    return options;
  });

  app.post(
    '/api/auth/webauthn',
    { schema: strictBody({ response: authenticationSchema }) },
    async (request, reply) => {
      const c = await sessions.require(request, true);
      if (!c.session.pending) throw new WebError(409, 'not-pending', 'this session needs no second factor');
      const { response } = request.body as { response: AuthenticationResponseJSON };
      const { accountId, idHash } = c.session;
      const expectedChallenge = taken(c.session.challenge, LOGIN);
      if (expectedChallenge === null) throw new WebError(409, 'no-challenge', 'ask for options first');
      await store.setWebSessionChallenge(idHash, null);
      const refused = new WebError(401, 'invalid-assertion', 'the security key answer was refused');
      await attempts.attempt(c, reply, 'webauthn', refused, async () => {
        const factor = findWebAuthnFactor(await store.listFactors(accountId), response);
        if (factor === null) return false;
        const r = await verifyAuthentication(rp(), { response, expectedChallenge, factor });
        if (r.ok) await store.updateWebauthnCounter(factor.id, r.newCounter, sessions.now());
        else d.logger.info({ reason: r.reason, account: accountId }, 'webauthn: assertion refused');
        return r.ok;
      });
      return sessions.complete(reply, c.session, 'webauthn');
    },
  );
}
