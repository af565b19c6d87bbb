// The outbound SMTP client against hostile and failing next hops (test/support/
// smtp-peer.ts): STARTTLS response injection, required TLS with a refused certificate
// (no MAIL FROM ever written), reply bombs, silence, 421, out-of-turn replies, and
// pipelined replies split across packets.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  esmtp,
  FAST_TIMEOUTS as FAST,
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

describe('SMTP client: hostile and failing next hops', () => {
  it('aborts when the server injects a reply behind its STARTTLS 220 (CVE-2011-0411 class)', async () => {
    const p = await kit.peer(esmtp({ tls: kit.cert, starttlsReply: '220 Ready\r\n250 injected\r\n' }));
    for (const mode of ['opportunistic', 'required'] as const) {
      await assert.rejects(
        kit.open(p, { tls: { mode } }),
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
    const p = await kit.peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250-peer.test\r\n250 STARTTLS\r\n');
      await s.readLine();
      await s.writeSplit('220 Ready\r\n250-injected\r\n', [11], 0);
      await s.readLine();
    });
    await assert.rejects(kit.open(p, { tls: { mode: 'opportunistic' } }), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError);
      assert.ok(
        e.kind === 'protocol' || (e.kind === 'tls' && e.tls?.reason === 'handshake'),
        `${e.kind}: ${e.message}`,
      );
      return true;
    });
  });

  it('with required TLS and a failing verify callback, no MAIL FROM is ever sent', async () => {
    const p = await kit.peer(esmtp({ tls: kit.cert }));
    let called = 0;
    const verify = () => {
      called++;
      return { ok: false, reason: 'MTA-STS: certificate does not match mx.peer.test' };
    };
    await assert.rejects(kit.open(p, { tls: { mode: 'required', verify } }), (e: unknown) => {
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
    const p = await kit.peer(esmtp({ tls: kit.cert }));
    const conn = await kit.open(p, {
      tls: { mode: 'opportunistic', verify: () => ({ ok: false, reason: 'no match' }) },
    });
    assert.deepEqual([conn.tls?.verified, conn.tls?.verifyReason], [false, 'no match']);
    assert.equal((await conn.send(kit.message())).recipients[0]!.kind, 'ok');
    await conn.quit();
    assert.ok(!p.sessions.at(-1)!.cleartext.includes('MAIL'));
  });

  it('with required TLS and no STARTTLS offered, fails before MAIL (not-offered)', async () => {
    const p = await kit.peer(esmtp());
    await assert.rejects(kit.open(p, { tls: { mode: 'required' } }), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError && e.kind === 'tls' && e.tls?.reason === 'not-offered');
      return true;
    });
    const t = await settled(p);
    assert.equal(t, 'EHLO sealpost.example.com\r\nQUIT\r\n');
  });

  it('a failed handshake in opportunistic mode is a tls error that allows a cleartext retry', async () => {
    const p = await kit.peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250-peer.test\r\n250 STARTTLS\r\n');
      await s.readLine();
      s.write('220 go\r\n');
      await s.readLine(); // the ClientHello is not a line; wait for the client to give up
    });
    await assert.rejects(
      kit.open(p, { tls: { mode: 'opportunistic' }, timeouts: { ...FAST, tlsHandshake: 300 } }),
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
    const bomb = await kit.peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250-x\r\n'.repeat(1000));
      await s.readLine();
    });
    await assert.rejects(kit.open(bomb), isError('protocol', /longer than 200 lines/));
    const long = await kit.peer(async (s) => {
      s.write(`220 ${'x'.repeat(100_000)}`);
      await s.readLine();
    });
    await assert.rejects(kit.open(long), isError('protocol', /longer than 4096 octets/));
    const bad = await kit.peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250-peer.test\r\n220 changed\r\n');
      await s.readLine();
    });
    await assert.rejects(kit.open(bad), isError('protocol', /changed code/));
  });

  it('times out a server that never greets', async () => {
    const p = await kit.peer(async (s) => {
      await s.readLine();
    });
    await assert.rejects(kit.open(p, { timeouts: { ...FAST, greeting: 200 } }), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError);
      assert.deepEqual([e.kind, e.phase, e.temporary], ['timeout', 'greeting', true]);
      return true;
    });
  });

  it('reports a 554 greeting as a refusal and says QUIT', async () => {
    const p = await kit.peer(esmtp({ greeting: '554 5.7.1 no service for you\r\n' }));
    await assert.rejects(kit.open(p), (e: unknown) => {
      assert.ok(e instanceof SmtpClientError);
      assert.deepEqual([e.kind, e.phase, e.temporary, e.reply?.code], ['reply', 'greeting', false, 554]);
      return true;
    });
    assert.equal(await settled(p), 'QUIT\r\n');
  });

  it('a 421 mid-session makes every pending recipient temporary and closes the connection', async () => {
    const p = await kit.peer(
      esmtp({ reply: (l) => (l.includes('<second@') ? '421 4.3.2 shutting down\r\n' : undefined) }),
    );
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const r = await conn.send(
      kit.message({ rcptTo: ['first@peer.test', 'second@peer.test', 'third@peer.test'] }),
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
    await assert.rejects(conn.send(kit.message()), isError('usage'));
    await conn.quit(); // harmless when closed
  });

  it('times out a final reply that never comes, with the data marked as sent', async () => {
    const q = await kit.peer(async (s) => {
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
    const conn = await kit.open(q, { tls: { mode: 'none' }, timeouts: { ...FAST, dataFinal: 200 } });
    const r = await conn.send(kit.message());
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
    const p = await kit.peer(
      esmtp({
        messages,
        splitReplies: true,
        reply: (l) => (l.includes('<no@') ? '550-5.1.1 no such\r\n550 5.1.1 user here\r\n' : undefined),
      }),
    );
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const rcptTo = ['a1@peer.test', 'no@peer.test', 'a3@peer.test'];
    const r = await conn.send(kit.message({ rcptTo }));
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
    const p = await kit.peer(esmtp({ reply: (l) => (l.startsWith('MAIL') ? '354 what\r\n' : undefined) }));
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    const r = await conn.send(kit.message());
    assert.equal(r.error?.kind, 'protocol');
    assert.equal(r.recipients[0]!.kind, 'temporary');
    assert.equal(conn.state, 'closed');
  });

  it('honours a 421 that arrived while the session was idle, and refuses other out-of-turn replies', async () => {
    /** A peer that refuses every RCPT and, after the RSET's 250, sends `extra` out of turn. */
    const outOfTurn = (extra: string) =>
      kit.peer(
        esmtp({
          reply: (l, s) => {
            if (l.startsWith('RCPT')) return '550 5.1.1 no\r\n';
            if (!l.startsWith('RSET')) return undefined;
            s.write(`250 ok\r\n${extra}`);
            return '';
          },
        }),
      );
    const closing = await outOfTurn('421 4.4.2 idle timeout\r\n');
    const c1 = await kit.open(closing, { tls: { mode: 'none' } });
    assert.equal((await c1.send(kit.message())).recipients[0]!.kind, 'permanent');
    // The 421 came in the same write as the RSET's 250: it waits in the reader while idle.
    const second = await c1.send(kit.message());
    assert.deepEqual(
      second.recipients.map((o) => [o.kind, o.code]),
      [['temporary', 421]],
    );
    assert.equal(second.error?.kind, 'reply');
    assert.equal(c1.state, 'closed');
    assert.equal((await settled(closing)).split('MAIL FROM').length, 2, 'no second MAIL after the 421');

    const stray = await outOfTurn('250 stray\r\n');
    const c2 = await kit.open(stray, { tls: { mode: 'none' } });
    await c2.send(kit.message());
    const third = await c2.send(kit.message());
    assert.equal(third.error?.kind, 'protocol');
    assert.match(third.error?.message ?? '', /unsolicited 250 reply/);
    assert.equal(c2.state, 'closed');
  });

  it('a connection the server dropped while idle is closed, and send() says so', async () => {
    const p = await kit.peer(async (s) => {
      s.write('220 peer.test\r\n');
      await s.readLine();
      s.write('250 peer.test\r\n');
      s.destroy();
    });
    const conn = await kit.open(p, { tls: { mode: 'none' } });
    for (let i = 0; i < 100 && conn.state !== 'closed'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(conn.state, 'closed');
    await assert.rejects(conn.send(kit.message()), isError('usage'));
    await conn.quit();
  });

  it('refuses a next hop below the TLS policy (TLS 1.1, or CBC-only TLS 1.2)', async () => {
    const weak = [
      { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' },
      { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA' },
    ] as const;
    for (const tlsOverrides of weak) {
      const p = await kit.peer(esmtp({ tls: kit.cert, tlsOverrides }));
      await assert.rejects(kit.open(p, { tls: { mode: 'opportunistic' } }), (e: unknown) => {
        assert.ok(e instanceof SmtpClientError && e.kind === 'tls', String(e));
        assert.deepEqual([e.tls?.reason, e.tls?.cleartextRetryAllowed], ['handshake', true]);
        return true;
      });
      assert.ok(!(await settled(p)).includes('MAIL'));
    }
  });

  it('refuses an EHLO name that could inject a command, before connecting', async () => {
    const p = await kit.peer(esmtp());
    await assert.rejects(
      kit.open(p, { localName: 'a.example\r\nMAIL FROM:<x@y>' }),
      isError('usage', /localName/),
    );
    assert.equal(p.sessions.length, 0, 'no connection made');
  });
});
