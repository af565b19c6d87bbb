// SEARCH, SORT and THREAD against the real server: imapflow for SEARCH as a mail
// client issues it, RawImap for the exact wire forms (plain SEARCH, ESEARCH,
// SAVE and `$`, MODSEQ, SORT, THREAD). Messages arrive by APPEND (the blind index
// is built there) and one by SMTP (built by the MX).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { imapflow, imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';

const mail = (headers: readonly string[], body: string): string =>
  [...headers, 'MIME-Version: 1.0', '', body, ''].join('\r\n');

// Sequence numbers 1..5 once the placeholder (UID 1) is expunged: UID = seq + 1.
const MESSAGES: { raw: string; flags: string[]; date: string }[] = [
  {
    raw: mail(
      [
        'From: Alice Example <alice@example.com>',
        'To: Team <team@example.com>',
        'Subject: Quarterly report',
        'Date: Tue, 01 Jul 2025 23:30:00 -0500',
        'Message-ID: <q1@example.com>',
        'Content-Type: text/plain; charset=utf-8',
      ],
      'The numbers look good this quarter.',
    ),
    flags: ['\\Seen'],
    date: '2025-07-02T10:00:00Z',
  },
  {
    raw: mail(
      [
        'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>',
        'To: alice@example.com',
        'Bcc: Secret Keeper <secret@example.net>',
        'Subject: Re: Quarterly report',
        'Date: Thu, 03 Jul 2025 12:00:00 +0000',
        'Message-ID: <q2@example.de>',
        'In-Reply-To: <q1@example.com>',
        'References: <q1@example.com>',
        'Content-Type: text/html; charset=utf-8',
      ],
      '<p>Hello <b>world</b>, gr&#252;&#223;e</p>',
    ),
    flags: ['\\Flagged'],
    date: '2025-07-03T10:00:00Z',
  },
  {
    raw: mail(
      [
        'From: Carol <carol@example.com>',
        'To: alice@example.com',
        'Subject: Lunch?',
        'Date: Wed, 02 Jul 2025 09:00:00 +0000',
        'Message-ID: <l1@example.com>',
      ],
      'Pizza at noon?',
    ),
    flags: [],
    date: '2025-07-04T10:00:00Z',
  },
  {
    raw: mail(
      [
        'From: Dave <dave@example.com>',
        'To: carol@example.com',
        'Subject: Re: Lunch?',
        'Date: Sat, 05 Jul 2025 09:00:00 +0000',
        'Message-ID: <l2@example.com>',
        'References: <l1@example.com>',
        'X-Mood: hungry',
      ],
      'Sounds good, see you there.',
    ),
    flags: ['$Important'],
    date: '2025-07-05T10:00:00Z',
  },
  {
    raw: mail(
      [
        'From: Erin <erin@example.com>',
        'To: alice@example.com',
        'Subject: [list] Fwd: Quarterly report',
        'Date: Fri, 04 Jul 2025 09:00:00 +0000',
        'Message-ID: <f1@example.com>',
      ],
      'Forwarding the numbers, attached.',
    ),
    flags: ['\\Seen', '\\Deleted'],
    date: '2025-07-06T10:00:00Z',
  },
];

describe('IMAP SEARCH, SORT and THREAD', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;
  let flow: ImapFlow;
  let raw: RawImap;
  let n = 0;
  const cmd = async (text: string): Promise<string[]> => {
    const tag = `t${++n}`;
    const lines = await raw.command(tag, text);
    assert.match(lines.at(-1)!, new RegExp(`^${tag} OK`), `${text}\n${lines.join('\n')}`);
    return lines.slice(0, -1).filter((l) => /^\* (SEARCH|ESEARCH|SORT|THREAD)\b/.test(l));
  };

  before(async () => {
    inst = await install();
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
    flow = await imapflow(port);
    await flow.mailboxCreate('Search');
    const placeholder = await flow.append('Search', mail(['Subject: placeholder'], 'x'));
    for (const m of MESSAGES) await flow.append('Search', m.raw, m.flags, new Date(m.date));
    await flow.mailboxOpen('Search');
    assert.ok(placeholder && placeholder.uid === 1);
    await flow.messageDelete('1', { uid: true });
    raw = await RawImap.connect(port);
    await raw.login();
    await cmd('SELECT Search');
  });

  after(async () => {
    raw?.close();
    await flow?.logout().catch(() => {});
    await srv.server.stop();
    await inst.cleanup();
  });

  it('imapflow: flags, addresses, subject, dates, sizes and boolean combinations', async () => {
    assert.deepEqual(await flow.search({ seen: false }), [2, 3, 4]);
    assert.deepEqual(await flow.search({ seen: false }, { uid: true }), [3, 4, 5]);
    assert.deepEqual(await flow.search({ keyword: '$Important' }), [4]);
    assert.deepEqual(await flow.search({ from: 'alice' }), [1]);
    assert.deepEqual(await flow.search({ from: 'Jürgen Müller' }), [2]);
    assert.deepEqual(await flow.search({ to: 'alice@example.com' }), [2, 3, 5]);
    assert.deepEqual(await flow.search({ bcc: 'secret' }), [2]);
    assert.deepEqual(await flow.search({ subject: 'quarterly' }), [1, 2, 5]);
    assert.deepEqual(await flow.search({ header: { 'x-mood': 'HUNGRY' } }), [4]);
    assert.deepEqual(await flow.search({ header: { 'x-mood': true } }), [4]);
    assert.deepEqual(await flow.search({ since: new Date('2025-07-05T00:00:00Z') }), [4, 5]);
    assert.deepEqual(await flow.search({ sentOn: new Date('2025-07-01T00:00:00Z') }), [1]);
    assert.deepEqual(await flow.search({ or: [{ flagged: true }, { deleted: true }] }), [2, 5]);
    assert.deepEqual(await flow.search({ not: { seen: true }, from: 'dave' }), [4]);
    assert.deepEqual(await flow.search({ uid: '4:*' }, { uid: true }), [4, 5, 6]);
  });

  it('imapflow: BODY and TEXT match whole words through the blind index', async () => {
    assert.deepEqual(await flow.search({ body: 'numbers' }), [1, 5]);
    assert.deepEqual(await flow.search({ body: 'NUMB' }), []);
    assert.deepEqual(await flow.search({ body: 'hello world' }), [2]);
    assert.deepEqual(await flow.search({ body: 'grüße' }), [2]);
    assert.deepEqual(await flow.search({ text: 'quarterly' }), [1, 2, 5]);
    assert.deepEqual(await flow.search({ body: 'quarterly' }), []);
    assert.deepEqual(await flow.search({ body: 'numbers', seen: true, deleted: false }), [1]);
  });

  it('imapflow: ESEARCH results with RETURN', async () => {
    const r = await flow.search(
      { seen: false },
      { uid: true, returnOptions: ['MIN', 'MAX', 'COUNT', 'ALL'] },
    );
    assert.deepEqual(r, { min: 3, max: 5, count: 3, all: '3:5' });
  });

  it('plain SEARCH and UID SEARCH responses', async () => {
    assert.deepEqual(await cmd('SEARCH UNSEEN'), ['* SEARCH 2 3 4']);
    assert.deepEqual(await cmd('UID SEARCH UNSEEN'), ['* SEARCH 3 4 5']);
    assert.deepEqual(await cmd('SEARCH CHARSET UTF-8 BODY zebra'), ['* SEARCH']);
    assert.deepEqual(await cmd('SEARCH RECENT'), ['* SEARCH']);
  });

  it('ESEARCH with RETURN, and SAVE into $', async () => {
    assert.deepEqual(await cmd('SEARCH RETURN (MIN MAX COUNT) UNSEEN'), [
      `* ESEARCH (TAG "t${n}") MIN 2 MAX 4 COUNT 3`,
    ]);
    assert.deepEqual(await cmd('UID SEARCH RETURN () BODY numbers'), [`* ESEARCH (TAG "t${n}") UID ALL 2,6`]);
    assert.deepEqual(await cmd('UID SEARCH RETURN (COUNT) KEYWORD nothing'), [
      `* ESEARCH (TAG "t${n}") UID COUNT 0`,
    ]);
    assert.deepEqual(await cmd('UID SEARCH RETURN (SAVE) OR FLAGGED DELETED'), []);
    assert.deepEqual(await cmd('UID SEARCH UID $'), ['* SEARCH 3 6']);
    assert.deepEqual(await cmd('SEARCH $ SEEN'), ['* SEARCH 5']);
    assert.deepEqual(await cmd('SEARCH RETURN (SAVE MIN) UNSEEN'), [`* ESEARCH (TAG "t${n}") MIN 2`]);
    assert.deepEqual(await cmd('SEARCH $'), ['* SEARCH 2']);
  });

  it('MODSEQ criterion: results carry the highest modseq and CONDSTORE is on', async () => {
    const [line] = await cmd('SEARCH MODSEQ 1');
    const m = /^\* SEARCH 1 2 3 4 5 \(MODSEQ (\d+)\)$/.exec(line ?? '');
    assert.ok(m, line);
    const [esearch] = await cmd('SEARCH RETURN (COUNT) MODSEQ 1');
    assert.equal(esearch, `* ESEARCH (TAG "t${n}") COUNT 5 MODSEQ ${m[1]}`);
  });

  it('SORT by subject, date, sender and arrival, with REVERSE and ESORT', async () => {
    assert.deepEqual(await cmd('SORT (SUBJECT) UTF-8 ALL'), ['* SORT 3 4 1 2 5']);
    assert.deepEqual(await cmd('SORT (REVERSE DATE) UTF-8 ALL'), ['* SORT 4 5 2 3 1']);
    assert.deepEqual(await cmd('SORT (FROM) UTF-8 ALL'), ['* SORT 1 3 4 5 2']);
    assert.deepEqual(await cmd('SORT (DISPLAYFROM) UTF-8 ALL'), ['* SORT 1 3 4 5 2']);
    assert.deepEqual(await cmd('UID SORT (REVERSE ARRIVAL) UTF-8 UNSEEN'), ['* SORT 5 4 3']);
    assert.deepEqual(await cmd('SORT (SUBJECT REVERSE DATE) UTF-8 NOT DELETED'), ['* SORT 4 3 2 1']);
    assert.deepEqual(await cmd('SORT RETURN (MIN COUNT ALL) (REVERSE DATE) UTF-8 ALL'), [
      `* ESEARCH (TAG "t${n}") MIN 4 COUNT 5 ALL 4:5,2:3,1`,
    ]);
  });

  it('THREAD REFERENCES and ORDEREDSUBJECT', async () => {
    assert.deepEqual(await cmd('THREAD REFERENCES UTF-8 ALL'), ['* THREAD (1 (2)(5))(3 4)']);
    assert.deepEqual(await cmd('UID THREAD REFERENCES UTF-8 ALL'), ['* THREAD (2 (3)(6))(4 5)']);
    assert.deepEqual(await cmd('THREAD ORDEREDSUBJECT UTF-8 ALL'), ['* THREAD (1 (2)(5))(3 4)']);
    assert.deepEqual(await cmd('THREAD REFERENCES UTF-8 FROM nobody'), ['* THREAD']);
  });

  it('IMAP4rev2 clients get ESEARCH for a plain SEARCH', async () => {
    const c = await RawImap.connect(port);
    try {
      await c.login();
      await c.command('e1', 'ENABLE IMAP4rev2');
      await c.command('e2', 'SELECT Search');
      const lines = await c.command('e3', 'SEARCH SEEN');
      assert.deepEqual(lines, ['* ESEARCH (TAG "e3") ALL 1,5', 'e3 OK SEARCH completed']);
    } finally {
      c.close();
    }
  });

  it('an unsupported charset is refused with BADCHARSET', async () => {
    const lines = await raw.command('c1', 'SEARCH CHARSET KOI8-R ALL');
    assert.match(lines.at(-1)!, /^c1 NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/);
  });

  it('finds mail delivered by SMTP through the index the MX built', async () => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: srv.mxPort,
      secure: false,
      tls: { rejectUnauthorized: false },
    });
    await t.sendMail({
      envelope: { from: 'bob@example.org', to: ['alice@sealpost.test'] },
      raw: mail(
        ['From: Bob <bob@example.org>', 'To: alice@sealpost.test', 'Subject: Delivery'],
        'Marmalade sandwiches.',
      ),
    });
    const c = await imapflow(port);
    try {
      await c.mailboxOpen('INBOX');
      const found = await c.search({ body: 'marmalade' });
      assert.ok(Array.isArray(found) && found.length === 1, String(found));
      assert.deepEqual(await c.search({ body: 'sandwich' }), []);
    } finally {
      await c.logout();
    }
  });
});
