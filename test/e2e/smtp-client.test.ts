// The outbound SMTP client delivering to a real Sealpost MX over real TLS: what
// arrives in the store is byte for byte what was sent (line ends normalised to CRLF),
// bare CR/LF and dot lines cannot end DATA early or smuggle a second message, and the
// required-TLS path verifies the MX certificate against its name.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SmtpClientConnection, type SmtpClientOptions } from '../../src/delivery/smtp-client.ts';
import { countAll, readMailbox } from '../support/mailbox.ts';
import { HOSTNAME, type InProcess, type Installation, install, startInProcess } from '../support/server.ts';

const ALICE = 'alice@sealpost.test';
const BOB = 'bob@sealpost.test';

/** What must arrive: every CR, LF and CRLF as CRLF, and a final CRLF. */
function normalise(s: string): string {
  const n = s.replace(/\r\n|\r|\n/g, '\r\n');
  return n.endsWith('\r\n') ? n : `${n}\r\n`;
}

/** The stored message from its own header block on (the MX prepends trace headers). */
function fromOwnHeaders(raw: string, firstHeader: string): string {
  const i = raw.indexOf(firstHeader);
  assert.notEqual(i, -1, `stored message holds ${firstHeader}`);
  return raw.slice(i);
}

describe('SMTP client delivering to a Sealpost MX', () => {
  let inst: Installation;
  let srv: InProcess;
  let ca: string;

  before(async () => {
    inst = await install({ users: [ALICE, BOB] });
    srv = await startInProcess(inst);
    ca = readFileSync(inst.config().tls.cert_file, 'utf8');
  });

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  function open(extra: Partial<SmtpClientOptions> = {}): Promise<SmtpClientConnection> {
    return SmtpClientConnection.open({
      host: '127.0.0.1',
      port: srv.mxPort,
      servername: HOSTNAME,
      localName: 'sender.example.org',
      tls: { mode: 'required', ca },
      timeouts: { greeting: 10_000, command: 10_000, dataFinal: 30_000 },
      ...extra,
    });
  }

  it('delivers over verified TLS; bare LF/CR and dot lines arrive intact and smuggle nothing', async () => {
    const id = 'smuggle-1@example.org';
    const content = [
      'From: sender@example.org\n',
      `To: ${ALICE}\r\n`,
      'Subject: dots and bare line ends\r',
      `Message-ID: <${id}>\r\n`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n',
      '\r\n',
      '.leading dot\n',
      '.\n',
      'bare CR line\r',
      '..two dots\r\n',
      'after a lone dot with LF the next hop must not end DATA:\n',
      '.\n',
      'MAIL FROM:<evil@example.org>\n',
      `RCPT TO:<${BOB}>\n`,
      'DATA\n',
      'Subject: smuggled\n',
      '\n',
      'smuggled body\n',
      '.\r\n',
      'and CR-dot-CR too:\r.\rQUIT\r',
      '\r\n.\r\n',
      'last line without a line end',
    ].join('');
    const before = { alice: await countAll(inst, ALICE), bob: await countAll(inst, BOB) };
    const conn = await open();
    assert.equal(conn.tls?.verified, true, 'the MX certificate verifies for its name');
    assert.equal(conn.capabilities.pipelining, true);
    const r = await conn.send({
      mailFrom: 'sender@example.org',
      rcptTo: [ALICE],
      data: Buffer.from(content, 'latin1'),
      requireUtf8: false,
      eightBit: false,
    });
    await conn.quit();
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.code]),
      [['ok', 250]],
      JSON.stringify(r.recipients),
    );
    assert.equal(await countAll(inst, ALICE), before.alice + 1, 'exactly one message for alice');
    assert.equal(await countAll(inst, BOB), before.bob, 'nothing smuggled to bob');
    const stored = (await readMailbox(inst, ALICE)).find((m) => m.summary.messageId === `<${id}>`);
    assert.ok(stored);
    assert.equal(fromOwnHeaders(stored.raw, 'From: sender@example.org'), normalise(content));
    assert.match(stored.raw, /with ESMTPS/, 'received over TLS');
  });

  it('reports per-recipient outcomes from the real MX and reuses the connection', async () => {
    const conn = await open();
    const mk = (n: number) =>
      Buffer.from(
        `From: s@example.org\r\nSubject: reuse ${n}\r\nMessage-ID: <reuse-${n}@example.org>\r\n\r\nbody ${n}\r\n`,
      );
    const r1 = await conn.send({
      mailFrom: 's@example.org',
      rcptTo: ['nobody@sealpost.test', ALICE, BOB],
      data: mk(1),
      requireUtf8: false,
      eightBit: false,
    });
    assert.deepEqual(
      r1.recipients.map((o) => [o.address, o.kind, o.phase, o.code]),
      [
        ['nobody@sealpost.test', 'permanent', 'rcpt', 550],
        [ALICE, 'ok', 'data', 250],
        [BOB, 'ok', 'data', 250],
      ],
    );
    assert.match(r1.recipients[0]!.enhanced ?? '', /^5\.1\.\d$/);
    const r2 = await conn.send({
      mailFrom: '',
      rcptTo: [BOB],
      data: mk(2),
      requireUtf8: false,
      eightBit: false,
    });
    assert.equal(r2.recipients[0]!.kind, 'ok', 'a bounce (null sender) on the same connection');
    const r3 = await conn.send({
      mailFrom: 's@example.org',
      rcptTo: ['nobody@sealpost.test'],
      data: mk(3),
      requireUtf8: false,
      eightBit: false,
    });
    assert.equal(r3.recipients[0]!.kind, 'permanent');
    assert.equal(conn.state, 'ready', 'RSET after a transaction without DATA');
    const r4 = await conn.send({
      mailFrom: 's@example.org',
      rcptTo: [ALICE],
      data: mk(4),
      requireUtf8: false,
      eightBit: false,
    });
    assert.equal(r4.recipients[0]!.kind, 'ok');
    await conn.quit();
    const subjects = (await readMailbox(inst, BOB)).map((m) => m.summary.subject);
    assert.ok(subjects.includes('reuse 1') && subjects.includes('reuse 2'));
  });

  it('delivers UTF-8 (SMTPUTF8, 8BITMIME) intact', async () => {
    const content = `From: s@example.org\r\nTo: ${ALICE}\r\nSubject: caf\u00e9 \u2615\r\nMessage-ID: <utf8-1@example.org>\r\n\r\nd\u00e9j\u00e0 vu \u2014 \u65e5\u672c\u8a9e\r\n`;
    const conn = await open();
    assert.equal(conn.capabilities.smtpUtf8, true);
    const r = await conn.send({
      mailFrom: 's@example.org',
      rcptTo: [ALICE],
      data: Buffer.from(content, 'utf8'),
      requireUtf8: true,
      eightBit: true,
    });
    await conn.quit();
    assert.equal(r.recipients[0]!.kind, 'ok', JSON.stringify(r.recipients));
    const stored = (await readMailbox(inst, ALICE)).find(
      (m) => m.summary.messageId === '<utf8-1@example.org>',
    );
    assert.ok(stored);
    assert.equal(fromOwnHeaders(stored.raw, 'From: s@example.org'), content);
  });

  it('streams a large message with bare line ends (several MB) and it arrives byte for byte', async () => {
    const line = (i: number) =>
      `${i % 7 === 0 ? '.' : ''}line ${i} ${'x'.repeat(60)}${i % 3 === 0 ? '\n' : i % 3 === 1 ? '\r' : '\r\n'}`;
    const body = Array.from({ length: 60_000 }, (_, i) => line(i)).join('');
    const content = `From: big@example.org\r\nSubject: big\r\nMessage-ID: <big-1@example.org>\r\n\r\n${body}`;
    const conn = await open();
    const r = await conn.send({
      mailFrom: 'big@example.org',
      rcptTo: [ALICE],
      data: Buffer.from(content),
      requireUtf8: false,
      eightBit: false,
    });
    await conn.quit();
    assert.equal(r.recipients[0]!.kind, 'ok', JSON.stringify(r.recipients));
    const stored = (await readMailbox(inst, ALICE)).find(
      (m) => m.summary.messageId === '<big-1@example.org>',
    );
    assert.ok(stored);
    assert.equal(fromOwnHeaders(stored.raw, 'From: big@example.org'), normalise(content));
  });

  it('opportunistic mode without a trust anchor still encrypts and reports the unverified certificate', async () => {
    const conn = await open({ servername: 'wrong.example.net', tls: { mode: 'opportunistic' } });
    assert.ok(conn.tls !== null);
    assert.equal(conn.tls.verified, false);
    assert.ok(conn.tls.verifyReason !== null);
    await conn.quit();
    await assert.rejects(open({ servername: 'wrong.example.net' }), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, 'tls');
      assert.match(e.message, /certificate refused/);
      return true;
    });
  });
});
