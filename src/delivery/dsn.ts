// Delivery status notifications (RFC 3464) for mail the queue could not deliver
// (Action: failed) or is still retrying (Action: delayed), sent to the envelope
// sender. Report type multipart/report (RFC 6522) with three parts: a text for
// people, message/delivery-status for software, and the original header section
// (text/rfc822-headers; the body is not returned: it may be large, and a sender
// has their copy).
//
// Invariants:
// - A notice is sent from the null reverse-path (RFC 5321 §4.5.5), so a notice that
//   cannot be delivered never causes another one; mail from the null sender gets none.
// - Auto-Submitted: auto-replied (RFC 3834 §5) so that vacation responders stay quiet.
// - Addresses that are not ASCII are reported as utf-8 address types (RFC 6533 §3).
// - Remote text is reported as the remote server said it, with control characters
//   removed and each line limited, inside the Diagnostic-Code field (RFC 3464 §2.3.6).

import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../smtp/trace-headers.ts';
import type { QueueStatus } from './queue.ts';

export interface DsnRecipient {
  readonly address: string;
  readonly status: QueueStatus;
}

export interface DsnInput {
  readonly action: 'failed' | 'delayed';
  readonly hostname: string;
  readonly sender: string;
  readonly recipients: readonly DsnRecipient[];
  readonly arrivalDate: Date;
  readonly now: Date;
  /** For 'delayed': when the queue gives up. */
  readonly retryUntil?: Date;
  /** The original message; only its header section is returned. */
  readonly original: Buffer;
}

const MAX_HEADERS = 64 * 1024;

export function buildDsn(d: DsnInput): Buffer {
  const boundary = `sealpost-dsn-${randomBytes(12).toString('hex')}`;
  const utf8 = !isAscii(d.sender) || d.recipients.some((r) => !isAscii(r.address));
  const subject =
    d.action === 'failed' ? 'Undelivered mail returned to sender' : 'Delayed mail (still being retried)';
  const header = [
    `From: Mail Delivery System <MAILER-DAEMON@${d.hostname}>`,
    `To: <${d.sender}>`,
    `Subject: ${subject}`,
    `Date: ${rfc5322Date(d.now)}`,
    `Message-ID: <${randomBytes(16).toString('base64url')}@${d.hostname}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
  ];
  const parts = [
    part('text/plain; charset=utf-8', humanText(d), '8bit'),
    part(
      utf8 ? 'message/global-delivery-status' : 'message/delivery-status',
      deliveryStatus(d, utf8),
      utf8 ? '8bit' : '7bit',
    ),
    part(utf8 ? 'message/global-headers' : 'text/rfc822-headers', headerSection(d.original), null),
  ];
  const body = `${parts.map((p) => `--${boundary}\r\n${p}`).join('\r\n')}\r\n--${boundary}--\r\n`;
  return Buffer.from(`${header.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

function part(type: string, text: string, encoding: string | null): string {
  const cte = encoding === null ? '' : `Content-Transfer-Encoding: ${encoding}\r\n`;
  return `Content-Type: ${type}\r\n${cte}\r\n${text.endsWith('\r\n') ? text : `${text}\r\n`}`;
}

function humanText(d: DsnInput): string {
  const lines =
    d.action === 'failed'
      ? [
          `This is the mail system at ${d.hostname}.`,
          '',
          'Your message could not be delivered to one or more recipients. It has been',
          'given up on; the reasons are below. Nothing more will be tried.',
        ]
      : [
          `This is the mail system at ${d.hostname}.`,
          '',
          'Your message has not been delivered yet to the recipients below. Nothing is',
          'needed from you: delivery will be tried again',
          d.retryUntil ? `until ${rfc5322Date(d.retryUntil)}.` : 'for a while.',
        ];
  lines.push('');
  for (const r of d.recipients) {
    lines.push(`<${r.address}>: ${describe(r.status)}`);
  }
  return lines.map(clean).join('\r\n');
}

function describe(s: QueueStatus): string {
  const who = s.source === 'smtp' && s.remoteHost !== null ? `host ${s.remoteHost} said: ` : '';
  return `${who}${s.code} ${s.enhanced} ${s.text}`;
}

function deliveryStatus(d: DsnInput, utf8: boolean): string {
  const addressType = utf8 ? 'utf-8' : 'rfc822';
  const perMessage = [`Reporting-MTA: dns; ${d.hostname}`, `Arrival-Date: ${rfc5322Date(d.arrivalDate)}`];
  const blocks = d.recipients.map((r) => {
    const lines = [
      `Final-Recipient: ${addressType}; ${clean(r.address)}`,
      `Action: ${d.action}`,
      `Status: ${statusCode(r.status, d.action)}`,
    ];
    if (r.status.remoteHost !== null) lines.push(`Remote-MTA: dns; ${clean(r.status.remoteHost)}`);
    if (r.status.source === 'smtp')
      lines.push(`Diagnostic-Code: smtp; ${clean(`${r.status.code} ${r.status.enhanced} ${r.status.text}`)}`);
    lines.push(`Last-Attempt-Date: ${rfc5322Date(d.now)}`);
    if (d.action === 'delayed' && d.retryUntil) lines.push(`Will-Retry-Until: ${rfc5322Date(d.retryUntil)}`);
    return lines.join('\r\n');
  });
  return `${[perMessage.join('\r\n'), ...blocks].join('\r\n\r\n')}\r\n`;
}

/** RFC 3464 §2.3.4: a failed recipient has a 5.x.x status, a delayed one 4.x.x. */
function statusCode(s: QueueStatus, action: 'failed' | 'delayed'): string {
  const valid = /^[245]\.\d{1,3}\.\d{1,3}$/.test(s.enhanced);
  const rest = valid ? s.enhanced.slice(1) : '.0.0';
  return `${action === 'failed' ? '5' : '4'}${rest}`;
}

/** The original header section, capped; never the body. */
function headerSection(original: Buffer): string {
  let end = original.indexOf('\r\n\r\n');
  end = end < 0 ? original.length : end + 2;
  return original.subarray(0, Math.min(end, MAX_HEADERS)).toString('utf8');
}

function clean(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 900);
}

/** Printable ASCII only: what an rfc822 address type and a 7-bit envelope can carry. */
export function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}
