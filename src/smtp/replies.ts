// SMTP replies as errors: a handler throws (or passes to its callback) an SmtpReply,
// and smtp-server writes `code enhanced text`. Enhanced status codes: RFC 3463, with
// the registry of RFC 5248. The text is for people; it never echoes internal errors.

import type { DataProblem } from './data-collector.ts';

export class SmtpReply extends Error {
  readonly responseCode: number;
  readonly enhanced: string;

  constructor(code: number, enhanced: string, text: string) {
    // smtp-server prints `${responseCode} ${message}`; the enhanced code leads the text.
    super(`${enhanced} ${text}`);
    this.name = 'SmtpReply';
    this.responseCode = code;
    this.enhanced = enhanced;
  }
}

export const REPLIES = {
  badSenderSyntax: (why: string) => new SmtpReply(553, '5.1.7', `Bad sender address syntax: ${why}`),
  badRecipientSyntax: (why: string) => new SmtpReply(553, '5.1.3', `Bad recipient address syntax: ${why}`),
  relayDenied: () =>
    new SmtpReply(550, '5.7.1', 'Relaying denied: this server accepts mail only for its own domains'),
  unknownUser: () => new SmtpReply(550, '5.1.1', 'No such user here'),
  disabledUser: () => new SmtpReply(550, '5.2.1', 'Mailbox disabled, not accepting messages'),
  tooManyRecipients: (max: number) =>
    new SmtpReply(452, '4.5.3', `Too many recipients (at most ${max} per message)`),
  quotaTemporary: () => new SmtpReply(452, '4.2.2', 'Mailbox full, try again later'),
  quotaPermanent: () => new SmtpReply(552, '5.2.2', 'Mailbox full'),
  tooBig: (max: number) => new SmtpReply(552, '5.3.4', `Message too big (the limit is ${max} bytes)`),
  bareNewline: () =>
    new SmtpReply(
      550,
      '5.6.0',
      'Message refused: bare CR or LF in data; lines must end with CRLF (RFC 5321 §2.3.8)',
    ),
  nulByte: () => new SmtpReply(550, '5.6.0', 'Message refused: NUL byte in data (RFC 5321 §4.5.2)'),
  lineTooLong: (max: number) =>
    new SmtpReply(550, '5.6.0', `Message refused: a line is longer than ${max} octets`),
  headerTooBig: () => new SmtpReply(552, '5.3.4', 'Message header too large'),
  noHeaderEnd: () => new SmtpReply(550, '5.6.0', 'Message refused: malformed header section'),
  fromCount: () =>
    new SmtpReply(
      550,
      '5.7.1',
      'Message refused: it must have exactly one From header with one address (RFC 5322 §3.6, RFC 7489 §6.6.1)',
    ),
  loop: () => new SmtpReply(554, '5.4.6', 'Too many Received headers: mail loop suspected'),
  dmarcReject: (domain: string) =>
    new SmtpReply(550, '5.7.1', `Message rejected: it fails the DMARC policy of ${domain}`),
  tooManyConnections: () =>
    new SmtpReply(421, '4.7.0', 'Too many connections from your address, try again later'),
  temporaryFailure: (incident: string) =>
    new SmtpReply(451, '4.3.0', `Temporary failure, try again later (incident ${incident})`),
} as const;

/** The refusal for a DATA section the collector found unusable. */
export function dataProblemReply(problem: DataProblem, maxBytes: number, maxLine: number): SmtpReply {
  switch (problem) {
    case 'bare-newline':
      return REPLIES.bareNewline();
    case 'nul':
      return REPLIES.nulByte();
    case 'line-too-long':
      return REPLIES.lineTooLong(maxLine);
    case 'too-big':
      return REPLIES.tooBig(maxBytes);
  }
}
