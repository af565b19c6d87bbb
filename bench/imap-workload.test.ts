// Tests for the IMAP benchmark's workload pieces: the mix's weights, UID sets, percentiles
// and the generated messages (sizes, line endings, distinct Message-IDs).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchMessage, SUBJECT_WORDS } from './imap-messages.ts';
import { MIX, percentile, uidSet } from './imap-workload.ts';

describe('MIX', () => {
  it('has the documented weights and expunges as often as it appends', () => {
    const count = (op: string) => MIX.filter((o) => o === op).length;
    assert.equal(MIX.length, 20);
    assert.deepEqual(
      [count('select'), count('fetch_flags'), count('fetch_body'), count('store')],
      [1, 4, 7, 4],
    );
    assert.equal(count('search_unseen') + count('search_subject'), 2);
    assert.equal(count('append'), count('expunge'));
  });
});

describe('uidSet', () => {
  it('compresses runs and sorts', () => {
    assert.equal(uidSet([9, 1, 2, 3, 5, 12, 13, 14]), '1:3,5,9,12:14');
    assert.equal(uidSet([4]), '4');
  });
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(s, 50), 50);
    assert.equal(percentile(s, 99), 99);
    assert.equal(percentile([], 50), 0);
  });
});

describe('benchMessage', () => {
  it('is deterministic, 1.5–22 KB, CRLF-only, with distinct Message-IDs and known subject words', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const m = benchMessage(i);
      assert.deepEqual(m, benchMessage(i));
      assert.ok(m.length >= 1500 && m.length <= 22_000, `message ${i}: ${m.length} bytes`);
      const text = m.toString('latin1');
      assert.ok(!/[^\r]\n|\r[^\n]/.test(text), `message ${i}: bare CR or LF`);
      ids.add(/^Message-ID: (.*)$/m.exec(text)?.[1] ?? '');
      const subject = /^Subject: (.*)$/m.exec(text)?.[1] ?? '';
      assert.ok(
        SUBJECT_WORDS.some((w) => subject.includes(w)),
        subject,
      );
    }
    assert.equal(ids.size, 500);
    assert.notDeepEqual(benchMessage(1, 'append'), benchMessage(1, 'seed'));
  });
});
