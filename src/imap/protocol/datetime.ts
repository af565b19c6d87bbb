// Dates: RFC 9051 §9 `date-time` (APPEND internal date) and `date` (SEARCH).
// Invariants: fields are range-checked (day within its month, 00-23 hours,
// 00-59 minutes and seconds, zone -1259..+1400-ish checked as hhmm); the result
// is an instant in UTC milliseconds plus the sender's zone offset in minutes.

import { ImapBad } from './errors.ts';
import type { Cursor } from './tokens.ts';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
const DATE_TIME =
  /^"( [1-9]|[0-3][0-9])-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})"/;
// date-text = date-day "-" date-month "-" date-year, optionally quoted
const DATE = /^("?)([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})\1/;

export interface ImapDateTime {
  /** UTC milliseconds since the epoch. */
  readonly time: number;
  /** The zone the client gave, minutes east of UTC. */
  readonly zoneMinutes: number;
}

function ymd(day: number, month: string, year: number): number {
  const m = MONTHS.indexOf(month.toUpperCase());
  if (m < 0) throw new ImapBad('Invalid month');
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear takes the year as given.
  const t = new Date(0).setUTCFullYear(year, m, day);
  if (day < 1 || new Date(t).getUTCDate() !== day) throw new ImapBad('Invalid day of month');
  return t;
}

export function dateTime(c: Cursor): ImapDateTime {
  const m =
    DATE_TIME.exec(c.restOfSegment()) ?? c.bad('Expected a date-time like "17-Jul-1996 02:44:25 -0700"');
  const [, d, mon, y, hh, mm, ss, sign, zh, zm] = m.map((v) => v ?? '');
  const [h, min, s, zoneH, zoneM] = [hh, mm, ss, zh, zm].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  if (h > 23 || min > 59 || s > 60 || zoneH > 23 || zoneM > 59) c.bad('Invalid time in date-time');
  const zoneMinutes = (sign === '-' ? -1 : 1) * (zoneH * 60 + zoneM);
  const base = ymd(Number(d!.trim()), mon!, Number(y));
  c.skip(m[0].length);
  return { time: base + ((h * 60 + min) * 60 + Math.min(s, 59)) * 1000 - zoneMinutes * 60_000, zoneMinutes };
}

/** SEARCH date: a UTC midnight in milliseconds. */
export function date(c: Cursor): number {
  const m = DATE.exec(c.restOfSegment()) ?? c.bad('Expected a date like 1-Feb-1994');
  const t = ymd(Number(m[2]), m[3]!, Number(m[4]));
  c.skip(m[0].length);
  return t;
}
