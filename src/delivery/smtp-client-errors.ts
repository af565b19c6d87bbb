// Errors of the outbound SMTP client. One class, SmtpClientError, with a `kind` the
// queue can act on without parsing text:
//   connect   TCP connection failed (refused, unreachable, connect timeout)
//   timeout   a reply did not come within its RFC 5321 §4.5.3.2 time, or a write stalled
//   closed    the next hop closed the connection when a reply was due
//   protocol  the next hop broke the protocol (malformed or oversized reply, an
//             unexpected code, bytes injected after the STARTTLS 220)
//   reply     the next hop refused the session (greeting, EHLO/HELO, RSET) with `reply`
//   tls       STARTTLS could not be established or verified (see `tls`)
//   usage     the caller used the connection wrongly (send on a closed connection)
// `temporary` says whether the same delivery may be tried again later (anything but a
// 5xx reply or a usage error). Messages name hosts and codes, never message content.

import type { SmtpReply } from './smtp-client-reply.ts';

export type SmtpClientErrorKind = 'connect' | 'timeout' | 'closed' | 'protocol' | 'reply' | 'tls' | 'usage';

export type SmtpPhase =
  | 'connect'
  | 'greeting'
  | 'ehlo'
  | 'helo'
  | 'starttls'
  | 'tls-handshake'
  | 'tls-verify'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'data-block'
  | 'data-final'
  | 'rset'
  | 'quit';

export interface TlsFailure {
  /** not-offered: required TLS but no STARTTLS; refused: STARTTLS got a non-220 reply. */
  readonly reason: 'not-offered' | 'refused' | 'handshake' | 'verify';
  /**
   * True in opportunistic mode: the caller may retry this host in cleartext on a new
   * connection (RFC 7435 §4.2 / RFC 3207 §4.1). False when TLS was required.
   */
  readonly cleartextRetryAllowed: boolean;
  readonly detail: string;
  /** For 'verify': the verify callback's own `result` (VerifyResult.result), if it gave one. */
  readonly verifyResult?: string;
}

export class SmtpClientError extends Error {
  readonly kind: SmtpClientErrorKind;
  readonly phase: SmtpPhase;
  readonly temporary: boolean;
  readonly reply: SmtpReply | null;
  readonly tls: TlsFailure | null;

  constructor(
    kind: SmtpClientErrorKind,
    phase: SmtpPhase,
    message: string,
    extra: { reply?: SmtpReply; tls?: TlsFailure; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'SmtpClientError';
    this.kind = kind;
    this.phase = phase;
    this.reply = extra.reply ?? null;
    this.tls = extra.tls ?? null;
    this.temporary = kind === 'usage' ? false : this.reply === null || this.reply.code < 500;
  }
}
