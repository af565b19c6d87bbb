import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countMailboxes, fieldValues, scanHeaderBlock } from './header-block.ts';

describe('header block scan', () => {
  it('finds fields, unfolds continuations and stops at the empty line', () => {
    const raw = Buffer.from('From: a@x.example\r\nSubject: one\r\n two\r\n\r\nFrom: body@x.example\r\n');
    const h = scanHeaderBlock(raw);
    assert.deepEqual(fieldValues(h, 'from'), ['a@x.example']);
    assert.deepEqual(fieldValues(h, 'subject'), ['one two']);
    assert.equal(h.lines, 3);
    assert.equal(raw.subarray(h.bodyStart).toString(), 'From: body@x.example\r\n');
  });

  it('handles a message with no body and a header-only message', () => {
    const h = scanHeaderBlock(Buffer.from('Subject: x\r\n'));
    assert.equal(h.bodyStart, 12);
    assert.equal(h.fields.length, 1);
  });

  it('counts mailboxes in address lists', () => {
    assert.equal(countMailboxes(' a@x.example'), 1);
    assert.equal(countMailboxes(' "Doe, John" <j@x.example>'), 1);
    assert.equal(countMailboxes(' a@x.example, b@y.example'), 2);
    assert.equal(countMailboxes(' team: a@x.example, b@y.example;'), 2);
    assert.equal(countMailboxes(' undisclosed-recipients:;'), 0);
    assert.equal(countMailboxes(' a@x.example (comment, with comma)'), 1);
    assert.equal(countMailboxes(' <a@x.example>, '), 1);
  });
});
