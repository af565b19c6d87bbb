// The inbound MX (the `mx` role): SMTP from the internet for hosted domains, built on
// smtp-server. Offers STARTTLS (opportunistic, RFC 3207), PIPELINING (RFC 2920),
// 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), SIZE (RFC 1870) and ENHANCEDSTATUSCODES
// (RFC 2034). Never offers AUTH: this port takes no credentials.
//
// Invariants:
// - Recipients are checked at RCPT: an unknown one gets 550 at once, never
//   accept-then-bounce.
// - 250 after DATA only once every copy is durable (see mail/deliver.ts).
// - STARTTLS discards anything pipelined behind it (smtp-server resets its input
//   buffer on upgrade; hostile tests check it).
// - A refused message stores nothing.

import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import type { Runtime } from '../app/runtime.ts';
import { parseAddress } from '../core/address.ts';
import type { Logger } from '../log/logger.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import { resolveRecipient } from '../mail/recipients.ts';
import type { Account } from '../store/types.ts';
import type { CertificateSource } from '../tls/certificates.ts';
import type { Analyser } from './analysis.ts';
import { declaredSize, mailFromHasUtf8, utf8Of } from './envelope.ts';
import { handleData } from './mx-data.ts';
import { REPLIES } from './replies.ts';
import { baseServerOptions, connectionGate, failWith } from './server-common.ts';
import { installSmtpServerPatches } from './smtp-server-patches.ts';

export interface MxDeps {
  readonly rt: Runtime;
  readonly accountKeys: AccountKeys;
  readonly analyser: Analyser;
  readonly certificates: CertificateSource;
  readonly logger: Logger;
  /** Told when a connection ends, with the peer's address and port (worker processes). */
  readonly onClosed?: (address: string, port: number) => void;
}

/** What RCPT learned about each accepted recipient of the current transaction. */
export type RecipientMap = Map<string, readonly Account[]>;

export function createMxServer(deps: MxDeps): SMTPServer {
  installSmtpServerPatches();
  const cfg = deps.rt.config.mx;
  const gate = connectionGate(cfg);
  const recipients = new Map<string, RecipientMap>(); // session id -> accepted recipients
  const fail = failWith(deps.logger, 'mx');

  const server = new SMTPServer({
    ...baseServerOptions(deps.rt.config.hostname, deps.certificates, cfg),
    banner: 'ESMTP ready',
    greetPauseMs: cfg.greet_pause_ms,
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH'],

    onConnect: gate.admit,

    onClose(session) {
      gate.release(session);
      recipients.delete(session.id);
      deps.onClosed?.(session.remoteAddress, session.remotePort);
    },

    onMailFrom(address: SMTPServerAddress, session, cb) {
      recipients.set(session.id, new Map());
      if (address.address === '') return cb(); // null reverse-path (bounces), RFC 5321 §4.5.5
      const parsed = parseAddress(address.address, { utf8: mailFromHasUtf8(address) });
      if (!parsed.ok) return cb(REPLIES.badSenderSyntax(parsed.reason));
      return cb();
    },

    onRcptTo(address: SMTPServerAddress, session, cb) {
      checkRecipient(deps, session, address).then(
        (accounts) => {
          const map = recipients.get(session.id) ?? new Map<string, readonly Account[]>();
          recipients.set(session.id, map);
          map.set(address.address, accounts);
          cb();
        },
        (e) => fail(session, e, cb),
      );
    },

    onData(stream, session, cb) {
      const accepted = recipients.get(session.id) ?? new Map();
      handleData(deps, stream, session, accepted).then(
        (reply) => cb(null, reply),
        (e) => fail(session, e, cb),
      );
    },
  } as ConstructorParameters<typeof SMTPServer>[0] & { greetPauseMs: number });

  deps.certificates.on('reload', () => {
    const next = deps.certificates.current();
    server.updateSecureContext({ key: next.keyPem, cert: next.certPem });
  });
  server.on('error', (err) => deps.logger.warn({ err: { message: err.message } }, 'mx: connection error'));
  return server;
}

async function checkRecipient(
  deps: MxDeps,
  session: SMTPServerSession,
  rcpt: SMTPServerAddress,
): Promise<Account[]> {
  const cfg = deps.rt.config.mx;
  if (session.envelope.rcptTo.length >= cfg.max_recipients)
    throw REPLIES.tooManyRecipients(cfg.max_recipients);
  const parsed = parseAddress(rcpt.address, { utf8: utf8Of(session) });
  if (!parsed.ok) throw REPLIES.badRecipientSyntax(parsed.reason);
  const resolution = await resolveRecipient(deps.rt.store, parsed.value);
  switch (resolution.kind) {
    case 'not-local':
      throw REPLIES.relayDenied();
    case 'unknown-user':
      throw REPLIES.unknownUser();
    case 'disabled':
      throw REPLIES.disabledUser();
    case 'local': {
      const declared = declaredSize(session);
      for (const account of resolution.accounts) {
        if (overQuota(account, declared)) {
          throw cfg.quota_exceeded === 'permanent' ? REPLIES.quotaPermanent() : REPLIES.quotaTemporary();
        }
      }
      return [...resolution.accounts];
    }
  }
}

/** Full already, or the declared SIZE would not fit. */
export function overQuota(account: Account, incoming: number): boolean {
  if (account.quotaBytes <= 0) return false;
  return account.usedBytes >= account.quotaBytes || account.usedBytes + incoming > account.quotaBytes;
}
