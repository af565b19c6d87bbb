import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageEntry } from '../store/types.ts';
import { Maildrop } from './maildrop.ts';

const entry = (uid: number, size: number, flags: string[] = []): MessageEntry => ({
  uid,
  modseq: 1,
  flags,
  size,
  internalDate: 0,
  messageId: `m${uid}`,
  threadId: `t${uid}`,
});

describe('pop3 maildrop snapshot', () => {
  const make = () =>
    new Maildrop({ id: 'mbx', uidValidity: 1700000000 }, [
      entry(9, 30),
      entry(3, 10, ['\\Seen']),
      entry(5, 20),
    ]);

  it('numbers messages 1..n in UID order and sums their sizes', () => {
    const d = make();
    assert.deepEqual(d.stat(), { count: 3, octets: 60 });
    assert.deepEqual(
      [...d.live()].map(([n, e]) => [n, e.uid]),
      [
        [1, 3],
        [2, 5],
        [3, 9],
      ],
    );
  });

  it('gives unique ids of uidValidity.uid, printable and short', () => {
    const d = make();
    const g = d.get(2);
    assert.ok(g.ok);
    assert.equal(d.uidl(g.entry), '1700000000.5');
    assert.match(d.uidl(g.entry), /^[\x21-\x7e]{1,70}$/);
  });

  it('refuses numbers out of range and deleted messages, keeps numbering, and RSET restores', () => {
    const d = make();
    assert.deepEqual(d.get(0), { ok: false, error: 'No such message' });
    assert.deepEqual(d.get(4), { ok: false, error: 'No such message' });
    const second = d.get(2);
    assert.ok(second.ok);
    d.delete(second.entry);
    assert.deepEqual(d.get(2), { ok: false, error: 'Message 2 already deleted' });
    assert.deepEqual(d.stat(), { count: 2, octets: 40 });
    assert.deepEqual(
      [...d.live()].map(([n]) => n),
      [1, 3],
    );
    assert.deepEqual(d.deletedUids(), [5]);
    d.reset();
    assert.deepEqual(d.deletedUids(), []);
    assert.deepEqual(d.stat(), { count: 3, octets: 60 });
  });

  it('knows which messages are already \\Seen', () => {
    const d = make();
    const [first, second] = [d.get(1), d.get(2)];
    assert.ok(first.ok && second.ok);
    assert.equal(d.isSeen(first.entry), true);
    assert.equal(d.isSeen(second.entry), false);
    d.markSeen(second.entry);
    assert.equal(d.isSeen(second.entry), true);
  });
});
