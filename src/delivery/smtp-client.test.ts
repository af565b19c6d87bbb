// The outbound SMTP client against test/support/smtp-peer.ts: well-behaved, odd and
// hostile next hops over real sockets and real TLS.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  esmtp,
  type PeerCertificate,
  type PeerMessage,
  type PeerScript,
  SmtpPeer,
} from '../../test/support/smtp-peer.ts';
import { generateDevCertificate } from '../tls/dev-certificate.ts';
import { SmtpClientConnection, SmtpClientError, type SmtpClientOptions } from './smtp-client.ts';

const FAST = {
  connect: 2000,
  greeting: 2000,
  command: 2000,
  tlsHandshake: 2000,
  mail: 2000,
  rcpt: 2000,
  dataInit: 2000,
  dataBlock: 2000,
  dataFinal: 2000,
};
const MSG = Buffer.from('From: a@example.com\r\nTo: b@peer.test\r\nSubject: hi\r\n\r\nHello.\r\n');

let cert: PeerCertificate;
const peers: SmtpPeer[] = [];

before(async () => {
  cert = await generateDevCertificate({ hostnames: ['mx.peer.test'] });
});
after(async () => {
  for (const p of peers) await p.close();
});

async function peer(script: PeerScript): Promise<SmtpPeer> {
  const p = await SmtpPeer.start(script);
  peers.push(p);
  return p;
}

function open(p: SmtpPeer, extra: Partial<SmtpClientOptions> = {}): Promise<SmtpClientConnection> {
  return SmtpClientConnection.open({
    host: '127.0.0.1',
    port: p.port,
    servername: 'mx.peer.test',
    localName: 'sealpost.example.com',
    timeouts: FAST,
    tls: { mode: 'opportunistic' },
    ...extra,
  });
}

const message = (over: Partial<Parameters<SmtpClientConnection['send']>[0]> = {}) => ({
  mailFrom: 'a@example.com',
  rcptTo: ['b@peer.test'],
  data: MSG,
  requireUtf8: false,
  eightBit: false,
  ...over,
});

/** Wait until the peer's last session has seen QUIT or ended (the peer runs on its own). */
async function settled(p: SmtpPeer): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const s = p.sessions.at(-1);
    if (s?.ended || s?.transcript.includes('QUIT')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  return p.sessions.at(-1)?.transcript ?? '';
}

function isError(kind: SmtpClientError['kind'], re?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof SmtpClientError, String(e));
    assert.equal(e.kind, kind, e.message);
    if (re) assert.match(e.message, re);
    return true;
  };
}

describe('SMTP client: sessions', () => {
  it('upgrades with STARTTLS, EHLOs again, pipelines and delivers stuffed data (opportunistic, self-signed reported)', async () => {
    const messages: PeerMessage[] = [];
    const p = await peer(esmtp({ tls: cert, messages }));
    const conn = await open(p);
    assert.equal(conn.tls?.protocol, 'TLSv1.3');
    assert.equal(conn.tls?.verified, false, 'self-signed and no trust anchor: reported, not enforced');
    assert.equal(conn.capabilities.startTls, false, 'post-TLS EHLO no longer offers STARTTLS');
    assert.equal(conn.capabilities.pipelining, true);
    const r = await conn.send(message({ data: Buffer.from('Subject: x\n\n.hidden\n.\nend') }));
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
    const p = await peer(
      esmtp({
        tls: cert,
        extensions: ['8BITMIME', 'SMTPUTF8', 'PIPELINING'],
        extensionsAfterTls: ['SIZE 100'],
      }),
    );
    const conn = await open(p);
    assert.deepEqual(
      [
        conn.capabilities.smtpUtf8,
        conn.capabilities.eightBitMime,
        conn.capabilities.pipelining,
        conn.capabilities.size,
      ],
      [false, false, false, 100],
    );
    const r = await conn.send(message({ requireUtf8: true }));
    assert.equal(r.recipients[0]!.enhanced, '5.6.7', 'SMTPUTF8 offered only in cleartext does not count');
    await conn.quit();
  });

  it('a verify callback that throws counts as a refusal', async () => {
    const p = await peer(esmtp({ tls: cert }));
    const verify = () => {
      throw new Error('resolver down');
    };
    await assert.rejects(
      open(p, { tls: { mode: 'required', verify } }),
      isError('tls', /verify callback failed: resolver down/),
    );
  });

  it('verifies the certificate with the given trust anchor when TLS is required', async () => {
    const p = await peer(esmtp({ tls: cert }));
    const conn = await open(p, { tls: { mode: 'required', ca: cert.certPem } });
    assert.equal(conn.tls?.verified, true);
    assert.equal((await conn.send(message())).recipients[0]!.kind, 'ok');
    await conn.quit();
  });

  it('runs several transactions on one connection; a refused MAIL is followed by RSET', async () => {
    const messages: PeerMessage[] = [];
    const p = await peer(
      esmtp({ messages, reply: (l) => (l.includes('<bad@') ? '550 5.7.1 sender refused\r\n' : undefined) }),
    );
    const conn = await open(p, { tls: { mode: 'none' } });
    const r1 = await conn.send(
      message({ mailFrom: 'bad@example.com', rcptTo: ['x@peer.test', 'y@peer.test'] }),
    );
    assert.deepEqual(
      r1.recipients.map((o) => [o.kind, o.phase, o.enhanced]),
      [
        ['permanent', 'mail', '5.7.1'],
        ['permanent', 'mail', '5.7.1'],
      ],
    );
    const r2 = await conn.send(message());
    assert.equal(r2.recipients[0]!.kind, 'ok');
    const r3 = await conn.send(message({ rcptTo: ['c@peer.test'] }));
    assert.equal(r3.recipients[0]!.kind, 'ok');
    await conn.quit();
    assert.equal(messages.length, 2);
    const t = await settled(p);
    assert.match(t, /MAIL FROM:<bad@example\.com>[\s\S]*RSET\r\nMAIL FROM:<a@example\.com>/);
  });

  it('sends RSET, not DATA, when no recipient is accepted, and reports each recipient', async () => {
    const p = await peer(
      esmtp({
        reply: (l) =>
          l.startsWith('RCPT')
            ? l.includes('<t@')
              ? '451 4.2.1 later\r\n'
              : '550 5.1.1 unknown\r\n'
            : undefined,
      }),
    );
    const conn = await open(p, { tls: { mode: 'none' } });
    const r = await conn.send(message({ rcptTo: ['t@peer.test', 'u@peer.test'] }));
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
    const p = await peer(
      esmtp({
        refuseEhlo: true,
        messages,
        reply: (_l, s) => {
          if (s.hasLine) pipelined = true; // a second command arrived before this one's reply
          return undefined;
        },
      }),
    );
    const conn = await open(p);
    assert.equal(conn.capabilities.pipelining, false);
    assert.equal(conn.tls, null, 'opportunistic without STARTTLS: cleartext');
    const r = await conn.send(message({ rcptTo: ['b@peer.test', 'c@peer.test'] }));
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
    const p = await peer(esmtp({ messages, extensions: ['8BITMIME', 'SMTPUTF8', 'DSN', 'SIZE'] }));
    const conn = await open(p, { tls: { mode: 'none' } });
    const data = Buffer.from('Subject: caf\u00e9\r\n\r\nd\u00e9j\u00e0\r\n');
    const r = await conn.send(
      message({
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
    const p = await peer(esmtp({ extensions: sevenBit }));
    const conn = await open(p, { tls: { mode: 'none' } });
    const r = await conn.send(message({ requireUtf8: true }));
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.enhanced, o.phase]),
      [['permanent', '5.6.7', 'local']],
    );
    const u = await conn.send(message({ rcptTo: ['j\u00fcrgen@peer.test'] }));
    assert.equal(u.recipients[0]!.enhanced, '5.6.7', 'a non-ASCII address needs SMTPUTF8 too');
    assert.equal(conn.state, 'ready');
    await conn.quit();
    assert.ok(!(await settled(p)).includes('MAIL'), 'no MAIL FROM sent');
  });

  it('refuses 8-bit content to a 7-bit server with 5.6.3, even when the caller did not flag it', async () => {
    const p = await peer(esmtp({ extensions: sevenBit }));
    const conn = await open(p, { tls: { mode: 'none' } });
    const r = await conn.send(message({ data: Buffer.from('Subject: x\r\n\r\n\u00e9\r\n') }));
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.enhanced]),
      [['permanent', '5.6.3']],
    );
    assert.match(r.recipients[0]!.text, /8BITMIME/);
    await conn.quit();
    assert.ok(!(await settled(p)).includes('MAIL'));
  });

  it('refuses a message over the advertised SIZE with 5.3.4 before MAIL', async () => {
    const p = await peer(esmtp({ extensions: sevenBit }));
    const conn = await open(p, { tls: { mode: 'none' } });
    const r = await conn.send(message({ data: Buffer.alloc(600, 0x61) }));
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.code, o.enhanced]),
      [['permanent', 552, '5.3.4']],
    );
    assert.match(r.recipients[0]!.text, /602 octets\) exceeds .* 500 octets/);
    const ok = await conn.send(message({ data: Buffer.alloc(498, 0x61) }));
    assert.equal(ok.recipients[0]!.kind, 'ok', '498 + CRLF = 500 fits');
    await conn.quit();
  });

  it('never writes an envelope address that could inject a command', async () => {
    const messages: PeerMessage[] = [];
    const p = await peer(esmtp({ messages }));
    const conn = await open(p, { tls: { mode: 'none' } });
    const r = await conn.send(
      message({ rcptTo: ['x@peer.test>\r\nRCPT TO:<evil@peer.test', 'ok@peer.test'] }),
    );
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.enhanced, o.phase]),
      [
        ['permanent', '5.1.3', 'local'],
        ['ok', '2.0.0', 'data'],
      ],
    );
    const s = await conn.send(message({ mailFrom: 'a@example.com>\r\nRSET' }));
    assert.deepEqual(
      s.recipients.map((o) => o.enhanced),
      ['5.1.7'],
    );
    await conn.quit();
    assert.ok(!(await settled(p)).includes('evil'), 'injected recipient never written');
    assert.deepEqual(messages[0]!.rcptTo, ['RCPT TO:<ok@peer.test>']);
  });

  it('throws when send() is used on a closed connection', async () => {
    const p = await peer(esmtp());
    const conn = await open(p, { tls: { mode: 'none' } });
    await conn.quit();
    await assert.rejects(conn.send(message()), isError('usage'));
  });
});

describe('SMTP client: hostile and failing next hops', () => {
  it('aborts when the server injects a reply behind its STARTTLS 220 (CVE-2011-0411 class)', async () => {
    const p = await peer(esmtp({ tls: cert, starttlsReply: '220 Ready\r\n250 injected\r\n' }));
    for (const mode of ['opportunistic', 'required'] as const) {
      await assert.rejects(
        open(p, { tls: { mode } }),
        isError('protocol', /after its STARTTLS reply \(response injection\)/),
      );
    }
    const t = await settled(p);
    assert.ok(!t.includes('MAIL'), 'nothing sent after the injection');
    assert.ok(
      p.sessions.every((s) => !s.transcript.includes('<TLS>EHLO')),
      'no EHLO read the injected reply',
    );
  });

  it('aborts on injected bytes that arrive in a separate packet before the handshake', async () => {
    const p = await peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250-peer.test\r\n250 STARTTLS\r\n');
      await s.readLine();
      await s.writeSplit('220 Ready\r\n250-injected\r\n', [11], 0);
      await s.readLine();
    });
    await assert.rejects(open(p, { tls: { mode: 'opportunistic' } }), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError);
      assert.ok(
        e.kind === 'protocol' || (e.kind === 'tls' && e.tls?.reason === 'handshake'),
        `${e.kind}: ${e.message}`,
      );
      return true;
    });
  });

  it('with required TLS and a failing verify callback, no MAIL FROM is ever sent', async () => {
    const p = await peer(esmtp({ tls: cert }));
    let called = 0;
    const verify = () => {
      called++;
      return { ok: false, reason: 'MTA-STS: certificate does not match mx.peer.test' };
    };
    await assert.rejects(open(p, { tls: { mode: 'required', verify } }), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError);
      assert.equal(e.kind, 'tls');
      assert.equal(e.tls?.reason, 'verify');
      assert.equal(e.tls?.cleartextRetryAllowed, false);
      assert.match(e.message, /MTA-STS: certificate does not match/);
      return true;
    });
    assert.equal(called, 1);
    await new Promise((r) => setTimeout(r, 50));
    const s = p.sessions.at(-1)!;
    assert.equal(s.cleartext, 'EHLO sealpost.example.com\r\nSTARTTLS\r\n');
    assert.ok(!s.transcript.includes('MAIL'), 'no MAIL FROM in clear or over the refused TLS session');
  });

  it('with opportunistic TLS the same refusal is reported and delivery goes on encrypted', async () => {
    const p = await peer(esmtp({ tls: cert }));
    const conn = await open(p, {
      tls: { mode: 'opportunistic', verify: () => ({ ok: false, reason: 'no match' }) },
    });
    assert.deepEqual([conn.tls?.verified, conn.tls?.verifyReason], [false, 'no match']);
    assert.equal((await conn.send(message())).recipients[0]!.kind, 'ok');
    await conn.quit();
    assert.ok(!p.sessions.at(-1)!.cleartext.includes('MAIL'));
  });

  it('with required TLS and no STARTTLS offered, fails before MAIL (not-offered)', async () => {
    const p = await peer(esmtp());
    await assert.rejects(open(p, { tls: { mode: 'required' } }), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError && e.kind === 'tls' && e.tls?.reason === 'not-offered');
      return true;
    });
    const t = await settled(p);
    assert.equal(t, 'EHLO sealpost.example.com\r\nQUIT\r\n');
  });

  it('a failed handshake in opportunistic mode is a tls error that allows a cleartext retry', async () => {
    const p = await peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250-peer.test\r\n250 STARTTLS\r\n');
      await s.readLine();
      s.write('220 go\r\n');
      await s.readLine(); // the ClientHello is not a line; wait for the client to give up
    });
    await assert.rejects(
      open(p, { tls: { mode: 'opportunistic' }, timeouts: { ...FAST, tlsHandshake: 300 } }),
      (e: unknown) => {
        assert.ok(e instanceof SmtpClientError && e.kind === 'tls', String(e));
        assert.deepEqual(
          [e.tls?.reason, e.tls?.cleartextRetryAllowed, e.temporary],
          ['handshake', true, true],
        );
        return true;
      },
    );
  });

  it('refuses a reply with too many lines and a reply line that is too long', async () => {
    const bomb = await peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250-x\r\n'.repeat(1000));
      await s.readLine();
    });
    await assert.rejects(open(bomb), isError('protocol', /longer than 200 lines/));
    const long = await peer(async (s) => {
      s.write(`220 ${'x'.repeat(100_000)}`);
      await s.readLine();
    });
    await assert.rejects(open(long), isError('protocol', /longer than 4096 octets/));
    const bad = await peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250-peer.test\r\n220 changed\r\n');
      await s.readLine();
    });
    await assert.rejects(open(bad), isError('protocol', /changed code/));
  });

  it('times out a server that never greets', async () => {
    const p = await peer(async (s) => {
      await s.readLine();
    });
    await assert.rejects(open(p, { timeouts: { ...FAST, greeting: 200 } }), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError);
      assert.deepEqual([e.kind, e.phase, e.temporary], ['timeout', 'greeting', true]);
      return true;
    });
  });

  it('reports a 554 greeting as a refusal and says QUIT', async () => {
    const p = await peer(esmtp({ greeting: '554 5.7.1 no service for you\r\n' }));
    await assert.rejects(open(p), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError);
      assert.deepEqual([e.kind, e.phase, e.temporary, e.reply?.code], ['reply', 'greeting', false, 554]);
      return true;
    });
    assert.equal(await settled(p), 'QUIT\r\n');
  });

  it('a 421 mid-session makes every pending recipient temporary and closes the connection', async () => {
    const p = await peer(
      esmtp({ reply: (l) => (l.includes('<second@') ? '421 4.3.2 shutting down\r\n' : undefined) }),
    );
    const conn = await open(p, { tls: { mode: 'none' } });
    const r = await conn.send(
      message({ rcptTo: ['first@peer.test', 'second@peer.test', 'third@peer.test'] }),
    );
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.code]),
      [
        ['temporary', 421],
        ['temporary', 421],
        ['temporary', 421],
      ],
    );
    assert.equal(r.error?.kind, 'reply');
    assert.equal(r.dataSent, false);
    assert.equal(conn.state, 'closed');
    await assert.rejects(conn.send(message()), isError('usage'));
    await conn.quit(); // harmless when closed
  });

  it('times out a final reply that never comes, with the data marked as sent', async () => {
    const q = await peer(async (s) => {
      s.write('220 peer.test\r\n');
      for (;;) {
        const l = await s.readLine();
        if (l === null) return;
        if (l.startsWith('EHLO')) s.write('250 peer.test\r\n');
        else if (l.startsWith('DATA')) {
          s.write('354 go\r\n');
          await s.readData();
          await s.readLine(); // silent after the final dot
        } else s.write('250 ok\r\n');
      }
    });
    const conn = await open(q, { tls: { mode: 'none' }, timeouts: { ...FAST, dataFinal: 200 } });
    const r = await conn.send(message());
    assert.deepEqual(
      r.recipients.map((o) => [o.kind, o.phase, o.enhanced]),
      [['temporary', 'connection', '4.4.1']],
    );
    assert.equal(r.dataSent, true, 'the caller knows a duplicate is possible');
    assert.equal(r.error?.phase, 'data-final');
    assert.equal(conn.state, 'closed');
  });

  it('matches pipelined replies that arrive split across packets', async () => {
    const messages: PeerMessage[] = [];
    const p = await peer(
      esmtp({
        messages,
        splitReplies: true,
        reply: (l) => (l.includes('<no@') ? '550-5.1.1 no such\r\n550 5.1.1 user here\r\n' : undefined),
      }),
    );
    const conn = await open(p, { tls: { mode: 'none' } });
    const rcptTo = ['a1@peer.test', 'no@peer.test', 'a3@peer.test'];
    const r = await conn.send(message({ rcptTo }));
    assert.deepEqual(
      r.recipients.map((o) => [o.address, o.kind, o.phase, o.text]),
      [
        ['a1@peer.test', 'ok', 'data', 'queued'],
        ['no@peer.test', 'permanent', 'rcpt', 'no such user here'],
        ['a3@peer.test', 'ok', 'data', 'queued'],
      ],
    );
    await conn.quit();
    assert.deepEqual(messages[0]!.rcptTo, ['RCPT TO:<a1@peer.test>', 'RCPT TO:<a3@peer.test>']);
    const t = p.sessions[0]!.transcript;
    assert.match(
      t,
      /MAIL FROM:[^\r]*\r\nRCPT TO:<a1@peer.test>\r\nRCPT TO:<no@peer.test>\r\nRCPT TO:<a3@peer.test>\r\nDATA\r\n/,
    );
  });

  it('gives a protocol error (and closes) for a 3xx reply to MAIL', async () => {
    const p = await peer(esmtp({ reply: (l) => (l.startsWith('MAIL') ? '354 what\r\n' : undefined) }));
    const conn = await open(p, { tls: { mode: 'none' } });
    const r = await conn.send(message());
    assert.equal(r.error?.kind, 'protocol');
    assert.equal(r.recipients[0]!.kind, 'temporary');
    assert.equal(conn.state, 'closed');
  });
});
