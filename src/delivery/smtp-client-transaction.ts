// One mail transaction of the outbound SMTP client (RFC 5321 §3.3): MAIL, RCPT, DATA
// on an established session, with per-recipient outcomes.
//
// - PIPELINING (RFC 2920 §3.1) when offered: MAIL and every RCPT in one write, replies
//   matched in order; otherwise lockstep, one command per reply. DATA is never
//   pipelined: it goes only when a recipient was accepted.
// - No recipient accepted, MAIL refused or DATA refused: RSET (RFC 5321 §4.1.1.5), so
//   the session is clean for the next transaction; a refused RSET closes it.
// - 421 anywhere (RFC 5321 §3.8): the server is closing; pending recipients are
//   temporary and the connection is closed.
// - A reply that arrived while the session was idle is out of turn: a 421 is honoured,
//   anything else is a protocol error (replies would no longer match commands).
// - runTransaction never throws: a connection failure ends the transaction with
//   `error` set, the transport aborted, and every undecided recipient temporary.

import { encodeData, hasEightBit, wireSize } from './smtp-client-data.ts';
import {
  type Capabilities,
  type Envelope,
  type LocalRefusal,
  planTransaction,
} from './smtp-client-envelope.ts';
import { SmtpClientError, type SmtpPhase } from './smtp-client-errors.ts';
import type { SmtpReply } from './smtp-client-reply.ts';
import type { SmtpTransport } from './smtp-client-transport.ts';

export interface OutboundMessage extends Envelope {
  /** The message as stored (header and body); line ends are normalised and dots stuffed on the way out. */
  readonly data: Uint8Array;
}

export interface RecipientOutcome {
  readonly address: string;
  readonly code: number;
  readonly enhanced: string | null;
  readonly text: string;
  readonly kind: 'ok' | 'temporary' | 'permanent';
  /** Where the outcome was decided: locally, by the reply to MAIL/RCPT/DATA, or by a lost connection. */
  readonly phase: 'local' | 'mail' | 'rcpt' | 'data' | 'connection';
}

export interface SendResult {
  /** One outcome per recipient, in the order given. */
  readonly recipients: readonly RecipientOutcome[];
  /** True once the content went out: a failure after that may mean the next hop has it (a duplicate on retry). */
  readonly dataSent: boolean;
  /** The connection failure that ended this transaction, if any (the connection is then closed). */
  readonly error: SmtpClientError | null;
}

export interface TransactionTimeouts {
  readonly command: number;
  readonly mail: number;
  readonly rcpt: number;
  readonly dataInit: number;
  readonly dataBlock: number;
  readonly dataFinal: number;
}

export interface Session {
  readonly transport: SmtpTransport;
  readonly caps: Capabilities;
  readonly timeouts: TransactionTimeouts;
}

/** 421: the server is closing the transmission channel (RFC 5321 §3.8). */
export function isClosing(r: SmtpReply | undefined): boolean {
  return r?.code === 421;
}

export function replyError(phase: SmtpPhase, reply: SmtpReply): SmtpClientError {
  return new SmtpClientError('reply', phase, `${phase.toUpperCase()} refused: ${reply.code} ${reply.text}`, {
    reply,
  });
}

export async function runTransaction(session: Session, message: OutboundMessage): Promise<SendResult> {
  const tx = new Outcomes(message);
  try {
    await transact(session, tx, message);
    return tx.result(null);
  } catch (e) {
    const err = e instanceof SmtpClientError ? e : new SmtpClientError('protocol', 'mail', String(e));
    session.transport.abort(err);
    return tx.result(err);
  }
}

async function transact({ transport, caps, timeouts: t }: Session, tx: Outcomes, message: OutboundMessage) {
  const command = async (phase: SmtpPhase, line: string, timeoutMs: number) => {
    await transport.write(phase, `${line}\r\n`, t.dataBlock);
    return expectFinal(phase, timeoutMs);
  };
  const expectFinal = async (phase: SmtpPhase, timeoutMs: number) => {
    const r = await transport.read(phase, timeoutMs);
    if (r.code >= 300 && r.code < 400 && !(phase === 'data' && r.code === 354)) {
      throw new SmtpClientError('protocol', phase, `unexpected ${r.code} reply in phase ${phase}`);
    }
    return r;
  };
  const endWithoutData = async (last: SmtpReply, phase: SmtpPhase) => {
    if (isClosing(last)) throw replyError(phase, last);
    const r = await command('rset', 'RSET', t.command);
    if (r.code !== 250) throw replyError('rset', r);
  };

  if (transport.pendingBytes > 0) {
    const r = await transport.read('mail', t.mail);
    if (isClosing(r)) throw replyError('mail', r);
    throw new SmtpClientError('protocol', 'mail', `unsolicited ${r.code} reply while the session was idle`);
  }
  const eightBit = message.eightBit || hasEightBit(message.data);
  const plan = planTransaction({ envelope: message, size: wireSize(message.data), eightBit, caps });
  if (!plan.ok) return tx.refuseAll(plan.refusal);
  const sendable: number[] = [];
  plan.rcpts.forEach((r, i) => {
    if (typeof r === 'string') sendable.push(i);
    else tx.settle(i, r, 'local');
  });
  if (sendable.length === 0) return;
  const rcptLines = sendable.map((i) => plan.rcpts[i] as string);

  let mail: SmtpReply;
  const rcptReplies: SmtpReply[] = [];
  if (caps.pipelining) {
    const batch = [plan.mail, ...rcptLines].map((l) => `${l}\r\n`).join('');
    await transport.write('mail', batch, t.dataBlock);
    mail = await expectFinal('mail', t.mail);
    for (let k = 0; k < rcptLines.length; k++) {
      if (isClosing(mail) || isClosing(rcptReplies.at(-1))) break;
      rcptReplies.push(await expectFinal('rcpt', t.rcpt));
    }
  } else {
    mail = await command('mail', plan.mail, t.mail);
    for (const line of mail.code < 400 ? rcptLines : []) {
      const r = await command('rcpt', line, t.rcpt);
      rcptReplies.push(r);
      if (isClosing(r)) break;
    }
  }
  if (mail.code >= 400) {
    for (const i of sendable) tx.settle(i, mail, 'mail');
    return endWithoutData(mail, 'mail');
  }
  const accepted: number[] = [];
  sendable.forEach((i, k) => {
    const r = rcptReplies[k];
    if (r === undefined) return; // after a 421: a connection failure, settled by result()
    if (r.code < 400) accepted.push(i);
    else tx.settle(i, r, 'rcpt');
  });
  const closing = rcptReplies.find(isClosing);
  if (closing !== undefined) throw replyError('rcpt', closing);
  if (accepted.length === 0) return endWithoutData(mail, 'rcpt');

  const go = await command('data', 'DATA', t.dataInit);
  if (go.code !== 354) {
    if (go.code < 400) throw new SmtpClientError('protocol', 'data', `DATA answered ${go.code}, not 354`);
    for (const i of accepted) tx.settle(i, go, 'data');
    return endWithoutData(go, 'data');
  }
  tx.dataSent = true;
  for (const chunk of encodeData(message.data)) await transport.write('data-block', chunk, t.dataBlock);
  const final = await expectFinal('data-final', t.dataFinal);
  for (const i of accepted) tx.settle(i, final, 'data');
  if (isClosing(final)) throw replyError('data-final', final);
}

/** The outcomes of one transaction as they are decided. */
class Outcomes {
  readonly #addresses: readonly string[];
  readonly #outcomes: (RecipientOutcome | undefined)[];
  dataSent = false;

  constructor(message: OutboundMessage) {
    this.#addresses = message.rcptTo.map((r) => (typeof r === 'string' ? r : r.address));
    this.#outcomes = this.#addresses.map(() => undefined);
  }

  settle(i: number, r: SmtpReply | LocalRefusal, phase: RecipientOutcome['phase']): void {
    const kind = r.code < 400 ? 'ok' : r.code < 500 ? 'temporary' : 'permanent';
    this.#outcomes[i] = {
      address: this.#addresses[i]!,
      code: r.code,
      enhanced: r.enhanced,
      text: r.text,
      kind,
      phase,
    };
  }

  refuseAll(r: LocalRefusal): void {
    for (let i = 0; i < this.#addresses.length; i++) this.settle(i, r, 'local');
  }

  /** Recipients still open when the connection failed get a temporary outcome. */
  result(error: SmtpClientError | null): SendResult {
    const recipients = this.#outcomes.map((o, i): RecipientOutcome => {
      if (o !== undefined) return o;
      const reply = error?.reply;
      return {
        address: this.#addresses[i]!,
        code: reply?.code ?? 451,
        enhanced: reply?.enhanced ?? (error?.kind === 'timeout' ? '4.4.1' : '4.4.2'),
        text: error?.message ?? 'transaction not completed',
        kind: 'temporary',
        phase: 'connection',
      };
    });
    return { recipients, dataSent: this.dataSent, error };
  }
}
