// The abuse guard's arithmetic (issue 5 item 7): pure functions from an account's
// hourly sending counters (Store.listSendingHours) and the [abuse] configuration to
// a verdict. No I/O and no clock of its own: `now` is always given, so every rule is
// tested without waiting.
//
// Windows: "the last hour" and "the last day" slide with `now`. Counters are kept
// per clock hour, so a window of N hours sums the current bucket, the N-1 before it,
// and the part of the oldest bucket that still lies inside the window (weighted by
// that share: the usual sliding-window estimate). A burst cannot hide across the
// turn of an hour.
//
// Baseline: the mean recipients per *active* hour (an hour in which the account sent
// anything) over `baseline_days`, leaving out the hours inside the last-hour window.
// Quiet hours do not drag it towards zero, so a person who writes a few mails a day
// is not suspended for a normal busy hour; an account with no history has baseline 0
// and is judged against spike_min_recipients alone.

import type { Config } from '../config/index.ts';
import type { SendingHour } from '../store/types.ts';

export const HOUR_MS = 3_600_000;

export type AbuseConfig = Config['abuse'];

/** Which hard limit a message would pass. */
export type LimitName =
  | 'messages_per_hour'
  | 'messages_per_day'
  | 'new_recipients_per_hour'
  | 'new_recipients_per_day';

export interface WindowCounts {
  readonly messages: number;
  readonly recipients: number;
  readonly newRecipients: number;
  readonly bounces: number;
}

export type Verdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'limit'; readonly limit: LimitName; readonly max: number }
  | {
      readonly kind: 'spike';
      /** Recipients in the last hour, this message included. */
      readonly lastHour: number;
      readonly baseline: number;
      readonly threshold: number;
    };

export interface BounceVerdict {
  readonly burst: boolean;
  readonly lastHour: number;
  /** Bounces over recipients in the last day, 0..1 (or more: bounces of older mail). */
  readonly ratio: number;
}

function hourOf(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

/** Counts in the `spanHours` ending at `now` (sliding; see the header). */
export function windowCounts(hours: readonly SendingHour[], now: number, spanHours: number): WindowCounts {
  const current = hourOf(now);
  const oldestFull = current - (spanHours - 1) * HOUR_MS;
  const partial = current - spanHours * HOUR_MS;
  const share = 1 - (now - current) / HOUR_MS;
  let messages = 0;
  let recipients = 0;
  let newRecipients = 0;
  let bounces = 0;
  for (const h of hours) {
    let w = 0;
    if (h.hour >= oldestFull && h.hour <= current) w = 1;
    else if (h.hour === partial) w = share;
    if (w === 0) continue;
    messages += w * h.messages;
    recipients += w * h.recipients;
    newRecipients += w * h.newRecipients;
    bounces += w * h.bounces;
  }
  return { messages, recipients, newRecipients, bounces };
}

/** Mean recipients per active hour over `days`, leaving out the last-hour window. */
export function baselineOf(hours: readonly SendingHour[], now: number, days: number): number {
  const current = hourOf(now);
  const from = current - days * 24 * HOUR_MS;
  const before = current - HOUR_MS; // the current and the partial bucket belong to the last hour
  let sum = 0;
  let active = 0;
  for (const h of hours) {
    if (h.hour < from || h.hour >= before || h.recipients === 0) continue;
    sum += h.recipients;
    active++;
  }
  return active === 0 ? 0 : sum / active;
}

/**
 * The hours that may form a baseline: without the two buckets of the last-hour
 * window that ended at a suspension (`suspendedAt`), so the sending that caused a
 * suspension never raises the bar for the next one.
 */
export function baselineHours(hours: readonly SendingHour[], suspendedAt: number | null): SendingHour[] {
  if (suspendedAt === null) return [...hours];
  const last = hourOf(suspendedAt);
  return hours.filter((h) => h.hour !== last && h.hour !== last - HOUR_MS);
}

/** The recipients in one hour above which the account is suspended. */
export function spikeThreshold(cfg: AbuseConfig, baseline: number): number {
  return Math.max(cfg.spike_min_recipients, cfg.spike_factor * baseline);
}

/** How far back judge() needs the account's hours. */
export function historyStart(cfg: AbuseConfig, now: number): number {
  return hourOf(now) - Math.max(cfg.baseline_days * 24, 24) * HOUR_MS;
}

/**
 * Judge one more message of `recipients` recipients, `newRecipients` of them new:
 * a hard limit first (a temporary refusal: the message is not counted), then the
 * spike (suspension). With `spike: false` only the limits are judged (MAIL FROM).
 */
export function judge(
  cfg: AbuseConfig,
  hours: readonly SendingHour[],
  now: number,
  message: { readonly recipients: number; readonly newRecipients: number; readonly spike: boolean },
  baselineHours: readonly SendingHour[] = hours,
): Verdict {
  const hour = windowCounts(hours, now, 1);
  const day = windowCounts(hours, now, 24);
  const over = (count: number, add: number, max: number) => count + add > max + 1e-9;
  if (over(hour.messages, 1, cfg.messages_per_hour))
    return { kind: 'limit', limit: 'messages_per_hour', max: cfg.messages_per_hour };
  if (over(day.messages, 1, cfg.messages_per_day))
    return { kind: 'limit', limit: 'messages_per_day', max: cfg.messages_per_day };
  if (
    message.newRecipients > 0 &&
    over(hour.newRecipients, message.newRecipients, cfg.new_recipients_per_hour)
  )
    return { kind: 'limit', limit: 'new_recipients_per_hour', max: cfg.new_recipients_per_hour };
  if (message.newRecipients > 0 && over(day.newRecipients, message.newRecipients, cfg.new_recipients_per_day))
    return { kind: 'limit', limit: 'new_recipients_per_day', max: cfg.new_recipients_per_day };
  if (!message.spike) return { kind: 'ok' };
  const baseline = baselineOf(baselineHours, now, cfg.baseline_days);
  const threshold = spikeThreshold(cfg, baseline);
  const lastHour = hour.recipients + message.recipients;
  if (lastHour > threshold) return { kind: 'spike', lastHour, baseline, threshold };
  return { kind: 'ok' };
}

/** A burst of bounces: bounce_min in the last hour, over bounce_percent of the day's recipients. */
export function judgeBounces(cfg: AbuseConfig, hours: readonly SendingHour[], now: number): BounceVerdict {
  const hour = windowCounts(hours, now, 1);
  const day = windowCounts(hours, now, 24);
  const ratio = day.recipients > 0 ? day.bounces / day.recipients : hour.bounces > 0 ? 1 : 0;
  return {
    burst: hour.bounces + 1e-9 >= cfg.bounce_min && ratio * 100 > cfg.bounce_percent,
    lastHour: hour.bounces,
    ratio,
  };
}
