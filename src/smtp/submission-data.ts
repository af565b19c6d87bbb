// The DATA phase of submission (RFC 6409): wire checks, the From/Sender policy, the
// fixes a submission server may make (RFC 6409 §8: Date and Message-ID when missing),
// the abuse guard's limits, a Received field, DKIM signing, then the durable outbound
// queue (and the guard's count once it is there). Cheap refusals
// first; the 250 only after the queue has committed.

import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { SMTPServerSession } from 'smtp-server';
import { hasEightBit } from '../delivery/smtp-client-data.ts';
import { fieldValues, scanHeaderBlock } from '../mime/header-block.ts';
import type { Account } from '../store/types.ts';
import { collectData } from './data-collector.ts';
import { utf8Of } from './envelope.ts';
import { MAX_RECEIVED } from './mx-data.ts';
import { dataProblemReply, REPLIES } from './replies.ts';
import { ownsAddress, singleHeaderAddress } from './sender-policy.ts';
import { guardRefusal, SUBMISSION_REPLIES, type SubmissionDeps } from './submission-server.ts';
import { rfc5322Date } from './trace-headers.ts';

/** Sign a message for the domain of its From address; returns the signed message. */
export type Signer = (message: Buffer, fromDomain: string) => Promise<Buffer>;

export async function handleSubmissionData(
  deps: SubmissionDeps,
  stream: Readable,
  session: SMTPServerSession,
  account: Account,
): Promise<string> {
  const cfg = deps.config.submission;
  const collected = await collectData(stream, {
    maxBytes: cfg.max_message_size,
    maxLineLength: cfg.max_line_length,
  });
  if (collected.problem !== null)
    throw dataProblemReply(collected.problem, cfg.max_message_size, cfg.max_line_length);
  const data = collected.data;

  const header = scanHeaderBlock(data);
  if (header.size > 256 * 1024 || header.lines > 1000) throw REPLIES.headerTooBig();
  if (fieldValues(header, 'received').length > MAX_RECEIVED) throw REPLIES.loop();
  const froms = fieldValues(header, 'from');
  if (froms.length !== 1) throw REPLIES.fromCount();
  const from = singleHeaderAddress(froms[0]!);
  if (!from.ok) throw SUBMISSION_REPLIES.badHeaderAddress('From', from.reason);
  if (!(await ownsAddress(deps.store, account, from.address))) throw SUBMISSION_REPLIES.notYourFrom('From');
  const senders = fieldValues(header, 'sender');
  if (senders.length > 1) throw SUBMISSION_REPLIES.badHeaderAddress('Sender', 'it appears more than once');
  if (senders.length === 1) {
    const sender = singleHeaderAddress(senders[0]!);
    if (!sender.ok) throw SUBMISSION_REPLIES.badHeaderAddress('Sender', sender.reason);
    if (!(await ownsAddress(deps.store, account, sender.address)))
      throw SUBMISSION_REPLIES.notYourFrom('Sender');
  }

  const recipients = session.envelope.rcptTo.map((r) => r.address);
  const check = deps.guard ? await deps.guard.beforeQueue(account, recipients) : null;
  const refusal = check === null ? null : guardRefusal(check.decision);
  if (refusal !== null) throw refusal;

  const hostname = deps.config.hostname;
  const id = randomBytes(8).toString('hex');
  const added: string[] = [receivedField(deps, session, id)];
  if (fieldValues(header, 'date').length === 0) added.push(`Date: ${rfc5322Date(new Date())}\r\n`);
  if (fieldValues(header, 'message-id').length === 0)
    added.push(`Message-ID: <${randomBytes(16).toString('base64url')}@${hostname}>\r\n`);
  let message: Buffer = Buffer.concat([Buffer.from(added.join(''), 'utf8'), data]);
  if (deps.sign) message = await deps.sign(message, from.address.domain);

  const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const args = session.envelope.mailFrom ? session.envelope.mailFrom.args : false;
  const bodyParam = args ? args['BODY'] : undefined;
  const queueId = await deps.queue.submit({
    accountId: account.id,
    kind: 'mail',
    envelope: {
      mailFrom,
      utf8: utf8Of(session),
      eightBit:
        (typeof bodyParam === 'string' && bodyParam.toUpperCase() === '8BITMIME') || hasEightBit(message),
      envid: null,
      ret: null,
    },
    recipients,
    data: message,
  });
  deps.onQueued?.();
  if (check?.ticket) {
    // The message is durable: a failure to count it must not turn the 250 into an error.
    await deps.guard
      ?.accepted(check.ticket)
      .catch((e: unknown) =>
        deps.logger.error(
          { err: e, session: session.id },
          'submission: abuse guard could not count a message',
        ),
      );
  }
  deps.logger.info(
    { session: session.id, queueId, size: message.length, recipients: session.envelope.rcptTo.length },
    'submission: message queued',
  );
  return `2.0.0 Ok: queued as ${queueId}`;
}

/**
 * RFC 5321 §4.4 trace field, "with ESMTPSA" (RFC 3848: authenticated, over TLS).
 * With `received_client_address` off (the default) nothing of the client appears:
 * not its address and not its HELO name, which clients often make from their address
 * or machine name; the From-domain is then "client.invalid" (RFC 2606 §2: a name that
 * says it is none). The account is never named (From says who sent it).
 */
function receivedField(deps: SubmissionDeps, session: SMTPServerSession, id: string): string {
  const proto = utf8Of(session) ? 'UTF8SMTPSA' : 'ESMTPSA';
  const from = deps.config.submission.received_client_address
    ? `${(session.hostNameAppearsAs ?? '').replace(/[^A-Za-z0-9.\-:[\]_]/g, '').slice(0, 255) || 'unknown'} ([${session.remoteAddress}])`
    : 'client.invalid';
  return `Received: from ${from}\r\n\tby ${deps.config.hostname} (Sealpost) with ${proto} id ${id};\r\n\t${rfc5322Date(new Date())}\r\n`;
}
