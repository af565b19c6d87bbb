import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderThreads, type ThreadItem, threadByOrderedSubject, threadByReferences } from './thread.ts';

interface Spec {
  readonly subject?: string;
  readonly id?: string | null;
  readonly refs?: readonly string[];
  readonly inReplyTo?: string;
  readonly date?: number;
}

/** Messages 1..n in mailbox order; Message-ID <n@x> unless given; dates ascending unless given. */
function items(specs: Readonly<Record<number, Spec>>): ThreadItem[] {
  return Object.entries(specs).map(([n, s], i) => ({
    id: Number(n),
    seq: i + 1,
    date: s.date ?? (i + 1) * 1000,
    subject: s.subject ?? `subject ${n}`,
    messageId: s.id === undefined ? `<${n}@x>` : s.id,
    inReplyTo: s.inReplyTo ?? null,
    references: (s.refs ?? []).map((r) => `<${r}@x>`),
  }));
}

const refs = (specs: Readonly<Record<number, Spec>>) => renderThreads(threadByReferences(items(specs)));

describe('THREAD=REFERENCES (RFC 5256 §2.2, §4)', () => {
  it('builds the structure of the RFC 5256 §4 example', () => {
    const t = 'Thread';
    const got = refs({
      2: { subject: 'Other' },
      3: { subject: t },
      6: { subject: `Re: ${t}`, refs: ['3'] },
      4: { subject: `Re: ${t}`, refs: ['3', '6'] },
      23: { subject: `Re: ${t}`, refs: ['3', '6', '4'] },
      44: { subject: `Re: ${t}`, refs: ['3', '6'] },
      7: { subject: `Re: ${t}`, refs: ['3', '6', '44'] },
      96: { subject: `Re: ${t}`, refs: ['3', '6', '44', '7'] },
    });
    assert.equal(got, '(2)(3 6 (4 23)(44 7 96))');
  });

  it('uses In-Reply-To when there is no References field', () => {
    assert.equal(
      refs({ 1: {}, 2: { inReplyTo: '<1@x>' }, 3: { inReplyTo: '<2@x> (comment) <9@x>' } }),
      '(1 2 3)',
    );
  });

  it('references are more authoritative than an earlier guess from another message', () => {
    // 3 makes 2 (not seen yet) a child of 1; 2 itself says its parent is 4, and takes 3 along.
    assert.equal(refs({ 1: {}, 4: {}, 3: { refs: ['1', '2'] }, 2: { refs: ['4'] } }), '(1)(4 2 3)');
  });

  it('keeps a dummy for siblings whose parent is missing, and sorts them by date', () => {
    assert.equal(
      refs({ 1: { refs: ['gone'], date: 5000 }, 2: { refs: ['gone'], date: 1000 }, 3: {} }),
      '((2)(1))(3)',
    );
  });

  it('drops a dummy with one child, and dummies below the root', () => {
    assert.equal(refs({ 1: { refs: ['gone'] } }), '(1)');
    assert.equal(refs({ 1: {}, 2: { refs: ['1', 'gone'] }, 3: { refs: ['1', 'gone'] } }), '(1 (2)(3))');
  });

  it('groups by base subject: a reply joins the original, equal non-replies get a dummy', () => {
    assert.equal(refs({ 1: { subject: 'Hello' }, 2: { subject: 'Re: hello' } }), '(1 2)');
    assert.equal(
      refs({ 1: { subject: 'Hello' }, 2: { subject: 'hello' }, 3: { subject: 'Re: Hello' } }),
      '((1)(2)(3))',
    );
    assert.equal(refs({ 1: { subject: 'Re: Hi' }, 2: { subject: 'Re: Hi' } }), '((1)(2))');
    // Empty subjects are never grouped.
    assert.equal(refs({ 1: { subject: '' }, 2: { subject: 'Re:' } }), '(1)(2)');
  });

  it('merges a dummy thread with a same-subject message under the dummy', () => {
    const got = refs({
      1: { subject: 'Re: Plans', refs: ['gone'] },
      2: { subject: 'Re: Plans', refs: ['gone'] },
      3: { subject: 'Plans' },
    });
    assert.equal(got, '((1)(2)(3))');
  });

  it('orders threads and siblings by sent date, then by mailbox order', () => {
    assert.equal(refs({ 1: { date: 3000 }, 2: { date: 1000 }, 3: { date: 1000 } }), '(2)(3)(1)');
    assert.equal(
      refs({ 1: { date: 1 }, 2: { refs: ['1'], date: 9 }, 3: { refs: ['1'], date: 5 } }),
      '(1 (3)(2))',
    );
  });

  it('survives loops, self-references, duplicates and messages without Message-ID', () => {
    // 1 becomes a child of 2; 2 citing 1 would close a loop, so that link is not made.
    assert.equal(refs({ 1: { refs: ['2'] }, 2: { refs: ['1'] } }), '(2 1)');
    assert.equal(refs({ 1: { refs: ['1'] } }), '(1)');
    assert.equal(refs({ 1: { id: '<same@x>' }, 2: { id: '<same@x>' } }), '(1)(2)');
    assert.equal(refs({ 1: { id: null }, 2: { id: null, refs: ['1'] } }), '(1)(2)');
  });

  it('handles a 20,000-message reply chain without recursion', () => {
    const specs: Record<number, Spec> = {};
    for (let n = 1; n <= 20_000; n++)
      specs[n] = n === 1 ? { subject: 'Chain' } : { subject: 'Re: Chain', inReplyTo: `<${n - 1}@x>` };
    const got = refs(specs);
    assert.ok(got.startsWith('(1 2 3 4 '));
    assert.ok(got.endsWith(' 19999 20000)'));
  });

  it('renders nothing for no messages', () => {
    assert.equal(renderThreads(threadByReferences([])), '');
  });
});

describe('THREAD=ORDEREDSUBJECT (RFC 5256 §3)', () => {
  it('groups by base subject, the first message the parent, threads by date of their first message', () => {
    const got = renderThreads(
      threadByOrderedSubject(
        items({
          1: { subject: 'b', date: 5000 },
          2: { subject: 'Re: A', date: 2000 },
          3: { subject: 'a', date: 3000 },
          4: { subject: 'Fwd: a', date: 1000 },
          5: { subject: 'c', date: 4000 },
          6: { subject: 'Re: c', date: 6000 },
        }),
      ),
    );
    assert.equal(got, '(4 (2)(3))(5 6)(1)');
  });
});
