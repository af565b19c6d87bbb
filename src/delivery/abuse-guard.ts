// The abuse guard (issue 5 item 7): per-account sending limits, and suspension of an
// account whose sending spikes far above its own baseline or whose mail bounces in a
// burst. The submission role asks it before MAIL FROM is accepted and before a
// message is queued, and tells it once a message is queued; the delivery role asks it
// whether a sender is suspended (its queued mail is then held) and reports permanent
// failures. The arithmetic is in abuse-policy.ts; this module does the I/O.
//
// Invariants:
// - a hard limit refuses the message temporarily (the caller answers 451 4.7.1) and
//   changes nothing: the message is neither counted nor queued;
// - a suspension is taken by a compare-and-set in the store, so whoever wins it, and
//   only they, writes the audit entry (actor 'system' for the guard's own decisions,
//   action 'sending.suspend'), the owner's security event, and queues the notices to
//   the owner and the admin;
// - a standing suspension is honoured even with the guard disabled ([abuse] enabled =
//   false turns off counting and automatic suspension, not an admin's decision);
// - recipients are remembered only as keyed hashes: HMAC-SHA256 under a key derived
//   from master key version 1 (stable across rotations, like the audit key), over the
//   account id and the lower-cased address;
// - for two hours after an admin lifts a suspension the spike and bounce rules rest
//   (the last-hour window, which spans parts of two hourly buckets, would otherwise
//   hold the sending that caused it and suspend the account again at once); the hard
//   limits still apply;
// - counting happens after the queue has the message; concurrent sessions of one
//   account may overshoot a limit by the messages in flight (documented, accepted).

import type { AuditLog } from '../audit/log.ts';
import type { Config } from '../config/index.ts';
import { parseAddress } from '../core/address.ts';
import { deriveKey, hmacHex, type MasterKeyRing } from '../crypto/index.ts';
import type { Logger } from '../log/logger.ts';
import { resolveRecipient } from '../mail/recipients.ts';
import type { Account, Id, SendingHour, SendingSuspension, Store } from '../store/types.ts';
import { queueSuspensionNotices } from './abuse-notice.ts';
import {
  baselineHours,
  baselineOf,
  HOUR_MS,
  historyStart,
  judge,
  judgeBounces,
  type LimitName,
  spikeThreshold,
  type WindowCounts,
  windowCounts,
} from './abuse-policy.ts';
import type { OutboundQueue } from './queue.ts';

export const RECIPIENT_KEY_INFO = 'sealpost sending recipients v1';
const DAY_MS = 24 * 3_600_000;

export interface AbuseGuardDeps {
  readonly config: Config;
  readonly store: Store;
  readonly keys: MasterKeyRing;
  readonly queue: OutboundQueue;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Told after notices are queued (wakes the delivery role in this process). */
  readonly onQueued?: () => void;
}

export type GuardDecision =
  | { readonly kind: 'ok' }
  | { readonly kind: 'limited'; readonly limit: LimitName; readonly max: number }
  | { readonly kind: 'suspended' };

/** What accepted() needs once the message is queued. */
export interface SendTicket {
  readonly accountId: Id;
  readonly hashes: readonly string[];
  readonly at: number;
}

export interface SendingStatus {
  readonly account: string;
  readonly enabled: boolean;
  readonly lastHour: WindowCounts;
  readonly lastDay: WindowCounts;
  readonly baseline: number;
  readonly spikeThreshold: number;
  readonly limits: Readonly<Record<LimitName, number>>;
  readonly suspension: SendingSuspension | null;
  readonly suspended: boolean;
}

export class AbuseGuard {
  readonly #d: AbuseGuardDeps;
  readonly #now: () => number;
  readonly #key: Buffer;

  constructor(deps: AbuseGuardDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#key = deriveKey(deps.keys.get(1).key, RECIPIENT_KEY_INFO);
  }

  get #cfg() {
    return this.#d.config.abuse;
  }

  /** How long the delivery role holds a suspended sender's mail before looking again. */
  get holdMs(): number {
    return this.#cfg.hold_minutes * 60_000;
  }

  recipientHash(accountId: Id, address: string): string {
    return hmacHex(this.#key, `${accountId}\0${address.toLowerCase()}`);
  }

  async isSuspended(accountId: Id): Promise<boolean> {
    const s = await this.#d.store.getSendingSuspension(accountId);
    return s !== null && s.liftedAt === null;
  }

  /** Within two hours after a lift: spike and bounce rules rest (see the header). */
  #resting(s: SendingSuspension | null, now: number): boolean {
    return s !== null && s.liftedAt !== null && now < s.liftedAt + 2 * HOUR_MS;
  }

  async #hours(accountId: Id, now: number): Promise<SendingHour[]> {
    return this.#d.store.listSendingHours(accountId, historyStart(this.#cfg, now));
  }

  /** At MAIL FROM: refuse a suspended account, or one already at its message limit. */
  async beforeMail(account: Account): Promise<GuardDecision> {
    if (await this.isSuspended(account.id)) return { kind: 'suspended' };
    if (!this.#cfg.enabled) return { kind: 'ok' };
    const now = this.#now();
    const v = judge(this.#cfg, await this.#hours(account.id, now), now, {
      recipients: 0,
      newRecipients: 0,
      spike: false,
    });
    return v.kind === 'limit' ? { kind: 'limited', limit: v.limit, max: v.max } : { kind: 'ok' };
  }

  /**
   * Before queueing a message to `recipients`: a limit refuses it; a spike suspends the
   * account (notices and audit included) and refuses it. On 'ok' the ticket goes to
   * accepted() once the message is durable in the queue.
   */
  async beforeQueue(
    account: Account,
    recipients: readonly string[],
  ): Promise<{ decision: GuardDecision; ticket: SendTicket | null }> {
    const suspension = await this.#d.store.getSendingSuspension(account.id);
    if (suspension !== null && suspension.liftedAt === null)
      return { decision: { kind: 'suspended' }, ticket: null };
    if (!this.#cfg.enabled) return { decision: { kind: 'ok' }, ticket: null };
    const now = this.#now();
    const hashes = [...new Set(recipients.map((r) => this.recipientHash(account.id, r)))];
    const known = await this.#d.store.knownRecipients(account.id, hashes, this.#newSince(now));
    const hours = await this.#hours(account.id, now);
    const v = judge(
      this.#cfg,
      hours,
      now,
      {
        recipients: hashes.length,
        newRecipients: hashes.length - known.size,
        spike: !this.#resting(suspension, now),
      },
      baselineHours(hours, suspension?.suspendedAt ?? null),
    );
    if (v.kind === 'limit') {
      this.#d.logger.info({ account: account.id, limit: v.limit }, 'abuse guard: sending limit reached');
      return { decision: { kind: 'limited', limit: v.limit, max: v.max }, ticket: null };
    }
    if (v.kind === 'spike') {
      const detail = `${Math.round(v.lastHour)} recipients in the last hour; usual ${v.baseline.toFixed(1)} per active hour; suspension above ${Math.round(v.threshold)}`;
      await this.suspend(account, 'spike', detail, 'system');
      return { decision: { kind: 'suspended' }, ticket: null };
    }
    return { decision: { kind: 'ok' }, ticket: { accountId: account.id, hashes, at: now } };
  }

  /** Count a message the queue has accepted. */
  async accepted(ticket: SendTicket): Promise<void> {
    await this.#d.store.recordSending({
      accountId: ticket.accountId,
      at: ticket.at,
      recipientHashes: ticket.hashes,
      newSince: this.#newSince(ticket.at),
      forgetBefore: Math.min(this.#newSince(ticket.at), historyStart(this.#cfg, ticket.at)),
    });
  }

  /** The delivery role reports `count` permanent failures of the account's mail. */
  async bounced(accountId: Id, count: number): Promise<void> {
    if (count <= 0 || !this.#cfg.enabled) return;
    const now = this.#now();
    await this.#d.store.recordBounces(accountId, now, count);
    const v = judgeBounces(this.#cfg, await this.#hours(accountId, now), now);
    if (!v.burst || this.#resting(await this.#d.store.getSendingSuspension(accountId), now)) return;
    const account = await this.#d.store.getAccount(accountId);
    if (account === null) return;
    const detail = `${Math.round(v.lastHour)} permanent failures in the last hour, ${Math.round(v.ratio * 100)}% of the last day's recipients`;
    await this.suspend(account, 'bounces', detail, 'system');
  }

  /**
   * Suspend the account's sending (the guard: actor 'system'; an admin: their actor).
   * Returns false if a suspension already stood (nothing else is done then).
   */
  async suspend(account: Account, reason: string, detail: string | null, actor: string): Promise<boolean> {
    const at = this.#now();
    const won = await this.#d.store.suspendSending({ accountId: account.id, at, reason, detail, by: actor });
    if (!won) return false;
    this.#d.logger.warn({ account: account.id, reason }, 'abuse guard: sending suspended');
    await this.#d.audit.append({
      actor,
      action: 'sending.suspend',
      target: account.address,
      detail: { reason, ...(detail === null ? {} : { detail }) },
    });
    await this.#d.store.appendSecurityEvent({
      accountId: account.id,
      at,
      kind: 'sending-suspended',
      protocol: actor === 'system' ? 'smtp' : protocolOf(actor),
      address: null,
      client: null,
      success: false,
      factor: null,
      detail: `${reason}${detail === null ? '' : `: ${detail}`}`.slice(0, 300),
    });
    try {
      await queueSuspensionNotices(
        this.#d.queue,
        { hostname: this.#d.config.hostname, account: account.address, reason, detail, at, by: actor },
        await this.#adminAddress(account),
      );
      this.#d.onQueued?.();
    } catch (e) {
      this.#d.logger.error({ err: e, account: account.id }, 'abuse guard: notices could not be queued');
    }
    return true;
  }

  /** Lift a standing suspension (an admin's act; audited). False if none stood. */
  async resume(account: Account, actor: string): Promise<boolean> {
    const at = this.#now();
    if (!(await this.#d.store.liftSendingSuspension(account.id, at, actor))) return false;
    await this.#d.audit.append({ actor, action: 'sending.resume', target: account.address });
    await this.#d.store.appendSecurityEvent({
      accountId: account.id,
      at,
      kind: 'sending-resumed',
      protocol: protocolOf(actor),
      address: null,
      client: null,
      success: true,
      factor: null,
      detail: null,
    });
    return true;
  }

  async status(account: Account): Promise<SendingStatus> {
    const now = this.#now();
    const hours = await this.#hours(account.id, now);
    const cfg = this.#cfg;
    const suspension = await this.#d.store.getSendingSuspension(account.id);
    const baseline = baselineOf(
      baselineHours(hours, suspension?.suspendedAt ?? null),
      now,
      cfg.baseline_days,
    );
    return {
      account: account.address,
      enabled: cfg.enabled,
      lastHour: windowCounts(hours, now, 1),
      lastDay: windowCounts(hours, now, 24),
      baseline,
      spikeThreshold: spikeThreshold(cfg, baseline),
      limits: {
        messages_per_hour: cfg.messages_per_hour,
        messages_per_day: cfg.messages_per_day,
        new_recipients_per_hour: cfg.new_recipients_per_hour,
        new_recipients_per_day: cfg.new_recipients_per_day,
      },
      suspension,
      suspended: suspension !== null && suspension.liftedAt === null,
    };
  }

  #newSince(now: number): number {
    return now - this.#cfg.recipient_memory_days * DAY_MS;
  }

  /** abuse.admin_address, or postmaster@ the account's domain when that is deliverable here. */
  async #adminAddress(account: Account): Promise<string | null> {
    if (this.#cfg.admin_address !== '') return this.#cfg.admin_address;
    const domain = account.address.slice(account.address.lastIndexOf('@') + 1);
    const parsed = parseAddress(`postmaster@${domain}`, { utf8: true });
    if (!parsed.ok) return null;
    const r = await resolveRecipient(this.#d.store, parsed.value);
    if (r.kind === 'local') return parsed.value.address;
    this.#d.logger.warn(
      { domain },
      'abuse guard: no admin address (set abuse.admin_address or add postmaster@)',
    );
    return null;
  }
}

/** The security log's protocol for an admin actor ('cli:root' -> 'cli', 'admin:x' -> 'web'). */
function protocolOf(actor: string): string | null {
  if (actor.startsWith('cli:')) return 'cli';
  if (actor.startsWith('admin:')) return 'web';
  return null;
}
