// The outbound SMTP client against test/support/smtp-peer.ts: sessions, STARTTLS,
// pipelining and lockstep, several transactions, the downgrade rules and local
// refusals, over real sockets and real TLS. Hostile peers: smtp-client-hostile.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  esmtp,
  isClientError as isError,
  PeerKit,
  type PeerMessage,
  settled,
} from '../../test/support/smtp-peer.ts';
import { SmtpClientError } from './smtp-client.ts';

let kit: PeerKit;
before(async () => {
  kit = await PeerKit.create();
});
after(() => kit.close());

describe('SMTP client: sessions', () => {
  it('upgrades with STARTTLS, EHLOs again, pipelines and delivers stuffed data (opportunistic, self-signed reported)', async () => {
    const messages: PeerMessage[] = [];
    const p = await kit.peer(esmtp({ tls: kit.cert, messages }));
    const conn = await kit.open(p);
    assert.equal(conn.tls?.protocol, 'TLSv1.3');
    assert.equal(conn.tls?.verified, false, 'self-signed and no trust anchor: reported, not enforced');
    assert.equal(conn.capabilities.startTls, false, 'post-TLS EHLO no longer offers STARTTLS');
    assert.equal(conn.capabilities.pipelining, true);
    const r = await conn.send(kit.message({ data: Buffer.from('Subject: x\n\n.hidden\n.\nend') }));
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.code, o.enhanced, o.phase]),
      [['ok', 250, '2.0.0', 'data']],
    );
    assert.equal(r.error, null);
    assert.equal(conn.state, 'ready');
    await conn.quit();
    assert.equal(conn.state, 'closed');
    assert.equal(messages[0]!.data.toString(), 'Subject: x\r\n\r\n..hidden\r\n..\r\nend\r\n');
    const t = await settled(p);
    const clear = p.sessions[0]!.cleartext;
    assert.match(
      clear,
      /^EHLO sealpost\.example\.com\r\nSTARTTLS\r\n$/,
      'nothing but EHLO and STARTTLS in cleartext',
    );
    assert.match(
      t,
      /<TLS>EHLO sealpost\.example\.com\r\nMAIL FROM:<a@example\.com> SIZE=\d+\r\nRCPT TO:<b@peer\.test>\r\nDATA/,
    );
  });

  it('forgets the cleartext capabilities after STARTTLS (RFC 3207 §4.2)', async () => {
    const p = await kit.peer(
      esmtp({
        tls: kit.cert,
        extensions: ['8BITMIME', 'SMTPUTF8', 'PIPELINING'],
        extensionsAfterTls: ['SIZE 100'],
      }),
    );
    const conn = await kit.open(p);
    assert.deepEqual(
      [
        conn.capabilities.smtpUtf8,
        conn.capabilities.eightBitMime,
        conn.capabilities.pipelining,
        conn.capabilities.size,
      ],
      [false, false, false, 100],
    );
    const r = await conn.send(kit.message({ requireUtf8: true }));
    assert.equal(r.recipients[0]!.enhanced, '5.6.7', 'SMTPUTF8 offered only in cleartext does not count');
    await conn.quit();
  });

  it('a verify callback that throws counts as a refusal', async () => {
    const p = await kit.peer(esmtp({ tls: kit.cert }));
    const verify = () => {
      throw new Error('resolver down');
    };
    await assert.rejects(
      kit.open(p, { tls: { mode: 'required', verify } }),
      isError('tls', /verify callback failed: resolver down/),
    );
  });

  it('a refused STARTTLS (454) continues in cleartext when opportunistic and fails when required', async () => {
    const q = await kit.peer(
      esmtp({
        extensions: ['STARTTLS', 'PIPELINING'],
        reply: (l) => (l === 'STARTTLS' ? '454 4.7.0 TLS not available\r\n' : undefined),
      }),
    );
    const conn = await kit.open(q, { tls: { mode: 'opportunistic' } });
    assert.equal(conn.tls, null);
    assert.equal((await conn.send(kit.message())).recipients[0]!.kind, 'ok');
    await conn.quit();
    await assert.rejects(kit.open(q, { tls: { mode: 'required' } }), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError && e.kind === 'tls', String(e));
      assert.deepEqual([e.tls?.reason, e.tls?.cleartextRetryAllowed, e.reply?.code], ['refused', false, 454]);
      return true;
    });
    assert.ok(!(await settled(q)).includes('MAIL'), 'no MAIL on the required-TLS session');
  });

  it('verifies the certificate with the given trust anchor when TLS is required', async () => {
    const p = await kit.peer(esmtp({ tls: kit.cert }));
    const conn = await kit.open(p, { tls: { mode: 'required', ca: kit.cert.certPem } });
    assert.equal(conn.tls?.verified, true);
    assert.equal((await conn.send(kit.message())).recipients[0]!.kind, 'ok');
    await conn.quit();
  });

  it('runs several transactions on one connection; a refused MAIL is followed by RSET', async () => {
    const messages: PeerMessage[] = [];
    const p = await kit.peer(
      esmtp({ messages, reply: (l) => (l.includes('<bad@') ? '550 5.7.1 sender refused\r\n' : undefined) }),
    );
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const r1 = await conn.send(
      kit.message({ mailFrom: 'bad@example.com', rcptTo: ['x@peer.test', 'y@peer.test'] }),
    );
    assert.deepEqual(
      r1.recipients.map((o) => [o.kind, o.phase, o.enhanced]),
      [
        ['permanent', 'mail', '5.7.1'],
        ['permanent', 'mail', '5.7.1'],
      ],
    );
    const r2 = await conn.send(kit.message());
    assert.equal(r2.recipients[0]!.kind, 'ok');
    const r3 = await conn.send(kit.message({ rcptTo: ['c@peer.test'] }));
    assert.equal(r3.recipients[0]!.kind, 'ok');
    await conn.quit();
    assert.equal(messages.length, 2);
    const t = await settled(p);
    assert.match(t, /MAIL FROM:<bad@example\.com>[\s\S]*RSET\r\nMAIL FROM:<a@example\.com>/);
  });

  it('sends RSET, not DATA, when no recipient is accepted, and reports each recipient', async () => {
    const p = await kit.peer(
      esmtp({
        reply: (l) =>
          l.startsWith('RCPT')
            ? l.includes('<t@')
              ? '451 4.2.1 later\r\n'
              : '550 5.1.1 unknown\r\n'
            : undefined,
      }),
    );
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const r = await conn.send(kit.message({ rcptTo: ['t@peer.test', 'u@peer.test'] }));
    assert.deepEqual(
      r.recipients.map((o) => [o.address, o.kind, o.code, o.enhanced]),
      [
        ['t@peer.test', 'temporary', 451, '4.2.1'],
        ['u@peer.test', 'permanent', 550, '5.1.1'],
      ],
    );
    assert.equal(r.dataSent, false);
    await conn.quit();
    const t = await settled(p);
    assert.ok(!t.includes('DATA'), 'no DATA');
    assert.match(t, /RCPT TO:<u@peer\.test>\r\nRSET\r\nQUIT/);
  });

  it('falls back to HELO when EHLO gets 5xx and then works in lockstep without extensions', async () => {
    const messages: PeerMessage[] = [];
    let pipelined = false;
    const p = await kit.peer(
      esmtp({
        refuseEhlo: true,
        messages,
        reply: (_l, s) => {
          if (s.hasLine) pipelined = true; // a second command arrived before this one's reply
          return undefined;
        },
      }),
    );
    const conn = await kit.open(p);
    assert.equal(conn.capabilities.pipelining, false);
    assert.equal(conn.tls, null, 'opportunistic without STARTTLS: cleartext');
    const r = await conn.send(kit.message({ rcptTo: ['b@peer.test', 'c@peer.test'] }));
    assert.deepEqual(
      r.recipients.map((o) => o.kind),
      ['ok', 'ok'],
    );
    await conn.quit();
    assert.equal(messages.length, 1);
    assert.match(
      messages[0]!.mailFrom,
      /^MAIL FROM:<a@example\.com>$/,
      'no SIZE/BODY parameters to a HELO server',
    );
    assert.equal(pipelined, false, 'lockstep: one command per reply');
  });

  it('sends DSN and BODY/SMTPUTF8 parameters only when offered', async () => {
    const messages: PeerMessage[] = [];
    const p = await kit.peer(esmtp({ messages, extensions: ['8BITMIME', 'SMTPUTF8', 'DSN', 'SIZE'] }));
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const data = Buffer.from('Subject: caf\u00e9\r\n\r\nd\u00e9j\u00e0\r\n');
    const r = await conn.send(
      kit.message({
        data,
        requireUtf8: true,
        eightBit: true,
        envid: 'id+1=x',
        ret: 'HDRS',
        rcptTo: [{ address: 'b@peer.test', notify: ['FAILURE', 'DELAY'], orcpt: 'rfc822;b@peer.test' }],
      }),
    );
    assert.equal(r.recipients[0]!.kind, 'ok');
    await conn.quit();
    assert.match(
      messages[0]!.mailFrom,
      /^MAIL FROM:<a@example\.com> SIZE=\d+ BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id\+2B1\+3Dx$/,
    );
    assert.equal(
      messages[0]!.rcptTo[0],
      'RCPT TO:<b@peer.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@peer.test',
    );
    assert.deepEqual(messages[0]!.data, data);
  });
});

describe('SMTP client: downgrade and local refusals', () => {
  const sevenBit = ['PIPELINING', 'SIZE 500', 'ENHANCEDSTATUSCODES'];

  it('refuses SMTPUTF8 mail to a server without SMTPUTF8 with 5.6.7 and sends nothing', async () => {
    const p = await kit.peer(esmtp({ extensions: sevenBit }));
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const r = await conn.send(kit.message({ requireUtf8: true }));
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.enhanced, o.phase]),
      [['permanent', '5.6.7', 'local']],
    );
    const u = await conn.send(kit.message({ rcptTo: ['j\u00fcrgen@peer.test'] }));
    assert.equal(u.recipients[0]!.enhanced, '5.6.7', 'a non-ASCII address needs SMTPUTF8 too');
    assert.equal(conn.state, 'ready');
    await conn.quit();
    assert.ok(!(await settled(p)).includes('MAIL'), 'no MAIL FROM sent');
  });

  it('refuses 8-bit content to a 7-bit server with 5.6.3, even when the caller did not flag it', async () => {
    const p = await kit.peer(esmtp({ extensions: sevenBit }));
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const r = await conn.send(kit.message({ data: Buffer.from('Subject: x\r\n\r\n\u00e9\r\n') }));
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.enhanced]),
      [['permanent', '5.6.3']],
    );
    assert.match(r.recipients[0]!.text, /8BITMIME/);
    await conn.quit();
    assert.ok(!(await settled(p)).includes('MAIL'));
  });

  it('refuses a message over the advertised SIZE with 5.3.4 before MAIL', async () => {
    const p = await kit.peer(esmtp({ extensions: sevenBit }));
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const r = await conn.send(kit.message({ data: Buffer.alloc(600, 0x61) }));
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.code, o.enhanced]),
      [['permanent', 552, '5.3.4']],
    );
    assert.match(r.recipients[0]!.text, /602 octets\) exceeds .* 500 octets/);
    const ok = await conn.send(kit.message({ data: Buffer.alloc(498, 0x61) }));
    assert.equal(ok.recipients[0]!.kind, 'ok', '498 + CRLF = 500 fits');
    await conn.quit();
  });

  it('never writes an envelope address that could inject a command', async () => {
    const messages: PeerMessage[] = [];
    const p = await kit.peer(esmtp({ messages }));
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const r = await conn.send(
      kit.message({ rcptTo: ['x@peer.test>\r\nRCPT TO:<evil@peer.test', 'ok@peer.test'] }),
    );
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.enhanced, o.phase]),
      [
        ['permanent', '5.1.3', 'local'],
        ['ok', '2.0.0', 'data'],
      ],
    );
    const s = await conn.send(kit.message({ mailFrom: 'a@example.com>\r\nRSET' }));
    assert.deepEqual(
      s.recipients.map((o) => o.enhanced),
      ['5.1.7'],
    );
    await conn.quit();
    assert.ok(!(await settled(p)).includes('evil'), 'injected recipient never written');
    assert.deepEqual(messages[0]!.rcptTo, ['RCPT TO:<ok@peer.test>']);
  });

  it('throws when send() is used on a closed connection', async () => {
    const p = await kit.peer(esmtp());
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    await conn.quit();
    await assert.rejects(conn.send(kit.message()), isError('usage'));
  });
});
