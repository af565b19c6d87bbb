// STARTTLS response injection on the client side of outbound delivery (CVE-2011-0411
// class, here from the server side: a hostile next hop sends "220 go ahead" and a
// forged "250" in the same packet, so a careless client would read the injected reply
// as the first answer over TLS). A full Sealpost sender (submission, queue, MX lookup,
// delivery/remote.ts) delivers to a hostile MX on 127.0.0.1: the client aborts, no
// MAIL FROM, RCPT or data reaches the peer in any session, and the message stays
// queued for a later attempt. The unit-level cases are in
// src/delivery/smtp-client-hostile.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DnsTestServer, startDnsServer } from '../support/dns-server.ts';
import { senderEnv, submit, waitFor } from '../support/outbound.ts';
import { type InProcess, type Installation, install, openStore, startInProcess } from '../support/server.ts';
import { esmtp, PeerKit, type SmtpPeer } from '../support/smtp-peer.ts';
import { useWatchdog } from '../support/watchdog.ts';

const ALICE = 'alice@sender.test';

describe('outbound delivery to a next hop that injects behind its STARTTLS reply', () => {
  let dns: DnsTestServer;
  let kit: PeerKit;
  let peer: SmtpPeer;
  let sender: Installation;
  let srv: InProcess;
  let submissionPort: number;

  before(async () => {
    dns = await startDnsServer();
    kit = await PeerKit.create();
    peer = await kit.peer(
      esmtp({
        extensions: ['PIPELINING', '8BITMIME', 'SIZE 10000000', 'ENHANCEDSTATUSCODES', 'STARTTLS'],
        tls: kit.cert,
        // One packet: the go-ahead and a forged multi-line EHLO answer behind it.
        starttlsReply: '220 2.0.0 go ahead\r\n250-evil.example\r\n250 AUTH PLAIN\r\n',
      }),
    );
    sender = await install({
      domains: ['sender.test'],
      users: [ALICE],
      env: {
        ...senderEnv({
          dnsPort: dns.port,
          hostname: 'mx.sender.test',
          sourceAddress: '127.0.0.1',
          remotePort: peer.port,
        }),
        SEALPOST_DELIVERY_FIRST_RETRY_SECONDS: '1',
      },
    });
    dns.set('evil.test', 'MX', [{ preference: 10, exchange: 'mx.evil.test' }]);
    dns.set('mx.evil.test', 'A', ['127.0.0.1']);
    srv = await startInProcess(sender);
    submissionPort = srv.server.listening.find((l) => l.role === 'submission' && l.security === 'tls')!.port;
  });
  useWatchdog('outbound STARTTLS injection');

  after(async () => {
    await srv?.server.stop();
    await kit?.close();
    await dns?.close();
    await sender?.cleanup();
  });

  it('aborts after the injected reply: nothing of the message is sent, it stays queued', async () => {
    await submit(submissionPort, ALICE, { to: 'victim@evil.test', subject: 'secret', text: 'secret body' });
    // Two attempts at least (the first retry is 1 s later): neither sends anything.
    await waitFor('two delivery attempts', () => (peer.sessions.length >= 2 ? true : null), 15_000);
    await sleep(200);
    for (const s of peer.sessions) {
      assert.match(s.cleartext, /^EHLO mx\.sender\.test\r\nSTARTTLS\r\n/, s.transcript);
      assert.doesNotMatch(s.transcript, /MAIL FROM|RCPT TO|secret/i, s.transcript);
      assert.doesNotMatch(s.transcript, /AUTH/, 'the forged AUTH offer is never acted on');
    }
    const rt = await openStore(sender);
    try {
      const queued = await rt.store.listQueue(10);
      assert.equal(queued.length, 1);
      const r = queued[0]!.recipients[0]!;
      assert.equal(r.state, 'queued', 'deferred, not delivered and not bounced');
      assert.ok(r.attempts >= 1);
    } finally {
      await rt.close();
    }
  });
});
