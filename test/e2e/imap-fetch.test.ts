// FETCH forms (RFC 9051 §6.4.5, §7.5.2; BINARY RFC 3516; OBJECTID RFC 8474) on a
// realistic message: multipart/mixed holding a multipart/alternative, a base64
// attachment and a message/rfc822. Every section is compared byte for byte with
// the pieces the message was built from; ENVELOPE and BODY/BODYSTRUCTURE are
// read with the strict reader of src/imap/render/test-reader.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImapFlow } from 'imapflow';
import { readBody, readEnvelope, type Value, WireReader } from '../../src/imap/render/test-reader.ts';
import { imapflow, imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';

const crlf = (...lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');

// The attachment: every byte value, NUL and CR LF included.
const ATTACHMENT = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
const ATTACHMENT_B64 = ATTACHMENT.toString('base64').replace(/.{1,76}/g, '$&\r\n');

const PLAIN_BODY = 'Hallo Team,\r\ndie Zahlen f=C3=BCr Juli.\r\n';
const HTML_BODY = '<p>Hallo Team, die Zahlen f&uuml;r Juli.</p>\r\n';
const PART1_HEADER = crlf('Content-Type: multipart/alternative; boundary="alt-7"');
const PART1_BODY =
  crlf(
    '--alt-7',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
  ) +
  PLAIN_BODY +
  crlf('--alt-7', 'Content-Type: text/html; charset=utf-8', '') +
  HTML_BODY +
  '--alt-7--';
const PART2_HEADER = crlf(
  'Content-Type: application/octet-stream; name="zahlen.bin"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="zahlen.bin"',
  '',
);
const PART2_BODY = ATTACHMENT_B64.slice(0, -2); // the CRLF before the boundary belongs to it
const INNER_HEADER = crlf(
  'From: Carol <carol@example.com>',
  'To: bob@example.org',
  'Subject: Forwarded: old numbers',
  'Date: Mon, 30 Jun 2025 08:00:00 +0000',
  'Message-ID: <inner-1@example.com>',
  'Content-Type: text/plain; charset=us-ascii',
  '',
);
const INNER_BODY = crlf('The old numbers.', 'Regards, Carol');
const PART3_HEADER = crlf('Content-Type: message/rfc822', 'Content-Description: forwarded', '');
const TOP_HEADER = crlf(
  'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>',
  'To: Team: alice@sealpost.test, "Bob B." <bob@example.org>;, carol@example.com',
  'Cc: undisclosed-recipients:;',
  'Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=',
  'Date: Tue, 15 Jul 2025 09:30:00 +0200',
  'Message-ID: <fetch-1@example.de>',
  'In-Reply-To: <earlier@example.de>',
  'X-Folded: first',
  '  second',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="mix-3"',
  '',
);
const TOP_BODY =
  crlf('This is a multi-part message in MIME format.', '--mix-3') +
  PART1_HEADER +
  '\r\n' +
  PART1_BODY +
  crlf('', '--mix-3') +
  PART2_HEADER +
  PART2_BODY +
  crlf('', '--mix-3') +
  PART3_HEADER +
  INNER_HEADER +
  INNER_BODY +
  crlf('--mix-3--');
const MESSAGE = TOP_HEADER + TOP_BODY;

/** The bytes of `name {n}` / `name ~{n}` / `name "…"` / `name NIL` in a FETCH response. */
function item(response: string, name: string): Buffer | null {
  const at = response.indexOf(`${name} `);
  assert.ok(at >= 0, `${name} missing in ${response.slice(0, 300)}`);
  const rest = response.slice(at + name.length + 1);
  const lit = /^~?\{(\d+)\}\r\n/.exec(rest);
  if (lit) return Buffer.from(rest.slice(lit[0].length, lit[0].length + Number(lit[1])), 'latin1');
  if (rest.startsWith('NIL')) return null;
  const q = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
  assert.ok(q, `${name}: ${rest.slice(0, 80)}`);
  return Buffer.from(q[1]!.replace(/\\(.)/g, '$1'), 'latin1');
}

/** A value after `name ` parsed by the strict reader (ENVELOPE, BODY, BODYSTRUCTURE). */
function structured(response: string, name: string): Value {
  const at = response.indexOf(`${name} (`);
  assert.ok(at >= 0, `${name} missing`);
  // Re-decode as UTF-8: the reader counts literal octets in UTF-8.
  const r = new WireReader(Buffer.from(response.slice(at + name.length + 1), 'latin1').toString('utf8'));
  return r.value();
}

describe('IMAP FETCH forms', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;
  let flow: ImapFlow;
  let raw: RawImap;
  let uid = 0;
  let n = 0;

  /** The whole text of one FETCH exchange (literals inline), asserting OK. */
  const fetch = async (what: string, c = raw): Promise<string> => {
    const tag = `f${++n}`;
    const lines = await c.command(tag, what);
    assert.match(lines.at(-1)!, new RegExp(`^${tag} OK`), `${what}\n${lines.join('\n')}`);
    return lines.slice(0, -1).join('\r\n');
  };

  before(async () => {
    inst = await install();
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
    flow = await imapflow(port);
    await flow.mailboxCreate('Fetch');
    await flow.mailboxCreate('Fetch/Copies');
    const r = await flow.append('Fetch', MESSAGE, [], new Date('2025-07-14T13:16:17Z'));
    assert.ok(r !== false && r.uid !== undefined);
    uid = r.uid;
    raw = await RawImap.connect(port);
    await raw.login();
    await fetch('SELECT Fetch');
  });

  after(async () => {
    raw?.close();
    await flow?.logout().catch(() => {});
    await srv.server.stop();
    await inst.cleanup();
  });

  it('BODY[n] sections: nested parts, MIME headers, an encapsulated message and the top level', async () => {
    const body = (s: string) =>
      fetch(`UID FETCH ${uid} (BODY.PEEK[${s}])`).then((r) => item(r, `BODY[${s}]`));
    assert.equal((await body('1'))!.toString('latin1'), PART1_BODY);
    assert.equal((await body('1.1'))!.toString('latin1'), PLAIN_BODY.slice(0, -2));
    assert.equal((await body('1.2'))!.toString('latin1'), HTML_BODY.slice(0, -2));
    assert.equal((await body('1.MIME'))!.toString('latin1'), `${PART1_HEADER}\r\n`);
    assert.equal((await body('2'))!.toString('latin1'), PART2_BODY);
    assert.equal((await body('2.MIME'))!.toString('latin1'), PART2_HEADER);
    assert.equal((await body('3'))!.toString('latin1'), INNER_HEADER + INNER_BODY.slice(0, -2));
    assert.equal((await body('3.HEADER'))!.toString('latin1'), INNER_HEADER);
    assert.equal((await body('3.TEXT'))!.toString('latin1'), INNER_BODY.slice(0, -2));
    assert.equal((await body('3.1'))!.toString('latin1'), INNER_BODY.slice(0, -2));
    assert.equal((await body('3.MIME'))!.toString('latin1'), PART3_HEADER);
    assert.equal((await body('HEADER'))!.toString('latin1'), TOP_HEADER);
    assert.equal((await body('TEXT'))!.toString('latin1'), TOP_BODY);
    assert.equal((await body(''))!.toString('latin1'), MESSAGE);
    // A part that does not exist is empty, not an error (as Dovecot answers).
    assert.equal((await body('9'))!.length, 0);
  });

  it('HEADER.FIELDS and HEADER.FIELDS.NOT, folding kept, names matched without case', async () => {
    const r = await fetch(`UID FETCH ${uid} (BODY.PEEK[HEADER.FIELDS (from Subject X-Folded)])`);
    const m = /BODY\[HEADER\.FIELDS \(([^)]*)\)\]/i.exec(r);
    assert.ok(m, r);
    assert.deepEqual(m[1]!.toUpperCase().split(' '), ['FROM', 'SUBJECT', 'X-FOLDED']);
    assert.equal(
      item(r, m[0])!.toString('latin1'),
      crlf(
        'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>',
        'Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=',
        'X-Folded: first',
        '  second',
        '',
      ),
    );
    const not = await fetch(
      `UID FETCH ${uid} (BODY.PEEK[HEADER.FIELDS.NOT (To Cc Date Message-ID X-Folded)])`,
    );
    const m2 = /BODY\[HEADER\.FIELDS\.NOT \([^)]*\)\]/i.exec(not)!;
    const kept = item(not, m2[0])!.toString('latin1');
    assert.deepEqual(
      kept
        .split('\r\n')
        .filter((l) => l !== '')
        .map((l) => l.split(':')[0]),
      ['From', 'Subject', 'In-Reply-To', 'MIME-Version', 'Content-Type'],
    );
    assert.ok(kept.endsWith('\r\n\r\n'));
    const inner = await fetch(`UID FETCH ${uid} (BODY.PEEK[3.HEADER.FIELDS (Subject)])`);
    assert.equal(
      item(inner, 'BODY[3.HEADER.FIELDS (SUBJECT)]')!.toString(),
      'Subject: Forwarded: old numbers\r\n\r\n',
    );
  });

  it('partial fetches: <0.10>, a window inside a part, and an origin past the end', async () => {
    const r = await fetch(`UID FETCH ${uid} (BODY.PEEK[]<0.10>)`);
    assert.match(r, /BODY\[\]<0> \{10\}/);
    assert.equal(item(r, 'BODY[]<0>')!.toString(), MESSAGE.slice(0, 10));
    const w = await fetch(`UID FETCH ${uid} (BODY.PEEK[3.TEXT]<4.3>)`);
    assert.equal(item(w, 'BODY[3.TEXT]<4>')!.toString(), 'old');
    const tail = await fetch(`UID FETCH ${uid} (BODY.PEEK[1.1]<20.1000>)`);
    assert.equal(item(tail, 'BODY[1.1]<20>')!.toString('latin1'), PLAIN_BODY.slice(20, -2));
    const past = await fetch(`UID FETCH ${uid} (BODY.PEEK[]<${MESSAGE.length + 100}.10>)`);
    assert.equal(item(past, `BODY[]<${MESSAGE.length + 100}>`)!.length, 0);
  });

  it('BINARY[n] decodes the transfer encoding; BINARY.SIZE gives the decoded length', async () => {
    const r = await fetch(`UID FETCH ${uid} (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.SIZE[1.1])`);
    assert.match(r, /BINARY\[2\] ~\{300\}/); // literal8: the content has NUL bytes
    assert.deepEqual(item(r, 'BINARY[2]'), ATTACHMENT);
    assert.match(r, /BINARY\.SIZE\[2\] 300\b/);
    const plain = Buffer.from('Hallo Team,\r\ndie Zahlen für Juli.');
    assert.match(r, new RegExp(`BINARY\\.SIZE\\[1\\.1\\] ${plain.length}\\b`));
    const qp = await fetch(`UID FETCH ${uid} (BINARY.PEEK[1.1])`);
    assert.deepEqual(item(qp, 'BINARY[1.1]'), plain);
    const part = await fetch(`UID FETCH ${uid} (BINARY.PEEK[2]<10.20>)`);
    assert.deepEqual(item(part, 'BINARY[2]<10>'), ATTACHMENT.subarray(10, 30));
    // imapflow downloads the attachment decoded as well.
    const lock = await flow.getMailboxLock('Fetch');
    try {
      const dl = await flow.download(String(uid), '2', { uid: true });
      const chunks: Buffer[] = [];
      assert.ok(dl.content);
      for await (const c of dl.content) chunks.push(c as Buffer);
      assert.deepEqual(Buffer.concat(chunks), ATTACHMENT);
    } finally {
      lock.release();
    }
  });

  it('RFC822, RFC822.HEADER, RFC822.TEXT, RFC822.SIZE and INTERNALDATE', async () => {
    const r = await fetch(`UID FETCH ${uid} (RFC822.SIZE RFC822.HEADER INTERNALDATE)`);
    assert.match(r, new RegExp(`RFC822\\.SIZE ${Buffer.byteLength(MESSAGE)}\\b`));
    assert.equal(item(r, 'RFC822.HEADER')!.toString('latin1'), TOP_HEADER);
    assert.match(r, /INTERNALDATE "14-Jul-2025 13:16:17 \+0000"/);
    assert.doesNotMatch(r, /\\Seen/); // RFC822.HEADER is a peek
    // APPEND with an explicit date and zone keeps the instant.
    raw.write(`a${++n} APPEND Fetch (\\Seen) "01-Feb-2024 23:59:58 -0500" {14+}\r\nSubject: x\r\n\r\n\r\n`);
    const ap = await raw.until(new RegExp(`^a${n} `));
    const appended = /APPENDUID \d+ (\d+)/.exec(ap.at(-1)!);
    assert.ok(appended, ap.join('\n'));
    const d = await fetch(`UID FETCH ${appended[1]} (INTERNALDATE)`);
    const date = /INTERNALDATE "([^"]+)"/.exec(d)![1]!;
    const [day, mon, rest] = date.split('-');
    const iso = new Date(`${mon} ${day} ${rest!.replace(/ ([+-]\d{2})(\d{2})$/, ' GMT$1$2')}`).toISOString();
    assert.equal(iso, '2024-02-02T04:59:58.000Z');
    // RFC822 and RFC822.TEXT set \Seen; the response then includes FLAGS.
    const full = await fetch(`UID FETCH ${uid} (RFC822)`);
    assert.equal(item(full, 'RFC822')!.toString('latin1'), MESSAGE);
    assert.match(full, /FLAGS \(\\Seen\)/);
    const text = await fetch(`UID FETCH ${uid} (RFC822.TEXT)`);
    assert.equal(item(text, 'RFC822.TEXT')!.toString('latin1'), TOP_BODY);
    await fetch(`UID STORE ${uid} -FLAGS.SILENT (\\Seen)`);
  });

  it('ENVELOPE keeps encoded words raw and renders groups; imapflow decodes them', async () => {
    const r = await fetch(`UID FETCH ${uid} (ENVELOPE)`);
    const env = readEnvelope(structured(r, 'ENVELOPE'));
    assert.deepEqual(env.fields, [
      'Tue, 15 Jul 2025 09:30:00 +0200',
      '=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=',
      '<earlier@example.de>',
      '<fetch-1@example.de>',
    ]);
    const [from, sender, replyTo, to, cc, bcc] = env.addresses;
    const addr = (name: string | null, mailbox: string | null, host: string | null) => ({
      name,
      adl: null,
      mailbox,
      host,
    });
    const juergen = [addr('=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=', 'juergen', 'example.de')];
    assert.deepEqual(from, juergen);
    assert.deepEqual(sender, juergen); // defaults to From
    assert.deepEqual(replyTo, juergen);
    assert.deepEqual(to, [
      addr(null, 'Team', null), // group start
      addr(null, 'alice', 'sealpost.test'),
      addr('Bob B.', 'bob', 'example.org'),
      addr(null, null, null), // group end
      addr(null, 'carol', 'example.com'),
    ]);
    assert.deepEqual(cc, [addr(null, 'undisclosed-recipients', null), addr(null, null, null)]);
    assert.equal(bcc, null);
    const lock = await flow.getMailboxLock('Fetch');
    try {
      const m = await flow.fetchOne(String(uid), { envelope: true }, { uid: true });
      assert.ok(m !== false && m.envelope !== undefined);
      assert.equal(m.envelope.subject, 'Grüße aus Köln');
      assert.equal(m.envelope.from?.[0]?.name, 'Jürgen Müller');
    } finally {
      lock.release();
    }
  });

  it('BODY is BODYSTRUCTURE without extension data; both describe the tree', async () => {
    // Line counts are the line ends inside a part, as Dovecot counts them: the CRLF
    // before a boundary belongs to the boundary (RFC 2046 §5.1.1).
    const r = await fetch(`UID FETCH ${uid} (BODY BODYSTRUCTURE)`);
    const plain = readBody(structured(r, 'BODY'), false);
    const ext = readBody(structured(r, 'BODYSTRUCTURE'), true);
    const shape = (b: ReturnType<typeof readBody>): unknown => ({
      t: `${b.type}/${b.subtype}`,
      size: b.size,
      lines: b.lines,
      c: b.children.map(shape),
      m: b.message ? shape(b.message.body) : null,
    });
    assert.deepEqual(shape(plain), shape(ext));
    assert.deepEqual(shape(ext), {
      t: 'multipart/mixed',
      size: null,
      lines: null,
      c: [
        {
          t: 'multipart/alternative',
          size: null,
          lines: null,
          c: [
            { t: 'text/plain', size: PLAIN_BODY.length - 2, lines: 1, c: [], m: null },
            { t: 'text/html', size: HTML_BODY.length - 2, lines: 0, c: [], m: null },
          ],
          m: null,
        },
        { t: 'application/octet-stream', size: PART2_BODY.length, lines: null, c: [], m: null },
        {
          t: 'message/rfc822',
          size: INNER_HEADER.length + INNER_BODY.length - 2,
          lines: 8,
          c: [],
          m: { t: 'text/plain', size: INNER_BODY.length - 2, lines: 1, c: [], m: null },
        },
      ],
      m: null,
    });
    assert.match(r, /"attachment" \("filename" "zahlen\.bin"\)/i);
    assert.doesNotMatch(r.slice(r.indexOf('BODY ('), r.indexOf('BODYSTRUCTURE')), /attachment/i);
  });

  it('EMAILID and THREADID are the same for a copy; MAILBOXID differs', async () => {
    const ids = (r: string) => ({
      email: /EMAILID \(([^)]+)\)/.exec(r)?.[1],
      thread: /THREADID \(([^)]+)\)/.exec(r)?.[1],
    });
    const before = ids(await fetch(`UID FETCH ${uid} (EMAILID THREADID)`));
    assert.ok(before.email && before.thread);
    const copy = await raw.command(`k${++n}`, `UID COPY ${uid} Fetch/Copies`);
    const copied = /COPYUID \d+ \d+ (\d+)/.exec(copy.at(-1)!);
    assert.ok(copied, copy.join('\n'));
    const other = await RawImap.connect(port);
    try {
      await other.login();
      const sel = await other.command('s', 'EXAMINE Fetch/Copies');
      const after = ids(await fetch(`UID FETCH ${copied[1]} (EMAILID THREADID)`, other));
      assert.deepEqual(after, before);
      const mine = /MAILBOXID \(([^)]+)\)/.exec(
        (await raw.command(`m${++n}`, 'STATUS Fetch (MAILBOXID)')).join(),
      );
      assert.ok(mine && !sel.join('\n').includes(mine[1]!));
    } finally {
      other.close();
    }
  });

  it('sequence numbers out of range are BAD; UIDs out of range are nothing', async () => {
    const bad = await raw.command(`b${++n}`, 'FETCH 99 (FLAGS)');
    assert.match(bad.at(-1)!, /^b\d+ BAD/);
    const badRange = await raw.command(`b${++n}`, 'FETCH 1:99 (FLAGS)');
    assert.match(badRange.at(-1)!, /^b\d+ BAD/);
    const none = await fetch('UID FETCH 9000:9100 (FLAGS)');
    assert.equal(none, '');
    // `*` is the last message, whatever the count.
    const uids = (await fetch('UID SEARCH ALL')).replace('* SEARCH ', '').split(' ');
    assert.equal(await fetch('FETCH * (UID)'), `* ${uids.length} FETCH (UID ${uids.at(-1)})`);
  });

  it('NUL octets go only in literal8 (BINARY); BODY[] carries them as 0x80 (RFC 9051 §9 CHAR8)', async () => {
    const data = Buffer.concat([
      Buffer.from('Subject: nul\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
      Buffer.from([65, 0, 66, 0, 0, 13, 10]),
    ]);
    raw.write(
      Buffer.concat([
        Buffer.from(`b${++n} APPEND Fetch/Copies ~{${data.length}+}\r\n`),
        data,
        Buffer.from('\r\n'),
      ]),
    );
    const r = await raw.until(new RegExp(`^b${n} `));
    const u = /APPENDUID \d+ (\d+)\]/.exec(r.at(-1)!);
    assert.ok(u, r.join('\n'));
    const other = await RawImap.connect(port);
    try {
      await other.login();
      await other.command('e', 'EXAMINE Fetch/Copies');
      const f = await fetch(`UID FETCH ${u[1]} (BODY.PEEK[] BODY.PEEK[1] RFC822.SIZE BINARY.PEEK[1])`, other);
      const nul80 = Buffer.from(data.map((b) => (b === 0 ? 0x80 : b)));
      assert.deepEqual(item(f, 'BODY[]'), nul80);
      assert.deepEqual(item(f, 'BODY[1]'), nul80.subarray(nul80.length - 7));
      assert.match(f, new RegExp(`RFC822\\.SIZE ${data.length}\\b`));
      assert.match(f, /BINARY\[1\] ~\{7\}/);
      assert.deepEqual(item(f, 'BINARY[1]'), Buffer.from([65, 0, 66, 0, 0, 13, 10]));
    } finally {
      other.close();
    }
  });

  it('the macros FAST, ALL and FULL expand to their items (RFC 9051 §6.4.5)', async () => {
    const fast = await fetch(`UID FETCH ${uid} FAST`);
    for (const i of ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE'])
      assert.match(fast, new RegExp(`[( ]${i} `));
    assert.doesNotMatch(fast, /ENVELOPE|BODY/);
    const all = await fetch(`UID FETCH ${uid} ALL`);
    assert.match(all, /ENVELOPE \(/);
    assert.doesNotMatch(all, /BODY/);
    const full = await fetch(`UID FETCH ${uid} FULL`);
    assert.match(full, /ENVELOPE \(/);
    assert.match(full, /BODY \(/);
    assert.doesNotMatch(full, /BODYSTRUCTURE|\\Seen/);
  });

  it('in an EXAMINEd mailbox a body fetch does not set \\Seen', async () => {
    const ro = await RawImap.connect(port);
    try {
      await ro.login();
      await ro.command('e', 'EXAMINE Fetch');
      const r = await fetch(`UID FETCH ${uid} (BODY[TEXT] BINARY[2] RFC822.TEXT)`, ro);
      assert.doesNotMatch(r, /\\Seen/);
      const flags = await fetch(`UID FETCH ${uid} (FLAGS)`);
      assert.doesNotMatch(flags, /\\Seen/);
      const st = await ro.command('s', `UID STORE ${uid} +FLAGS (\\Seen)`);
      assert.match(st.at(-1)!, /^s NO \[READ-ONLY\]/);
    } finally {
      ro.close();
    }
    // Selected read-write, BINARY[] (not PEEK) does set it.
    const r = await fetch(`UID FETCH ${uid} (BINARY[2])`);
    assert.match(r, /FLAGS \(\\Seen\)/);
    await fetch(`UID STORE ${uid} -FLAGS.SILENT (\\Seen)`);
  });
});
