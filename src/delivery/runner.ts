// The delivery role: takes due recipients from the outbound queue, delivers them
// (local domains straight to the mailbox, other domains through a RemoteTransport),
// and records each outcome: delivered, retried later with exponential back-off, or
// failed with a delivery status notification to the sender (RFC 3464).
//
// Invariants:
// - A recipient is worked on only under a lease in the store; a crashed runner's
//   leases lapse and its recipients are tried again (a restarting runner with the
//   same owner name drops its old leases at once). A recipient is marked delivered
//   in the same store write that follows the next hop's acceptance, so a crash can
//   at worst repeat one delivery, never lose one (RFC 5321 §6.1: the duplicate is
//   the accepted cost of reliability).
// - Outcomes, notices and the removal of finished messages are one transaction.
// - No notice for the null sender, and none for a notice (no bounce loops).
// - At most `concurrency` recipients are in flight, and at most
//   `per_destination_concurrency` connections' worth per destination domain.
// - A message older than `queue_lifetime_hours` is given up on (RFC 5321 §4.5.4.1).
// - Mail of a sender whose sending is suspended (the abuse guard) is held, not tried:
//   its recipients wait `guard.holdMs` without an attempt being counted, and lifting
//   the suspension makes them due at once. Permanent failures of an account's mail
//   are reported to the guard (a burst of bounces suspends the account).

import type { Config } from '../config/index.ts';
import { parseAddress } from '../core/address.ts';
import type { Logger } from '../log/logger.ts';
import type { AccountKeys } from '../mail/account-keys.ts';
import { type MessageContent, prependedHeaders } from '../mail/content.ts';
import { type DeliveryTarget, deliver } from '../mail/deliver.ts';
import { resolveRecipient } from '../mail/recipients.ts';
import type { Account, NewQueuedMessage, QueueOutcome, QueueRecipient, Store } from '../store/types.ts';
import type { AbuseGuard } from './abuse-guard.ts';
import { buildDsn, isAscii } from './dsn.ts';
import type { OpenedMessage, OpenedRecipient, OutboundQueue, QueueStatus } from './queue.ts';
import { KeyedSlots } from './slots.ts';

/** The result of one attempt for one recipient. */
export interface AttemptResult {
  readonly kind: 'delivered' | 'temporary' | 'permanent';
  readonly status: QueueStatus;
}

/** Hands a message to other domains' servers (delivery/remote.ts). */
export interface RemoteTransport {
  /** Let go of cached connections (the runner stops). */
  close?(): Promise<void>;
  /** Deliver to recipients of one domain; a result for every recipient given. */
  deliver(
    message: OpenedMessage,
    domain: string,
    recipients: readonly OpenedRecipient[],
  ): Promise<Map<number, AttemptResult>>;
}

export interface RunnerDeps {
  readonly config: Config;
  readonly store: Store;
  readonly queue: OutboundQueue;
  readonly accountKeys: AccountKeys;
  readonly analyse: (raw: Buffer) => Promise<MessageContent>;
  readonly logger: Logger;
  readonly remote: RemoteTransport | null;
  /** The lease owner name: stable for one node's delivery role. */
  readonly owner: string;
  readonly now?: () => number;
  /** Poll interval when nothing wakes the runner. */
  readonly pollMs?: number;
  /** The abuse guard: holds a suspended sender's mail and hears of bounces. */
  readonly guard?: Pick<AbuseGuard, 'isSuspended' | 'bounced' | 'holdMs'>;
}

const LEASE_MS = 15 * 60_000;
const HOUR = 3_600_000;

export class DeliveryRunner {
  readonly #d: RunnerDeps;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #stopped = true;
  #again = false;
  #inflight = 0;
  readonly #perDomain: KeyedSlots;
  readonly #work = new Set<Promise<void>>();

  constructor(deps: RunnerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#perDomain = new KeyedSlots(deps.config.delivery.per_destination_concurrency);
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#d.store.releaseQueueLeases(this.#d.owner);
    this.#schedule(0);
  }

  /** Look at the queue now (a message was just queued). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await Promise.allSettled([...this.#work]);
    await this.#d.remote?.close?.();
  }

  /** Run one pass and wait for every attempt it started (tests, `queue flush`). */
  async runOnce(): Promise<void> {
    await this.#pass();
    await Promise.allSettled([...this.#work]);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#pass().then(
        () => this.#schedule(this.#again ? 0 : (this.#d.pollMs ?? 1000)),
        (e: unknown) => {
          this.#d.logger.error({ err: e }, 'delivery: queue pass failed');
          this.#schedule(this.#d.pollMs ?? 1000);
        },
      );
    }, ms);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#again = false;
    try {
      const free = this.#d.config.delivery.concurrency - this.#inflight;
      if (free <= 0) return;
      const claimed = await this.#d.store.claimQueue(this.#d.owner, this.#now(), LEASE_MS, free);
      const byMessage = new Map<string, QueueRecipient[]>();
      for (const r of claimed) byMessage.set(r.messageId, [...(byMessage.get(r.messageId) ?? []), r]);
      for (const [id, rows] of byMessage) this.#track(this.#message(id, rows));
      if (claimed.length === free) this.#again = true;
    } finally {
      this.#running = false;
    }
  }

  #track(p: Promise<void>): void {
    const tracked = p.catch((e: unknown) => this.#d.logger.error({ err: e }, 'delivery: attempt failed'));
    this.#work.add(tracked);
    tracked.finally(() => {
      this.#work.delete(tracked);
      this.wake();
    });
  }

  async #message(id: string, rows: readonly QueueRecipient[]): Promise<void> {
    this.#inflight += rows.length;
    try {
      const stored = await this.#d.store.getQueuedMessage(id);
      if (stored === null) return;
      const guard = this.#d.guard;
      const sender = stored.kind === 'mail' ? stored.accountId : null;
      if (guard !== undefined && sender !== null && (await guard.isSuspended(sender))) {
        const held = await this.#d.store.holdQueued(this.#d.owner, id, this.#now() + guard.holdMs);
        this.#d.logger.info({ queueId: id, held }, 'delivery: sender suspended, mail held');
        return;
      }
      const message = this.#d.queue.open(stored);
      const wanted = new Set(rows.map((r) => r.idx));
      const recipients = message.recipients.filter((r) => wanted.has(r.idx) && r.row.state === 'queued');
      const results = await this.#attempt(message, recipients);
      await this.#finish(stored.keyVersion, message, recipients, results);
    } finally {
      this.#inflight -= rows.length;
    }
  }

  async #attempt(
    message: OpenedMessage,
    recipients: readonly OpenedRecipient[],
  ): Promise<Map<number, AttemptResult>> {
    const results = new Map<number, AttemptResult>();
    const local = new Map<number, readonly Account[]>();
    const remote = new Map<string, OpenedRecipient[]>();
    for (const r of recipients) {
      const parsed = parseAddress(r.address, { utf8: true });
      if (!parsed.ok) {
        results.set(r.idx, permanent('5.1.3', `Bad recipient address syntax: ${parsed.reason}`));
        continue;
      }
      const resolution = await resolveRecipient(this.#d.store, parsed.value);
      if (resolution.kind === 'local') local.set(r.idx, resolution.accounts);
      else if (resolution.kind === 'unknown-user')
        results.set(r.idx, permanent('5.1.1', 'No such user here', 550));
      else if (resolution.kind === 'disabled')
        results.set(r.idx, permanent('5.2.1', 'Mailbox disabled, not accepting messages', 550));
      else remote.set(r.domain, [...(remote.get(r.domain) ?? []), r]);
    }
    const jobs: Promise<void>[] = [];
    if (local.size > 0) jobs.push(this.#deliverLocal(message, local, results));
    for (const [domain, list] of remote) jobs.push(this.#deliverRemote(message, domain, list, results));
    await Promise.all(jobs);
    return results;
  }

  async #deliverLocal(
    message: OpenedMessage,
    local: ReadonlyMap<number, readonly Account[]>,
    results: Map<number, AttemptResult>,
  ): Promise<void> {
    try {
      const seen = new Set<string>();
      const targets: DeliveryTarget[] = [];
      for (const accounts of local.values()) {
        for (const account of accounts) {
          if (seen.has(account.id)) continue;
          seen.add(account.id);
          const mailbox = await this.#d.store.getMailbox(account.id, 'INBOX');
          if (mailbox === null) throw new Error(`account ${account.id} has no INBOX`);
          targets.push({ account, mailbox });
        }
      }
      const prefix = Buffer.from(
        `Return-Path: <${message.envelope.mailFrom.replace(/[\r\n<>]/g, '')}>\r\n`,
        'utf8',
      );
      const raw = Buffer.concat([prefix, message.data]);
      const content = prependedHeaders(await this.#d.analyse(message.data), prefix.length);
      await deliver(
        { store: this.#d.store, accountKeys: this.#d.accountKeys },
        { raw, content, targets, internalDate: this.#now() },
      );
      for (const idx of local.keys()) results.set(idx, delivered('2.0.0', 'Delivered to the mailbox'));
    } catch (e) {
      this.#d.logger.error({ err: e, queueId: message.id }, 'delivery: local delivery failed');
      for (const idx of local.keys())
        results.set(idx, temporary('4.3.0', 'Local delivery failed, will retry'));
    }
  }

  async #deliverRemote(
    message: OpenedMessage,
    domain: string,
    recipients: readonly OpenedRecipient[],
    results: Map<number, AttemptResult>,
  ): Promise<void> {
    const remote = this.#d.remote;
    if (remote === null) {
      for (const r of recipients)
        results.set(r.idx, temporary('4.4.0', 'Remote delivery is not enabled on this node'));
      return;
    }
    const release = await this.#perDomain.acquire(domain);
    try {
      const got = await remote.deliver(message, domain, recipients);
      for (const r of recipients)
        results.set(r.idx, got.get(r.idx) ?? temporary('4.4.0', 'No answer for this recipient'));
    } catch (e) {
      this.#d.logger.error({ err: e, queueId: message.id, domain }, 'delivery: remote attempt failed');
      for (const r of recipients)
        results.set(r.idx, temporary('4.4.0', 'Delivery attempt failed, will retry'));
    } finally {
      release();
    }
  }

  async #finish(
    keyVersion: number,
    message: OpenedMessage,
    recipients: readonly OpenedRecipient[],
    results: ReadonlyMap<number, AttemptResult>,
  ): Promise<void> {
    const cfg = this.#d.config.delivery;
    const now = this.#now();
    const expired = now - message.createdAt >= cfg.queue_lifetime_hours * HOUR;
    const delayDue = cfg.delay_warning_hours > 0 && now - message.createdAt >= cfg.delay_warning_hours * HOUR;
    const outcomes: QueueOutcome[] = [];
    const failed: { address: string; status: QueueStatus }[] = [];
    const delayed: { address: string; status: QueueStatus }[] = [];
    for (const r of recipients) {
      const result = results.get(r.idx) ?? temporary('4.4.0', 'Not attempted');
      let state: QueueOutcome['state'] = 'queued';
      let delayNotified = r.row.delayNotified;
      if (result.kind === 'delivered') state = 'delivered';
      else if (result.kind === 'permanent' || expired) {
        state = 'failed';
        failed.push({
          address: r.address,
          status:
            expired && result.kind === 'temporary'
              ? gaveUp(result.status, cfg.queue_lifetime_hours)
              : result.status,
        });
      } else if (delayDue && !delayNotified) {
        delayNotified = true;
        delayed.push({ address: r.address, status: result.status });
      }
      outcomes.push({
        messageId: message.id,
        idx: r.idx,
        state,
        at: now,
        nextAttemptAt: now + this.#backoff(r.row.attempts),
        sealedStatus: this.#d.queue.sealStatus({ id: message.id, keyVersion }, r.idx, result.status),
        delayNotified,
      });
      this.#d.logger.info(
        {
          queueId: message.id,
          rcpt: r.idx,
          domain: r.domain,
          state,
          code: result.status.code,
          enhanced: result.status.enhanced,
        },
        'delivery: attempt',
      );
    }
    const notices: NewQueuedMessage[] = [];
    const wantsNotice = message.kind === 'mail' && message.envelope.mailFrom !== '';
    if (wantsNotice && failed.length > 0) notices.push(this.#notice(message, 'failed', failed, now));
    if (wantsNotice && delayed.length > 0) notices.push(this.#notice(message, 'delayed', delayed, now));
    await this.#d.store.finishQueueAttempts(this.#d.owner, outcomes, notices);
    const bounces = recipients.filter((r) => results.get(r.idx)?.kind === 'permanent').length;
    if (bounces > 0 && message.kind === 'mail' && message.accountId !== null && this.#d.guard) {
      await this.#d.guard
        .bounced(message.accountId, bounces)
        .catch((e: unknown) =>
          this.#d.logger.error({ err: e, queueId: message.id }, 'delivery: abuse guard failed'),
        );
    }
  }

  #notice(
    message: OpenedMessage,
    action: 'failed' | 'delayed',
    recipients: readonly { address: string; status: QueueStatus }[],
    now: number,
  ): NewQueuedMessage {
    const cfg = this.#d.config.delivery;
    const data = buildDsn({
      action,
      hostname: this.#d.config.hostname,
      sender: message.envelope.mailFrom,
      recipients,
      arrivalDate: new Date(message.createdAt),
      now: new Date(now),
      retryUntil: new Date(message.createdAt + cfg.queue_lifetime_hours * HOUR),
      original: message.data,
    });
    return this.#d.queue.seal({
      accountId: null,
      kind: 'dsn',
      envelope: {
        mailFrom: '',
        utf8: !isAscii(message.envelope.mailFrom),
        eightBit: true,
        envid: null,
        ret: null,
      },
      recipients: [message.envelope.mailFrom],
      data,
    });
  }

  /** first_retry_seconds, doubled per attempt, at most max_retry_minutes. */
  #backoff(attemptsBefore: number): number {
    const cfg = this.#d.config.delivery;
    const first = cfg.first_retry_seconds * 1000;
    const max = cfg.max_retry_minutes * 60_000;
    return Math.min(max, first * 2 ** Math.min(attemptsBefore, 30));
  }
}

export function delivered(
  enhanced: string,
  text: string,
  code = 250,
  remoteHost: string | null = null,
): AttemptResult {
  return {
    kind: 'delivered',
    status: { code, enhanced, text, remoteHost, source: remoteHost === null ? 'local' : 'smtp' },
  };
}

export function temporary(
  enhanced: string,
  text: string,
  code = 451,
  remoteHost: string | null = null,
): AttemptResult {
  return {
    kind: 'temporary',
    status: { code, enhanced, text, remoteHost, source: remoteHost === null ? 'local' : 'smtp' },
  };
}

export function permanent(
  enhanced: string,
  text: string,
  code = 550,
  remoteHost: string | null = null,
): AttemptResult {
  return {
    kind: 'permanent',
    status: { code, enhanced, text, remoteHost, source: remoteHost === null ? 'local' : 'smtp' },
  };
}

function gaveUp(last: QueueStatus, hours: number): QueueStatus {
  const where = last.remoteHost === null ? '' : `${last.remoteHost}: `;
  const text = `Delivery time expired after ${hours} hours; the last attempt: ${where}${last.code} ${last.enhanced} ${last.text}`;
  return { ...last, source: 'local', code: 550, enhanced: '5.4.7', text: text.slice(0, 900) };
}
