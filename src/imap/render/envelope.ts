// ENVELOPE as IMAP wire text (RFC 9051 §7.5.2 and §9 `envelope`, `address`):
// ("date" "subject" (from) (sender) (reply-to) (to) (cc) (bcc) "in-reply-to" "message-id").
// Invariants: an address list is "(" 1*address ")" with no space between addresses,
// or NIL when empty; every field is an nstring (strings.ts).

import type { Envelope, EnvelopeAddress } from '../../mime/structure-types.ts';
import { nstring } from './strings.ts';

function address(a: EnvelopeAddress): string {
  return `(${nstring(a.name)} ${nstring(a.adl)} ${nstring(a.mailbox)} ${nstring(a.host)})`;
}

export function renderAddresses(list: readonly EnvelopeAddress[] | null): string {
  return list === null || list.length === 0 ? 'NIL' : `(${list.map(address).join('')})`;
}

export function renderEnvelope(e: Envelope): string {
  return `(${[
    nstring(e.date),
    nstring(e.subject),
    renderAddresses(e.from),
    renderAddresses(e.sender),
    renderAddresses(e.replyTo),
    renderAddresses(e.to),
    renderAddresses(e.cc),
    renderAddresses(e.bcc),
    nstring(e.inReplyTo),
    nstring(e.messageId),
  ].join(' ')})`;
}
