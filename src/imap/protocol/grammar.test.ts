import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { date, dateTime } from './datetime.ts';
import { ImapBad } from './errors.ts';
import { flag, flagList } from './flags.ts';
import { imapLimits } from './limits.ts';
import { decodeModifiedUtf7, encodeModifiedUtf7, mailbox } from './mailbox.ts';
import { partial, section, sectionBinary } from './section.ts';
import { inSequenceSet, sequenceSet } from './sequence.ts';
import { cursor } from './test-helpers.ts';
import type { Cursor } from './tokens.ts';

function whole<T>(raw: string, f: (c: Cursor) => T, utf8 = false): T {
  const c = cursor(raw, utf8);
  const v = f(c);
  c.expectEnd();
  return v;
}
function bad(raw: string, f: (c: Cursor) => unknown, utf8 = false): void {
  assert.throws(() => whole(raw, f, utf8), ImapBad, raw);
}

describe('IMAP mailbox names', () => {
  it('normalises INBOX case-insensitively', () => {
    assert.equal(whole('inbox', mailbox), 'INBOX');
    assert.equal(whole('"InBoX"', mailbox), 'INBOX');
    assert.equal(whole('INBOX.sub', mailbox), 'INBOX.sub');
  });

  it('decodes modified UTF-7 and round-trips', () => {
    assert.equal(whole('&ZeVnLIqe-', mailbox), '日本語');
    assert.equal(whole('Entw&APw-rfe', mailbox), 'Entwürfe');
    assert.equal(whole('a&-b', mailbox), 'a&b');
    assert.equal(decodeModifiedUtf7('&2D3eAA-'), '😀');
    for (const s of ['Entwürfe', 'a&b', '日本語/x', '😀'])
      assert.equal(decodeModifiedUtf7(encodeModifiedUtf7(s)), s);
  });

  it('rejects malformed modified UTF-7', () => {
    for (const s of [
      '&AGE',
      '&Jjo!',
      '&AGE-',
      '&ZeVnLIqe',
      '&Ze=-',
      '&2D0-',
      '&3gA-',
      '&AP-',
      '"a\\\\b&"',
      '&AOk-&AOk-',
    ]) {
      bad(s, mailbox);
    }
    bad('"Entwürfe"', mailbox); // raw 8-bit needs UTF8=ACCEPT
  });

  it('takes UTF-8 names as they are in UTF-8 mode', () => {
    assert.equal(whole('"Entwürfe"', mailbox, true), 'Entwürfe');
    assert.equal(whole('&AGE', mailbox, true), '&AGE');
  });

  it('parses traversal-looking names as plain names (policy belongs to the mailbox layer)', () => {
    assert.equal(whole('../x', mailbox), '../x');
    assert.equal(whole('"a/../../b"', mailbox), 'a/../../b');
    bad('""', mailbox);
  });
});

describe('IMAP sequence sets', () => {
  it('parses ranges, * and $', () => {
    assert.deepEqual(whole('1:3,5,*', sequenceSet), {
      kind: 'ranges',
      ranges: [
        { from: 1, to: 3 },
        { from: 5, to: 5 },
        { from: '*', to: '*' },
      ],
    });
    assert.deepEqual(whole('7:2', sequenceSet), { kind: 'ranges', ranges: [{ from: 2, to: 7 }] });
    assert.deepEqual(whole('4:*', sequenceSet), { kind: 'ranges', ranges: [{ from: 4, to: '*' }] });
    assert.deepEqual(whole('$', sequenceSet), { kind: 'searchres' });
  });

  it('rejects 0, empty parts, overflow and bad shapes', () => {
    for (const s of [
      '0',
      '1:0',
      '',
      '1,',
      ',1',
      '1::2',
      '1:2:3',
      '4294967296',
      '$,1',
      '1,$',
      '**',
      '-1',
      '1:',
    ]) {
      bad(s, sequenceSet);
    }
  });

  it('keeps 1:4294967295 as one range (O(1)) and bounds the number of ranges', () => {
    const set = whole('1:4294967295', sequenceSet);
    assert.ok(set.kind === 'ranges');
    assert.equal(set.ranges.length, 1);
    assert.equal(inSequenceSet(set.ranges, 4294967295, 10), true);
    assert.equal(inSequenceSet([{ from: 3, to: '*' }], 2, 10), false);
    assert.equal(inSequenceSet([{ from: 30, to: '*' }], 20, 10), true, '30:* with max 10 means 10:30');
    const limited = cursor(
      Array.from({ length: 11 }, (_, i) => i + 1).join(','),
      false,
      imapLimits(1000, { maxSequenceRanges: 10 }),
    );
    assert.throws(() => sequenceSet(limited), /too long/);
  });
});

describe('IMAP dates', () => {
  it('parses date-time with zone', () => {
    const d = whole('"17-Jul-1996 02:44:25 -0700"', dateTime);
    assert.equal(new Date(d.time).toISOString(), '1996-07-17T09:44:25.000Z');
    assert.equal(d.zoneMinutes, -420);
    assert.equal(whole('" 1-jan-2024 00:00:00 +0000"', dateTime).time, Date.UTC(2024, 0, 1));
  });

  it('rejects invalid date-time', () => {
    for (const s of [
      '"31-Feb-2024 00:00:00 +0000"',
      '"1-Jan-2024 00:00:00 +0000"',
      '"01-Foo-2024 00:00:00 +0000"',
      '"01-Jan-2024 24:00:00 +0000"',
      '"01-Jan-2024 00:60:00 +0000"',
      '"01-Jan-2024 00:00:00 0000"',
      '"01-Jan-2024 00:00:00 +0000',
      '01-Jan-2024',
    ]) {
      bad(s, dateTime);
    }
  });

  it('parses SEARCH dates, quoted or not', () => {
    assert.equal(whole('1-Feb-1994', date), Date.UTC(1994, 1, 1));
    assert.equal(whole('"29-feb-2024"', date), Date.UTC(2024, 1, 29));
    bad('29-Feb-2023', date);
    bad('"1-Feb-1994', date);
  });
});

describe('IMAP FETCH sections', () => {
  it('parses section specs into a typed structure', () => {
    assert.deepEqual(whole('[]', section), { part: [], text: undefined });
    assert.deepEqual(whole('[HEADER]', section), { part: [], text: { kind: 'header' } });
    assert.deepEqual(whole('[1.2.HEADER.FIELDS (From To)]', section), {
      part: [1, 2],
      text: { kind: 'header.fields', not: false, fields: ['from', 'to'] },
    });
    assert.deepEqual(whole('[header.fields.not ("X-A" {4}\r\nX-Bb)]', section), {
      part: [],
      text: { kind: 'header.fields', not: true, fields: ['x-a', 'x-bb'] },
    });
    assert.deepEqual(whole('[3.MIME]', section), { part: [3], text: { kind: 'mime' } });
    assert.deepEqual(whole('[2.1.TEXT]', section), { part: [2, 1], text: { kind: 'text' } });
    assert.deepEqual(whole('[1.2]', sectionBinary), [1, 2]);
    assert.deepEqual(whole('<0.100>', partial), { offset: 0, length: 100 });
  });

  it('rejects malformed sections', () => {
    for (const s of [
      '[MIME]',
      '[0]',
      '[1.]',
      '[1..2]',
      '[HEADER.FIELDS ()]',
      '[HEADER.FIELDS]',
      '[FOO]',
      '[1',
      '1]',
      '[TEXT ]',
    ]) {
      bad(s, section);
    }
    bad('<0.0>', partial);
    bad('<1>', partial);
    bad('[0]', sectionBinary);
    const deep = `[${Array(40).fill('1').join('.')}]`;
    bad(deep, section);
  });
});

describe('IMAP flags', () => {
  it('parses system flags canonically and keywords as given', () => {
    assert.equal(whole('\\seen', flag), '\\Seen');
    assert.equal(whole('\\DRAFT', flag), '\\Draft');
    assert.equal(whole('$Forwarded', flag), '$Forwarded');
    assert.equal(whole('\\X-Ext', flag), '\\X-Ext');
    assert.deepEqual(whole('(\\Answered $Junk)', flagList), ['\\Answered', '$Junk']);
    assert.deepEqual(whole('()', flagList), []);
  });

  it('rejects malformed flags', () => {
    const either = (c: Cursor) => (c.peek() === '(' ? flagList(c) : flag(c));
    for (const s of ['\\', '\\*', '*', '"x"', 'a]', '(\\Seen', '((\\Seen))']) bad(s, either);
  });
});
