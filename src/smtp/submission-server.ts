// Message submission (the `submission` role, RFC 6409): mail from the users' own
// clients, built on smtp-server like the MX. Two listeners share these handlers:
// implicit TLS on 465 (RFC 8314 §3.3) and STARTTLS on 587.
//
// Invariants:
// - AUTH is required before MAIL (RFC 6409 §4.3); on 587 it is neither offered nor
//   accepted before STARTTLS (DESIGN invariant 1: 538 5.7.0, and no AUTH in EHLO).
// - Credentials are checked by auth/password-login.ts, the function IMAP and POP3
//   use: the same throttling, timing and answers; app passwords only within their
//   'smtp' scope; the main password refused once the account has a second factor.
// - The envelope sender and the From/Sender headers must be addresses the account
//   owns (sender-policy.ts): 553/550 5.7.1 otherwise. The null sender is refused.
// - The abuse guard (delivery/abuse-guard.ts) is asked at MAIL FROM and before the
//   message is queued: 451 4.7.1 over a sending limit, 550 5.7.1 once suspended.
// - Local recipients are checked at RCPT (an unknown one gets 550 at once); other
//   domains are accepted for delivery (that is what submission is for).
// - 250 after DATA only once the message is durable in the outbound queue.

import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import type { PasswordLogin } from '../auth/password-login.ts';
import type { Config } from '../config/index.ts';
import { parseAddress } from '../core/address.ts';
import type { AbuseGuard, GuardDecision } from '../delivery/abuse-guard.ts';
import type { LimitName } from '../delivery/abuse-policy.ts';
import type { OutboundQueue } from '../delivery/queue.ts';
import type { Logger } from '../log/logger.ts';
import { resolveRecipient } from '../mail/recipients.ts';
import type { Account, Store } from '../store/types.ts';
import type { CertificateSource } from '../tls/certificates.ts';
import { mailFromHasUtf8, utf8Of } from './envelope.ts';
import { REPLIES, SmtpReply } from './replies.ts';
import { ownsAddress } from './sender-policy.ts';
import { baseServerOptions, type Callback, connectionGate, failWith } from './server-common.ts';
import { installSmtpServerPatches } from './smtp-server-patches.ts';
import { handleSubmissionData, type Signer } from './submission-data.ts';

export interface SubmissionDeps {
  readonly config: Config;
  readonly store: Store;
  readonly login: PasswordLogin;
  readonly queue: OutboundQueue;
  readonly certificates: CertificateSource;
  readonly logger: Logger;
  /** DKIM signing of accepted mail (delivery/dkim); unsigned when absent. */
  readonly sign?: Signer;
  /** Told after a message is queued (wakes the delivery role in this process). */
  readonly onQueued?: () => void;
  /** Per-account limits and suspension (delivery/abuse-guard.ts); no limits when absent. */
  readonly guard?: AbuseGuard;
}

export interface SubmissionServers {
  /** Implicit TLS (465). */
  readonly tls: SMTPServer;
  /** STARTTLS required before AUTH (587); null when `starttls_port` is 0. */
  readonly starttls: SMTPServer | null;
}

export const SUBMISSION_REPLIES = {
  authFailed: () => new SmtpReply(535, '5.7.8', 'Authentication credentials invalid'),
  nullSender: () =>
    new SmtpReply(553, '5.7.1', 'Sender refused: submitted mail needs a sender address you own'),
  notYourSender: () =>
    new SmtpReply(553, '5.7.1', 'Sender refused: that address does not belong to your account'),
  notYourFrom: (field: string) =>
    new SmtpReply(550, '5.7.1', `Message refused: the ${field} header must name an address of your account`),
  badHeaderAddress: (field: string, why: string) =>
    new SmtpReply(550, '5.7.1', `Message refused: the ${field} header is not usable (${why})`),
  sendingLimit: (what: string) =>
    new SmtpReply(451, '4.7.1', `Sending limit reached: at most ${what} from this account; try again later`),
  sendingSuspended: () =>
    new SmtpReply(550, '5.7.1', 'Sending suspended for this account; contact your administrator'),
} as const;

const LIMIT_WORDS: Record<LimitName, string> = {
  messages_per_hour: 'messages per hour',
  messages_per_day: 'messages per day',
  new_recipients_per_hour: 'new recipients per hour',
  new_recipients_per_day: 'new recipients per day',
};

/** The abuse guard's refusal as an SMTP reply (RFC 3463 §3.8: 4.7.1 / 5.7.1), or null for 'ok'. */
export function guardRefusal(d: GuardDecision): SmtpReply | null {
  switch (d.kind) {
    case 'ok':
      return null;
    case 'suspended':
      return SUBMISSION_REPLIES.sendingSuspended();
    case 'limited':
      return SUBMISSION_REPLIES.sendingLimit(`${d.max} ${LIMIT_WORDS[d.limit]}`);
  }
}

export function createSubmissionServers(deps: SubmissionDeps): SubmissionServers {
  installSmtpServerPatches();
  const cfg = deps.config.submission;
  const gate = connectionGate(cfg);
  const accounts = new Map<string, Account>(); // session id -> authenticated account
  const fail = failWith(deps.logger, 'submission');

  const make = (secure: boolean): SMTPServer => {
    const server = new SMTPServer({
      ...baseServerOptions(deps.config.hostname, deps.certificates, cfg),
      banner: 'ESMTP submission ready',
      secure,
      needsUpgrade: secure,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: false,
      allowInsecureAuth: false,
      hideAuthBeforeTls: true,
      authRequiredMessage: '5.7.0 Authentication required',
      maxAllowedUnauthenticatedCommands: 10,

      onConnect: gate.admit,

      onClose(session) {
        gate.release(session);
        accounts.delete(session.id);
      },

      onAuth(auth, session, cb) {
        deps.login
          .login({
            username: auth.username ?? '',
            password: auth.password ?? '',
            protocol: 'smtp',
            address: session.remoteAddress,
            client: session.hostNameAppearsAs ?? '',
          })
          .then(
            (result) => {
              if (!result.ok) return cb(SUBMISSION_REPLIES.authFailed());
              accounts.set(session.id, result.account);
              return cb(null, { user: result.account.id });
            },
            (e) => fail(session, e, cb as Callback),
          );
      },

      onMailFrom(address: SMTPServerAddress, session, cb) {
        checkSender(deps, accounts.get(session.id), address).then(
          () => cb(),
          (e) => fail(session, e, cb),
        );
      },

      onRcptTo(address: SMTPServerAddress, session, cb) {
        checkRecipient(deps, session, address).then(
          () => cb(),
          (e) => fail(session, e, cb),
        );
      },

      onData(stream, session, cb) {
        const account = accounts.get(session.id);
        if (account === undefined) {
          stream.resume();
          return cb(SUBMISSION_REPLIES.authFailed());
        }
        handleSubmissionData(deps, stream, session, account).then(
          (reply) => cb(null, reply),
          (e) => fail(session, e, cb),
        );
      },
    } as ConstructorParameters<typeof SMTPServer>[0] & { hideAuthBeforeTls: boolean });
    server.on('error', (err) =>
      deps.logger.warn({ err: { message: err.message } }, 'submission: connection error'),
    );
    return server;
  };

  const servers = { tls: make(true), starttls: cfg.starttls_port > 0 ? make(false) : null };
  deps.certificates.on('reload', () => {
    const next = deps.certificates.current();
    for (const s of [servers.tls, servers.starttls])
      s?.updateSecureContext({ key: next.keyPem, cert: next.certPem });
  });
  return servers;
}

async function checkSender(
  deps: SubmissionDeps,
  account: Account | undefined,
  from: SMTPServerAddress,
): Promise<void> {
  if (account === undefined) throw SUBMISSION_REPLIES.authFailed();
  if (from.address === '') throw SUBMISSION_REPLIES.nullSender();
  const parsed = parseAddress(from.address, { utf8: mailFromHasUtf8(from) });
  if (!parsed.ok) throw REPLIES.badSenderSyntax(parsed.reason);
  const current = await deps.store.getAccount(account.id);
  if (current === null || current.disabled) throw SUBMISSION_REPLIES.authFailed();
  if (!(await ownsAddress(deps.store, current, parsed.value))) throw SUBMISSION_REPLIES.notYourSender();
  const refusal = deps.guard ? guardRefusal(await deps.guard.beforeMail(current)) : null;
  if (refusal !== null) throw refusal;
}

async function checkRecipient(
  deps: SubmissionDeps,
  session: SMTPServerSession,
  rcpt: SMTPServerAddress,
): Promise<void> {
  const cfg = deps.config.submission;
  if (session.envelope.rcptTo.length >= cfg.max_recipients)
    throw REPLIES.tooManyRecipients(cfg.max_recipients);
  const parsed = parseAddress(rcpt.address, { utf8: utf8Of(session) });
  if (!parsed.ok) throw REPLIES.badRecipientSyntax(parsed.reason);
  const resolution = await resolveRecipient(deps.store, parsed.value);
  if (resolution.kind === 'unknown-user') throw REPLIES.unknownUser();
  if (resolution.kind === 'disabled') throw REPLIES.disabledUser();
}
