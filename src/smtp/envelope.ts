// What the client declared at MAIL FROM: SMTPUTF8 (RFC 6531 §3.4) and SIZE (RFC 1870).

import type { SMTPServerSession } from 'smtp-server';

function mailFromArgs(session: SMTPServerSession): Record<string, unknown> {
  const mailFrom = session.envelope.mailFrom;
  return mailFrom ? (mailFrom.args as Record<string, unknown> | false) || {} : {};
}

export function utf8Of(session: SMTPServerSession): boolean {
  return Boolean(mailFromArgs(session)['SMTPUTF8']);
}

/** The declared message size, or 0 when none (or nonsense) was given. */
export function declaredSize(session: SMTPServerSession): number {
  const size = Number(mailFromArgs(session)['SIZE'] ?? 0);
  return Number.isSafeInteger(size) && size > 0 ? size : 0;
}
