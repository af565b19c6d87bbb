// The DATA phase of the MX: wire checks, header limits, sender policy, SPF/DKIM/
// DMARC/ARC verification, then durable delivery. Order matters: cheap refusals first,
// DNS-bound verification next, and the 250 only after the store has committed.
//
// RFC 5322 §3.6 (exactly one From), RFC 7489 §6.6.1 (refuse or fail DMARC on several
// From mailboxes), RFC 8601 §5 (remove Authentication-Results that claim our host),
// RFC 5321 §6.3 (loop detection by counting Received fields).

import type { Readable } from 'node:stream';
import type { SMTPServerSession } from 'smtp-server';
import { newId } from '../core/ids.ts';
import { prependedHeaders } from '../mail/content.ts';
import { type DeliveryTarget, deliver } from '../mail/deliver.ts';
import { countMailboxes, fieldValues, scanHeaderBlock } from '../mime/header-block.ts';
import type { Account } from '../store/types.ts';
import { stripForgedAuthResults } from './auth-results.ts';
import { collectData } from './data-collector.ts';
import { utf8Of } from './envelope.ts';
import type { MxDeps } from './mx-server.ts';
import { dataProblemReply, REPLIES } from './replies.ts';
import { traceHeaders } from './trace-headers.ts';

/** RFC 5321 §6.3 suggests a loop limit of 100 hops at most; Postfix uses 50. */
export const MAX_RECEIVED = 50;

export async function handleData(
  deps: MxDeps,
  stream: Readable,
  session: SMTPServerSession,
  accepted: ReadonlyMap<string, readonly Account[]>,
): Promise<string> {
  const cfg = deps.rt.config.mx;
  const collected = await collectData(stream, {
    maxBytes: cfg.max_message_size,
    maxLineLength: cfg.max_line_length,
  });
  if (collected.problem !== null)
    throw dataProblemReply(collected.problem, cfg.max_message_size, cfg.max_line_length);
  const data = collected.data;

  const header = scanHeaderBlock(data);
  if (header.size > cfg.max_header_size || header.lines > cfg.max_header_lines) throw REPLIES.headerTooBig();
  const froms = fieldValues(header, 'from');
  if (froms.length !== 1 || countMailboxes(froms[0]!) !== 1) throw REPLIES.fromCount();
  if (fieldValues(header, 'received').length > MAX_RECEIVED) throw REPLIES.loop();

  const message = stripForgedAuthResults(data, deps.rt.config.hostname);
  const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const helo = session.hostNameAppearsAs || '';
  const { verdict, content } = await deps.analyser.analyse({
    message,
    ip: session.remoteAddress,
    helo,
    mailFrom,
    hostname: deps.rt.config.hostname,
    verify: cfg.verify,
  });
  let junk = false;
  if (verdict !== null && verdict.dmarc.result === 'fail') {
    if (verdict.dmarc.policy === 'reject') {
      if (cfg.dmarc_reject === 'reject') throw REPLIES.dmarcReject(verdict.dmarc.domain ?? 'the sender');
      junk = cfg.dmarc_reject === 'quarantine';
    } else if (verdict.dmarc.policy === 'quarantine') {
      junk = true;
    }
  }
  const authHeader = verdict === null ? '' : (verdict.receivedSpfHeader ?? '') + verdict.header;

  const id = newId('msg').slice(4, 20);
  const rcpts = session.envelope.rcptTo.map((r) => r.address);
  const trace = traceHeaders({
    helo,
    clientHostname: session.clientHostname || null,
    clientAddress: session.remoteAddress,
    hostname: deps.rt.config.hostname,
    esmtp: session.openingCommand !== 'HELO',
    tls: Boolean(session.secure),
    utf8: utf8Of(session),
    id,
    recipient: rcpts.length === 1 ? rcpts[0]! : null,
    mailFrom,
    date: new Date(),
  });
  const prefix = Buffer.from(trace + authHeader, 'utf8');
  const raw = Buffer.concat([prefix, message]);
  const targets = await targetsOf(deps, rcpts, accepted, junk);
  await deliver(
    { store: deps.rt.store, accountKeys: deps.accountKeys },
    { raw, content: prependedHeaders(content, prefix.length), targets, internalDate: Date.now() },
  );
  deps.logger.info(
    { session: session.id, id, size: raw.length, recipients: targets.length, junk },
    'mx: message delivered',
  );
  return `2.0.0 Ok: delivered as ${id}`;
}

/** One copy per account, however many of its addresses or aliases were named. */
async function targetsOf(
  deps: MxDeps,
  rcpts: readonly string[],
  accepted: ReadonlyMap<string, readonly Account[]>,
  junk: boolean,
): Promise<DeliveryTarget[]> {
  const seen = new Set<string>();
  const targets: DeliveryTarget[] = [];
  for (const rcpt of rcpts) {
    for (const account of accepted.get(rcpt) ?? []) {
      if (seen.has(account.id)) continue;
      seen.add(account.id);
      const store = deps.rt.store;
      const mailbox =
        (junk ? await store.findMailboxBySpecialUse(account.id, '\\Junk') : null) ??
        (await store.getMailbox(account.id, 'INBOX'));
      if (mailbox === null) throw new Error(`account ${account.id} has no INBOX`);
      targets.push({ account, mailbox });
    }
  }
  return targets;
}
