// The abuse guard's notices (issue 5 item 7): a short plain-text message to the
// account owner and one to the admin when an account's sending is suspended. They go
// through the outbound queue like any mail, so the delivery role files the owner's
// copy in the INBOX (a local recipient) and sends the admin's wherever it lives.
//
// Invariants:
// - the reverse-path is null (RFC 5321 §4.5.5): a notice never causes a bounce, and
//   it has no sender account, so a suspension never holds its own notice;
// - Auto-Submitted: auto-generated (RFC 3834 §5): no auto-replies to it;
// - the text names the account, the reason and the counts, never a recipient of the
//   account's mail (the guard does not know them: it keeps only keyed hashes).

import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../smtp/trace-headers.ts';
import type { Id } from '../store/types.ts';
import type { OutboundQueue } from './queue.ts';

export interface SuspensionNotice {
  readonly hostname: string;
  /** The suspended account's address. */
  readonly account: string;
  readonly reason: string;
  readonly detail: string | null;
  readonly at: number;
  /** Who suspended it ('system' or an admin actor). */
  readonly by: string;
}

const REASONS: Record<string, string> = {
  spike: 'it sent far more mail in the last hour than it usually does',
  bounces: 'a large share of its recent mail was refused by the receiving servers',
  admin: 'an administrator suspended it',
};

function reasonText(reason: string): string {
  return REASONS[reason] ?? reason;
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** One notice as an RFC 5322 message (CRLF line ends, UTF-8 body). */
export function buildSuspensionNotice(n: SuspensionNotice, to: string, forAdmin: boolean): Buffer {
  const lines = forAdmin
    ? [
        `Sending from the account ${n.account} was suspended at ${new Date(n.at).toISOString()},`,
        `because ${reasonText(n.reason)}.`,
        ...(n.detail === null ? [] : ['', `Details: ${n.detail}`]),
        '',
        'Its new mail is refused (550 5.7.1) and mail it had already queued is held.',
        'Check the account (a stolen password is the usual cause), then lift the suspension:',
        '',
        `    sealpost sending resume ${n.account}`,
        '',
        `See the counters with: sealpost sending status ${n.account}`,
      ]
    : [
        `Sending from your account ${n.account} was suspended at ${new Date(n.at).toISOString()},`,
        `because ${reasonText(n.reason)}.`,
        ...(n.detail === null ? [] : ['', `Details: ${n.detail}`]),
        '',
        'You can still read and receive mail. Mail you send is refused, and mail you had',
        'already sent that was still waiting to go out is held, not lost.',
        '',
        'If you did not send this mail, someone may know your password: change it and',
        'review your app passwords and sessions. Then ask your administrator to lift the',
        'suspension.',
      ];
  const header = [
    `From: Sealpost <postmaster@${n.hostname}>`,
    `To: <${to}>`,
    `Subject: ${forAdmin ? `Sending suspended for ${n.account}` : 'Sending from your account is suspended'}`,
    `Date: ${rfc5322Date(new Date(n.at))}`,
    `Message-ID: <${randomBytes(16).toString('base64url')}@${n.hostname}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  return Buffer.from(`${header.join('\r\n')}\r\n\r\n${lines.join('\r\n')}\r\n`, 'utf8');
}

/** Queue the owner's notice and, when there is one, the admin's; returns the queue ids. */
export async function queueSuspensionNotices(
  queue: OutboundQueue,
  n: SuspensionNotice,
  admin: string | null,
): Promise<Id[]> {
  const send = (to: string, forAdmin: boolean) =>
    queue.submit({
      accountId: null,
      kind: 'mail',
      envelope: {
        mailFrom: '',
        utf8: !isAscii(to) || !isAscii(n.account),
        eightBit: true,
        envid: null,
        ret: null,
      },
      recipients: [to],
      data: buildSuspensionNotice(n, to, forAdmin),
    });
  const ids = [await send(n.account, false)];
  if (admin !== null && admin.toLowerCase() !== n.account.toLowerCase()) ids.push(await send(admin, true));
  return ids;
}
