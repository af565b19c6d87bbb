// What the client declared at MAIL FROM: SMTPUTF8 (RFC 6531 §3.4) and SIZE (RFC 1870).

import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';

function argsOf(address: SMTPServerAddress | false): Record<string, unknown> {
  return address ? (address.args as Record<string, unknown> | false) || {} : {};
}

/** SMTPUTF8 on this MAIL command (inside onMailFrom the envelope is not set yet). */
export function mailFromHasUtf8(address: SMTPServerAddress): boolean {
  return Boolean(argsOf(address)['SMTPUTF8']);
}

/** SMTPUTF8 on the transaction's MAIL command. */
export function utf8Of(session: SMTPServerSession): boolean {
  return Boolean(argsOf(session.envelope.mailFrom)['SMTPUTF8']);
}

/** The declared message size, or 0 when none (or nonsense) was given. */
export function declaredSize(session: SMTPServerSession): number {
  const size = Number(argsOf(session.envelope.mailFrom)['SIZE'] ?? 0);
  return Number.isSafeInteger(size) && size > 0 ? size : 0;
}
