// Regression tests for date parsing found by the imap-encode fuzz target
// (fuzz/targets/imap-encode.ts): formatDateTime → APPEND date-time must read back
// the same instant for every year 0000-9999. Date.UTC maps years 0-99 to 1900-1999,
// so "01-Jan-0050" used to parse as 1950.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDateTime } from './response.ts';
import { parsed } from './test-helpers.ts';

const year50 = new Date(0).setUTCFullYear(50, 0, 1);

describe('IMAP dates: years below 100', () => {
  it('APPEND date-time "01-Jan-0050 00:00:00 +0000" is the year 50, not 1950', () => {
    const c = parsed('a APPEND INBOX "01-Jan-0050 00:00:00 +0000" {1+}\r\nx');
    assert.ok(c.name === 'APPEND');
    assert.equal(c.messages[0]?.date?.time, year50);
  });

  it('a formatted year-99 date-time with a zone reads back to the same instant', () => {
    // The fuzzer's shrunk counterexample: 0100-01-01T21:50:59.999Z is 31-Dec-0099 in
    // the zone 1311 minutes west of UTC (-2151).
    const ms = -59_011_380_540_001;
    const wire = formatDateTime(ms, -1311);
    assert.match(wire, /-0099 /);
    const c = parsed(`a APPEND INBOX ${wire} {1+}\r\nx`);
    assert.ok(c.name === 'APPEND');
    assert.deepEqual(c.messages[0]?.date, { time: Math.floor(ms / 1000) * 1000, zoneMinutes: -1311 });
  });

  it('SEARCH SINCE 1-Jan-0050 is the year 50', () => {
    const c = parsed('a SEARCH SINCE 1-Jan-0050');
    assert.match(JSON.stringify(c), new RegExp(String(year50)));
  });

  it('a day that does not exist is still refused', () => {
    assert.throws(() => parsed('a SEARCH SINCE 29-Feb-0100'), /should|Invalid day|parse/i);
  });
});
