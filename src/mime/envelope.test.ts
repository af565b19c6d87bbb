import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_ADDRESSES, parseAddressList, parseEnvelope } from './envelope.ts';

const a = (name: string | null, mailbox: string | null, host: string | null, adl: string | null = null) => ({
  name,
  adl,
  mailbox,
  host,
});

describe('parseAddressList', () => {
  test('name-addr, addr-spec, quoted names with escapes and specials', () => {
    assert.deepEqual(parseAddressList('"Doe, John \\"JD\\"" <john@example.test>, jane@example.test'), [
      a('Doe, John "JD"', 'john', 'example.test'),
      a(null, 'jane', 'example.test'),
    ]);
  });

  test('encoded words stay raw; a comment is the name when there is none', () => {
    assert.deepEqual(parseAddressList('=?utf-8?q?J=C3=B6rg?= <j@x.test>, k@x.test (Kay Kim)'), [
      a('=?utf-8?q?J=C3=B6rg?=', 'j', 'x.test'),
      a('Kay Kim', 'k', 'x.test'),
    ]);
  });

  test('route addresses keep the adl', () => {
    assert.deepEqual(parseAddressList('Old <@relay1.test,@relay2.test:user@host.test>'), [
      a('Old', 'user', 'host.test', '@relay1.test,@relay2.test'),
    ]);
  });

  test('groups: start (mailbox = name, host NIL), members, end (all NIL); empty group', () => {
    assert.deepEqual(parseAddressList('Team: a@x.test, B <b@x.test>;, c@x.test, Nobody:;'), [
      a(null, 'Team', null),
      a(null, 'a', 'x.test'),
      a('B', 'b', 'x.test'),
      a(null, null, null),
      a(null, 'c', 'x.test'),
      a(null, 'Nobody', null),
      a(null, null, null),
    ]);
  });

  test('missing domain and bare phrases get Dovecot placeholders', () => {
    assert.deepEqual(parseAddressList('root, Undisclosed recipients'), [
      a(null, 'root', 'MISSING_DOMAIN'),
      a('Undisclosed recipients', 'MISSING_MAILBOX', 'MISSING_DOMAIN'),
    ]);
  });

  test('a quoted local part keeps its quotes', () => {
    assert.deepEqual(parseAddressList('"john doe"@x.test'), [a(null, '"john doe"', 'x.test')]);
  });

  test('garbage never throws; empty lists are null', () => {
    for (const g of ['', ' , ,', '<<<>>>', '"unterminated', '(((', 'a@', '@b', ':;;:', '<@a:>', '\0\xff']) {
      const r = parseAddressList(g);
      assert.ok(r === null || Array.isArray(r), g);
    }
    assert.equal(parseAddressList(''), null);
    assert.equal(parseAddressList(' , '), null);
  });

  test(`at most ${MAX_ADDRESSES} addresses`, () => {
    const many = Array.from({ length: 5000 }, (_, i) => `u${i}@x.test`).join(', ');
    assert.equal(parseAddressList(many)?.length, MAX_ADDRESSES);
  });
});

describe('parseEnvelope', () => {
  test('raw values, defaults for Sender and Reply-To, NIL for absent fields', () => {
    const e = parseEnvelope(
      Buffer.from(
        'Date: Fri, 1 Mar 2024 10:00:00 +0000\r\nSubject: =?utf-8?q?hi?=\r\n  there\r\nFrom: A <a@x.test>\r\n' +
          'To: b@x.test\r\nMessage-ID: <m@x>\r\nIn-Reply-To: <p@x>\r\nSubject: second\r\n\r\n',
      ),
    );
    assert.equal(e.date, 'Fri, 1 Mar 2024 10:00:00 +0000');
    assert.equal(e.subject, '=?utf-8?q?hi?=  there');
    assert.deepEqual(e.sender, e.from);
    assert.deepEqual(e.replyTo, e.from);
    assert.deepEqual(e.to, [a(null, 'b', 'x.test')]);
    assert.equal(e.cc, null);
    assert.equal(e.bcc, null);
    assert.equal(e.messageId, '<m@x>');
    assert.equal(e.inReplyTo, '<p@x>');
  });

  test('an explicit Sender is kept', () => {
    const e = parseEnvelope(Buffer.from('From: a@x.test\r\nSender: s@x.test\r\n\r\n'));
    assert.deepEqual(e.sender, [a(null, 's', 'x.test')]);
  });
});
