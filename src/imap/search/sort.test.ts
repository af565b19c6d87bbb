import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageSummary, SummaryAddress } from '../../mime/summary.ts';
import type { SortKey } from '../protocol/fetch-types.ts';
import type { ViewEntry } from '../selected.ts';
import { baseSubject, type SortItem, sortItem, sortItems, sortNeedsMeta } from './sort.ts';

describe('baseSubject (RFC 5256 §2.1)', () => {
  const cases: [string, string, boolean][] = [
    ['Hello world', 'Hello world', false],
    ['Re: Hello', 'Hello', true],
    ['RE: Fwd: re:Hello', 'Hello', true],
    ['Fw: Hello', 'Hello', true],
    ['FWD : Hello', 'Hello', true],
    ['Re[2]: Hello', 'Hello', true], // subj-refwd may carry a blob before the colon
    ['[PATCH] Hello', 'Hello', false],
    ['[list] Re: Hello', 'Hello', true],
    ['Re: [list] Re: [other] Hello', 'Hello', true],
    ['[PATCH]', '[PATCH]', false], // a blob is kept when nothing would remain
    ['Hello (fwd)', 'Hello', true],
    ['Hello (FWD) (fwd)  ', 'Hello', true],
    ['[Fwd: Hello]', 'Hello', true],
    ['Re: [Fwd: Re: Hello (fwd)]', 'Hello', true],
    ['[fwd: [list] Re: Hello]', 'Hello', true],
    ['  Hello \t  world  ', 'Hello world', false],
    ['Re:', '', true],
    ['', '', false],
    ['Reply: Hello', 'Reply: Hello', false],
    ['Refund: Hello', 'Refund: Hello', false],
    ['Hello [blob] world', 'Hello [blob] world', false],
  ];
  for (const [subject, base, reply] of cases) {
    it(JSON.stringify(subject), () => {
      assert.deepEqual(baseSubject(subject), { base, reply });
    });
  }
});

const addr = (address: string, name = ''): SummaryAddress => ({ name, address });

function summary(over: Partial<MessageSummary>): MessageSummary {
  return {
    subject: '',
    from: [],
    sender: [],
    replyTo: [],
    to: [],
    cc: [],
    date: null,
    messageId: null,
    inReplyTo: null,
    references: [],
    preview: '',
    hasAttachments: false,
    ...over,
  };
}

function item(uid: number, over: Partial<MessageSummary>, internalDate = uid * 1000, size = 100): SortItem {
  const e: ViewEntry = {
    uid,
    flags: [],
    modseq: 1,
    size,
    internalDate,
    messageId: `m${uid}`,
    threadId: `t${uid}`,
  };
  return sortItem(e, uid, summary(over));
}

const order = (items: readonly SortItem[], ...keys: (SortKey['key'] | `-${SortKey['key']}`)[]) =>
  sortItems(
    items,
    keys.map((k): SortKey => ({ key: k.replace('-', '') as SortKey['key'], reverse: k.startsWith('-') })),
  ).map((i) => i.uid);

describe('sortItems (RFC 5256 §3, RFC 5957)', () => {
  it('SUBJECT sorts by base subject, ASCII case-insensitively, ties in mailbox order', () => {
    const items = [
      item(1, { subject: 'Re: banana' }),
      item(2, { subject: 'apple' }),
      item(3, { subject: '[list] BANANA' }),
      item(4, { subject: 'Fwd: Apple' }),
      item(5, { subject: '' }),
    ];
    assert.deepEqual(order(items, 'SUBJECT'), [5, 2, 4, 1, 3]);
    assert.deepEqual(order(items, '-SUBJECT'), [1, 3, 2, 4, 5]);
  });

  it('FROM, TO and CC compare the mailbox (local part) of the first address', () => {
    const items = [
      item(1, { from: [addr('zed@a.example', 'Aaron')], to: [addr('b@x'), addr('a@x')] }),
      item(2, { from: [addr('Mike@z.example', 'Zoe')], to: [addr('a@y')] }),
      item(3, { from: [] }),
    ];
    assert.deepEqual(order(items, 'FROM'), [3, 2, 1]);
    assert.deepEqual(order(items, 'TO'), [3, 2, 1]);
    assert.deepEqual(order(items, 'CC'), [1, 2, 3]);
  });

  it('DISPLAYFROM uses the display name, else the address (RFC 5957)', () => {
    const items = [
      item(1, { from: [addr('zed@a.example', 'aaron')] }),
      item(2, { from: [addr('mike@z.example', 'Zoe')] }),
      item(3, { from: [addr('bob@b.example')] }),
    ];
    assert.deepEqual(order(items, 'DISPLAYFROM'), [1, 3, 2]);
    assert.deepEqual(order(items, '-DISPLAYFROM'), [2, 3, 1]);
  });

  it('DATE uses the Date: field and falls back to the internal date', () => {
    const items = [
      item(1, { date: 5000 }, 1000),
      item(2, { date: null }, 3000),
      item(3, { date: 1000 }, 9000),
    ];
    assert.deepEqual(order(items, 'DATE'), [3, 2, 1]);
    assert.deepEqual(order(items, 'ARRIVAL'), [1, 2, 3]);
  });

  it('REVERSE ARRIVAL is the exact reverse of ARRIVAL, even for equal internal dates', () => {
    const items = [item(1, {}, 7), item(2, {}, 7), item(3, {}, 5)];
    assert.deepEqual(order(items, 'ARRIVAL'), [3, 1, 2]);
    assert.deepEqual(order(items, '-ARRIVAL'), [2, 1, 3]);
  });

  it('several keys: later keys break ties of earlier ones; full ties keep mailbox order', () => {
    const items = [
      item(1, { subject: 'b' }, 1, 300),
      item(2, { subject: 'a' }, 2, 200),
      item(3, { subject: 'b' }, 3, 100),
      item(4, { subject: 'a' }, 4, 200),
    ];
    assert.deepEqual(order(items, 'SUBJECT', 'SIZE'), [2, 4, 3, 1]);
    assert.deepEqual(order(items, 'SUBJECT', '-SIZE'), [2, 4, 1, 3]);
    assert.deepEqual(order(items, '-SIZE'), [1, 2, 4, 3]);
  });

  it('sortNeedsMeta: only ARRIVAL and SIZE come from the view', () => {
    assert.equal(
      sortNeedsMeta([
        { key: 'ARRIVAL', reverse: true },
        { key: 'SIZE', reverse: false },
      ]),
      false,
    );
    assert.equal(
      sortNeedsMeta([
        { key: 'SIZE', reverse: false },
        { key: 'DATE', reverse: false },
      ]),
      true,
    );
  });
});
