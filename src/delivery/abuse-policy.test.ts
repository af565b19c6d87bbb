// The abuse guard's arithmetic: sliding windows over hourly buckets, the baseline of
// active hours, the order of the limits, the spike rule and the bounce burst.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../config/index.ts';
import type { SendingHour } from '../store/types.ts';
import {
  type AbuseConfig,
  baselineHours,
  baselineOf,
  HOUR_MS,
  judge,
  judgeBounces,
  windowCounts,
} from './abuse-policy.ts';

const T = 1_800_000_000_000 - (1_800_000_000_000 % HOUR_MS); // an hour boundary
const cfg: AbuseConfig = loadConfig({ file: null, env: {} }).abuse;

function h(hour: number, recipients: number, over: Partial<SendingHour> = {}): SendingHour {
  return { hour, messages: recipients, recipients, newRecipients: 0, bounces: 0, ...over };
}

/** `perHour` recipients in each of `count` hours, ending two hours before T. */
function history(count: number, perHour: number, over: Partial<SendingHour> = {}): SendingHour[] {
  return Array.from({ length: count }, (_, i) => h(T - (2 + i) * HOUR_MS, perHour, over)).reverse();
}

describe('abuse policy', () => {
  it('the defaults are the documented ones', () => {
    assert.deepEqual(
      [cfg.messages_per_hour, cfg.messages_per_day, cfg.new_recipients_per_hour, cfg.new_recipients_per_day],
      [200, 1000, 100, 500],
    );
    assert.deepEqual(
      [cfg.spike_factor, cfg.spike_min_recipients, cfg.bounce_min, cfg.bounce_percent],
      [10, 50, 20, 30],
    );
  });

  it('a window slides: the oldest bucket counts by the share still inside it', () => {
    const hours = [h(T - HOUR_MS, 40), h(T, 10)];
    assert.equal(
      windowCounts(hours, T, 1).recipients,
      10 + 40,
      'at the turn of the hour the previous hour is all in',
    );
    assert.equal(windowCounts(hours, T + HOUR_MS / 4, 1).recipients, 10 + 30);
    assert.equal(windowCounts(hours, T + HOUR_MS - 1, 1).recipients > 10, true);
    assert.equal(windowCounts(hours, T + HOUR_MS, 1).recipients, 10, 'an hour later only the newer bucket');
    const day = [h(T - 24 * HOUR_MS, 8), h(T - 23 * HOUR_MS, 5), h(T, 1)];
    assert.equal(windowCounts(day, T + HOUR_MS / 2, 24).recipients, 1 + 5 + 4);
    assert.equal(windowCounts(day, T + HOUR_MS / 2, 1).recipients, 1);
  });

  it('the baseline is the mean of active hours over baseline_days, the last hour left out', () => {
    const hours = [
      h(T - 8 * 24 * HOUR_MS, 500),
      h(T - 50 * HOUR_MS, 2),
      h(T - 3 * HOUR_MS, 4),
      h(T - HOUR_MS, 900),
      h(T, 900),
    ];
    assert.equal(baselineOf(hours, T + 10, 7), 3, 'too old and too recent hours are not in it');
    assert.equal(baselineOf([], T, 7), 0);
    assert.equal(
      baselineOf([h(T - 5 * HOUR_MS, 0, { bounces: 4 })], T, 7),
      0,
      'an hour with no recipients is not active',
    );
  });

  it('the hours that ended in a suspension never form a baseline', () => {
    const hours = [
      h(T - 30 * HOUR_MS, 2),
      h(T - 11 * HOUR_MS, 60),
      h(T - 10 * HOUR_MS, 80),
      h(T - 5 * HOUR_MS, 4),
    ];
    const suspendedAt = T - 10 * HOUR_MS + 20 * 60_000;
    assert.deepEqual(
      baselineHours(hours, suspendedAt).map((x) => x.recipients),
      [2, 4],
    );
    assert.equal(baselineOf(baselineHours(hours, suspendedAt), T, 7), 3);
    assert.equal(baselineHours(hours, null).length, 4);
  });

  it('a new account may send spike_min_recipients in an hour; one more suspends', () => {
    const hours = [h(T, 49)];
    assert.deepEqual(judge(cfg, hours, T + 10, { recipients: 1, newRecipients: 1, spike: true }), {
      kind: 'ok',
    });
    const v = judge(cfg, [h(T, 50)], T + 10, { recipients: 1, newRecipients: 1, spike: true });
    assert.equal(v.kind, 'spike');
    assert.deepEqual(v.kind === 'spike' && [v.lastHour, v.baseline, v.threshold], [51, 0, 50]);
  });

  it('far above its own baseline suspends; a busy account is judged against its own usual volume', () => {
    const quiet = history(40, 3); // baseline 3: threshold max(50, 30) = 50
    assert.equal(
      judge(cfg, [...quiet, h(T, 50)], T + 5, { recipients: 1, newRecipients: 0, spike: true }).kind,
      'spike',
    );
    const busy = history(40, 12); // baseline 12: threshold 120
    assert.equal(
      judge(cfg, [...busy, h(T, 100)], T + 5, { recipients: 1, newRecipients: 0, spike: true }).kind,
      'ok',
    );
    assert.equal(
      judge(cfg, [...busy, h(T, 120)], T + 5, { recipients: 1, newRecipients: 0, spike: true }).kind,
      'spike',
    );
    assert.equal(
      judge(cfg, [...busy, h(T, 120)], T + 5, { recipients: 1, newRecipients: 0, spike: false }).kind,
      'ok',
      'MAIL FROM judges limits only',
    );
  });

  it('hard limits come first and name the limit passed', () => {
    const busy = history(40, 100, { messages: 1 }); // a high baseline: no spike in these cases
    const at = (over: Partial<SendingHour>) => [...busy, h(T, 0, over)];
    const one = { recipients: 1, newRecipients: 1, spike: true };
    assert.deepEqual(judge(cfg, at({ messages: 199 }), T + 1, one), { kind: 'ok' });
    assert.deepEqual(judge(cfg, at({ messages: 200 }), T + 1, one), {
      kind: 'limit',
      limit: 'messages_per_hour',
      max: 200,
    });
    assert.deepEqual(judge(cfg, at({ newRecipients: 99 }), T + 1, { ...one, newRecipients: 2 }), {
      kind: 'limit',
      limit: 'new_recipients_per_hour',
      max: 100,
    });
    assert.deepEqual(
      judge(cfg, at({ newRecipients: 99 }), T + 1, { ...one, newRecipients: 0 }),
      { kind: 'ok' },
      'known recipients are not new',
    );
    const day = Array.from({ length: 10 }, (_, i) => h(T - (i + 1) * HOUR_MS, 0, { messages: 100 }));
    assert.deepEqual(judge(cfg, day, T + 1, { ...one, spike: false }), {
      kind: 'limit',
      limit: 'messages_per_day',
      max: 1000,
    });
    const newDay = Array.from({ length: 5 }, (_, i) => h(T - (i + 2) * HOUR_MS, 0, { newRecipients: 100 }));
    assert.deepEqual(judge(cfg, newDay, T + 1, one), {
      kind: 'limit',
      limit: 'new_recipients_per_day',
      max: 500,
    });
  });

  it('a bounce burst needs bounce_min in the hour and over bounce_percent of the day', () => {
    const sent = h(T - 3 * HOUR_MS, 50);
    assert.equal(judgeBounces(cfg, [sent, h(T, 0, { bounces: 19 })], T + 1).burst, false, 'under bounce_min');
    const burst = judgeBounces(cfg, [sent, h(T, 0, { bounces: 20 })], T + 1);
    assert.deepEqual([burst.burst, burst.lastHour, burst.ratio], [true, 20, 0.4]);
    const newsletter = h(T - 3 * HOUR_MS, 1000);
    assert.equal(
      judgeBounces(cfg, [newsletter, h(T, 0, { bounces: 25 })], T + 1).burst,
      false,
      '25 of 1000: an ordinary share of stale addresses',
    );
    assert.equal(judgeBounces(cfg, [h(T, 0, { bounces: 20 })], T + 1).burst, true, 'bounces of older mail');
  });
});
