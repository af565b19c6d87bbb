// Writes the MIME corpus (test/corpus/mime/*.eml): well-formed messages built with
// nodemailer's MailComposer, malformed and unusual ones written by hand.
// Run: node test/corpus/mime/generate.ts   (the .eml files are committed; rerunning
// rewrites them with the same content: dates, ids and boundaries are fixed).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Mail from 'nodemailer/lib/mailer/index.js';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';

const dir = import.meta.dirname;
const date = new Date('2024-03-01T10:00:00Z');
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

let n = 0;
async function compose(opts: Mail.Options): Promise<Buffer> {
  n++;
  const mail = new MailComposer({
    date,
    messageId: `<corpus-${n}@example.test>`,
    baseBoundary: `corpus${n}`,
    ...opts,
  } as Mail.Options);
  return mail.compile().build();
}

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

async function main(): Promise<void> {
  const plain = await compose({
    from: 'Alice <alice@example.test>',
    to: 'Bob <bob@example.test>',
    subject: 'Plain hello',
    text: 'Hello Bob,\nthis is a plain message.\n',
  });
  const alternative = await compose({
    from: 'alice@example.test',
    to: 'bob@example.test, carol@example.test',
    cc: '"Dave, the boss" <dave@example.test>',
    subject: 'Alternative',
    text: 'Plain version with ünïcödé text.',
    html: '<p>HTML <b>version</b> &amp; entities</p><script>var x = 1;</script>',
  });
  const related = await compose({
    from: 'news@example.test',
    to: 'bob@example.test',
    subject: 'Related with inline image',
    html: '<p>Logo: <img src="cid:logo@example.test"></p>',
    text: 'Logo attached inline.',
    attachments: [{ filename: 'logo.png', content: png, cid: 'logo@example.test' }],
  });
  const mixed = await compose({
    from: 'alice@example.test',
    to: 'bob@example.test',
    subject: 'Report and data',
    text: 'See attachments.',
    attachments: [
      { filename: 'report.pdf', content: Buffer.alloc(3000, 7), contentType: 'application/pdf' },
      { filename: 'data.csv', content: 'a,b\n1,2\n', contentType: 'text/csv' },
      { filename: 'notes.txt', content: 'quoted = printable ünïcödé\n', encoding: 'utf8' },
    ],
  });
  const forwardedOnce = await compose({
    from: 'carol@example.test',
    to: 'dave@example.test',
    subject: 'Fwd: Report and data',
    text: 'Forwarding this.',
    attachments: [{ filename: 'forward.eml', content: mixed, contentType: 'message/rfc822' }],
  });
  const forwardedTwice = await compose({
    from: 'dave@example.test',
    to: 'erin@example.test',
    subject: 'Fwd: Fwd: Report and data',
    text: 'Forwarding again.',
    attachments: [{ filename: 'forward.eml', content: forwardedOnce, contentType: 'message/rfc822' }],
  });
  const encodedWords = await compose({
    from: { name: 'Jürgen Müller', address: 'juergen@example.test' },
    to: { name: '山田太郎', address: 'taro@example.test' },
    subject: 'Grüße aus München — 日本語のテスト',
    text: 'Grüße!',
  });
  const longFilename = await compose({
    from: 'alice@example.test',
    to: 'bob@example.test',
    subject: 'Long file name',
    text: 'A file with a long non-ASCII name.',
    attachments: [
      {
        filename: `Überlange Dateinamen mit Umlauten äöü und noch mehr Text damit es umbricht ${'x'.repeat(60)}.txt`,
        content: 'content',
      },
    ],
  });
  const calendar = await compose({
    from: 'organizer@example.test',
    to: 'bob@example.test',
    subject: 'Invitation: Planning',
    text: 'You are invited.',
    icalEvent: {
      method: 'REQUEST',
      content: [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'METHOD:REQUEST',
        'BEGIN:VEVENT',
        'UID:planning@example.test',
        'DTSTART:20240305T100000Z',
        'SUMMARY:Planning',
        'END:VEVENT',
        'END:VCALENDAR',
      ].join('\r\n'),
    },
  });
  const files: Record<string, Buffer> = {
    '01-plain.eml': plain,
    '02-alternative.eml': alternative,
    '03-related-inline-image.eml': related,
    '04-mixed-attachments.eml': mixed,
    '05-forwarded-twice.eml': forwardedTwice,
    '06-encoded-words-utf8.eml': encodedWords,
    '07-rfc2231-long-filename.eml': longFilename,
    '08-calendar-invite.eml': calendar,
    ...handWritten(),
  };
  for (const [name, raw] of Object.entries(files)) writeFileSync(join(dir, name), raw);
  console.log(`wrote ${Object.keys(files).length} messages`);
}

function handWritten(): Record<string, Buffer> {
  const digestPart = (i: number): string[] => [
    '--digest',
    '',
    `From: member${i}@example.test`,
    `Subject: Digest item ${i}`,
    '',
    `Item ${i} body.`,
  ];
  return {
    '09-encoded-words-latin1-q-b.eml': crlf([
      'From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>',
      'To: =?iso-8859-1?b?SvZyZw==?= <joerg@example.test>',
      'Subject: =?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=',
      '  =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=',
      'Date: Fri, 1 Mar 2024 10:00:00 +0100',
      'Message-ID: <latin1@example.test>',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=ISO-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=E9 cr=E8me br=FBl=E9e, tr=E8s',
      'bien.=',
      '',
    ]),
    '10-iso-2022-jp.eml': Buffer.concat([
      crlf([
        'From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.test>',
        'To: taro@example.test',
        'Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=',
        'Date: Fri, 1 Mar 2024 10:00:00 +0900',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset="ISO-2022-JP"',
        'Content-Transfer-Encoding: 7bit',
        '',
        '',
      ]),
      Buffer.from('\x1b$B$3$s$K$A$O\x1b(B\r\n', 'latin1'),
    ]),
    '11-shift-jis-8bit.eml': Buffer.concat([
      crlf([
        'From: sender@example.test',
        'To: taro@example.test',
        'Subject: =?Shift_JIS?B?g2WDWINn?=',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=Shift_JIS',
        'Content-Transfer-Encoding: 8bit',
        '',
        '',
      ]),
      Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd, 0x0d, 0x0a]),
    ]),
    '12-digest.eml': crlf([
      'From: list@example.test',
      'To: bob@example.test',
      'Subject: Digest, Vol 1',
      'MIME-Version: 1.0',
      'Content-Type: multipart/digest; boundary="digest"',
      '',
      'This is a digest.',
      ...digestPart(1),
      ...digestPart(2),
      '--digest',
      'Content-Type: text/plain',
      '',
      'A text part in a digest.',
      '--digest--',
      '',
    ]),
    '13-bare-lf.eml': Buffer.from(
      [
        'From: lf@example.test',
        'Subject: Bare LF line endings',
        'Content-Type: multipart/alternative; boundary=lf',
        '',
        '--lf',
        'Content-Type: text/plain',
        '',
        'unix line endings',
        'second line',
        '--lf',
        'Content-Type: text/html',
        '',
        '<p>unix</p>',
        '--lf--',
        '',
      ].join('\n'),
    ),
    '14-missing-final-boundary.eml': crlf([
      'From: trunc@example.test',
      'Subject: Truncated',
      'Content-Type: multipart/mixed; boundary="never-closed"',
      '',
      '--never-closed',
      'Content-Type: text/plain',
      '',
      'first',
      '--never-closed',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      'AAECAwQFBgcICQ==',
      '',
    ]),
    '15-missing-content-type.eml': crlf([
      'From: old@example.test',
      'To: bob@example.test',
      'Subject: No MIME headers at all',
      'Date: Mon, 1 Jan 1990 00:00:00 +0000',
      '',
      'Just text.',
      '',
    ]),
    '16-odd-charsets.eml': Buffer.concat([
      crlf([
        'From: odd@example.test',
        'Subject: Odd charsets',
        'MIME-Version: 1.0',
        'Content-Type: MULTIPART/Mixed; BOUNDARY=Odd_Boundary',
        '',
        '--Odd_Boundary',
        'Content-Type: TEXT/PLAIN; CHARSET=WINDOWS-1252',
        'Content-Transfer-Encoding: QUOTED-PRINTABLE',
        '',
        'Smart =93quotes=94 and =80 euro',
        '--Odd_Boundary',
        'Content-Type: text/plain; charset=x-unknown-charset',
        'Content-Transfer-Encoding: 8bit',
        '',
        '',
      ]),
      Buffer.from('caf\xe9\r\n--Odd_Boundary--\r\n', 'latin1'),
    ]),
    '17-group-address.eml': crlf([
      'From: "Joe Q. Public" <john.q.public@example.com>',
      'To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>',
      'Cc: <boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>',
      'Bcc: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;',
      'Reply-To: Undisclosed recipients:;',
      'Subject: Groups (RFC 5322 Appendix A.1.3)',
      '',
      'Body.',
      '',
    ]),
    '18-empty-body.eml': crlf(['From: empty@example.test', 'Subject: Empty body', '', '']),
    '19-header-only.eml': crlf(['From: header@example.test', 'Subject: Header only, no blank line', '']),
    '20-smime-signed.eml': crlf([
      'From: signer@example.test',
      'To: bob@example.test',
      'Subject: Signed',
      'MIME-Version: 1.0',
      'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;',
      ' boundary="----signed"',
      '',
      'This is an S/MIME signed message',
      '',
      '------signed',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Signed text.',
      '',
      '------signed',
      'Content-Type: application/pkcs7-signature; name="smime.p7s"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="smime.p7s"',
      'Content-Description: S/MIME Cryptographic Signature',
      '',
      'MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIC',
      'AAAAAA==',
      '',
      '------signed--',
      '',
    ]),
    '21-8bit-headers.eml': crlf([
      'From: Jörg Müller <joerg@example.test>',
      'To: 山田 <taro@example.test>',
      'Subject: Grüße ohne Kodierung',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      'Content-Disposition: inline; filename="grüße.txt"',
      '',
      'Straße',
      '',
    ]),
    '22-rfc2231-continuations.eml': crlf([
      'From: a@example.test',
      'Subject: RFC 2231 by hand',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=x',
      '',
      '--x',
      'Content-Type: application/x-stuff;',
      " title*0*=us-ascii'en'This%20is%20even%20more%20;",
      ' title*1*=%2A%2A%2Afun%2A%2A%2A%20;',
      ' title*2="isn\'t it!"',
      'Content-Disposition: attachment;',
      " filename*=UTF-8''%E2%82%AC%20rates.txt",
      'Content-Language: en, de',
      'Content-Location: http://example.test/',
      '  rates.txt',
      'Content-ID: <rates@example.test>',
      'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
      '',
      'rates',
      '--x',
      'Content-Type: text/plain; name=unquoted file name.txt; charset=us-ascii (Plain text)',
      '',
      'unquoted',
      '--x--',
      '',
    ]),
    '23-nested-alternative-in-mixed.eml': crlf([
      'From: a@example.test',
      'Subject: Nested boundaries sharing a prefix',
      'Content-Type: multipart/mixed; boundary="abc"',
      '',
      '--abc',
      'Content-Type: multipart/alternative; boundary="abc-inner"',
      '',
      '--abc-inner',
      'Content-Type: text/plain',
      '',
      'plain',
      '--abc-inner',
      'Content-Type: text/html',
      '',
      '<p>html</p>',
      '--abc-inner--',
      '',
      '--abc',
      'Content-Type: image/png; name=dot.png',
      'Content-Transfer-Encoding: base64',
      '',
      png.toString('base64'),
      '--abc--',
      'epilogue text',
      '',
    ]),
    '24-missing-header-separator.eml': crlf([
      'From: nosep@example.test',
      'Subject: No blank line before the body',
      'This line has no colon so the body starts here.',
      'Second body line.',
      '',
    ]),
    '25-message-global-and-dsn.eml': crlf([
      'From: MAILER-DAEMON@example.test',
      'To: alice@example.test',
      'Subject: Undelivered Mail Returned to Sender',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"',
      '',
      '--dsn',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Your message could not be delivered.',
      '--dsn',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.test',
      '',
      'Final-Recipient: rfc822; nobody@example.test',
      'Action: failed',
      'Status: 5.1.1',
      '',
      '--dsn',
      'Content-Type: message/global',
      '',
      'From: alice@example.test',
      'To: nobody@example.test',
      'Subject: Ünïcödé original',
      '',
      'Original body.',
      '--dsn--',
      '',
    ]),
  };
}

await main();
