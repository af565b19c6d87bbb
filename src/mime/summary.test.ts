import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStructure } from './structure.ts';
import { PREVIEW_CHARS, summarise } from './summary.ts';

const sum = (text: string) => {
  const raw = Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8');
  return summarise(raw, parseStructure(raw));
};

describe('summarise', () => {
  it('decodes encoded words in the subject and names, and lists group members', () => {
    const s = sum(
      [
        'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>',
        'To: Team: a@example.org, "B, Person" <b@example.org>;, c@example.org',
        'Subject: =?ISO-8859-1?B?SGVsbG8g5Q==?= world',
        'Date: Tue, 01 Dec 2026 09:00:00 +0100 (CET)',
        'Message-ID: <id1@example.de>',
        'In-Reply-To: <id0@example.de>',
        'References: <a@x> <id0@example.de>',
        '',
        'Body text.',
      ].join('\n'),
    );
    assert.equal(s.subject, 'Hello å world');
    assert.deepEqual(s.from, [{ name: 'Jürgen Müller', address: 'jm@example.de' }]);
    assert.deepEqual(
      s.to.map((a) => a.address),
      ['a@example.org', 'b@example.org', 'c@example.org'],
    );
    assert.equal(s.to[1]!.name, 'B, Person');
    assert.equal(s.date, Date.UTC(2026, 11, 1, 8, 0, 0));
    assert.equal(s.messageId, '<id1@example.de>');
    assert.equal(s.inReplyTo, '<id0@example.de>');
    assert.deepEqual(s.references, ['<a@x>', '<id0@example.de>']);
    assert.deepEqual(s.sender, []);
    assert.equal(s.preview, 'Body text.');
    assert.equal(s.hasAttachments, false);
  });

  it('previews HTML when there is no plain part, and notices attachments', () => {
    const s = sum(
      [
        'From: a@example.org',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '<html><style>p{}</style><p>Hi =C3=A9t=C3=A9 <b>there</b></p></html>',
        '--b',
        'Content-Type: application/pdf; name=x.pdf',
        'Content-Disposition: attachment; filename=x.pdf',
        'Content-Transfer-Encoding: base64',
        '',
        'JVBERi0=',
        '--b--',
      ].join('\n'),
    );
    assert.equal(s.preview, 'Hi été there');
    assert.equal(s.hasAttachments, true);
  });

  it('never throws on garbage and bounds the preview', () => {
    const s = sum(`Subject: ${'x'.repeat(10)}\nDate: not a date\nFrom: <<<@@>\n\n${'word '.repeat(1000)}`);
    assert.equal(s.date, null);
    assert.equal(s.preview.length, PREVIEW_CHARS);
    const empty = summarise(Buffer.alloc(0), parseStructure(Buffer.alloc(0)));
    assert.equal(empty.subject, '');
    assert.deepEqual(empty.from, []);
  });
});
