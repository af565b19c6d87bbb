// Outbound mail between two Sealpost instances (issue 5, "Must show"): a sender on
// 127.0.0.2 and a receiver on 127.0.0.3 (port 25 when the tests run as root), DNS from
// one local DNS server both use. Mail submitted on the sender is DKIM-signed, queued,
// routed by MX and delivered over STARTTLS; the receiver's checks pass (DKIM with both
// signatures, SPF, DMARC). MTA-STS enforce with a certificate that does not match:
// nothing is sent, the message is deferred, then bounced with a clear DSN; a testing
// policy delivers.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DnsTestServer, startDnsServer } from '../support/dns-server.ts';
import { createTestCa, type HttpsTestServer, startHttpsServer } from '../support/https-server.ts';
import { readMailbox } from '../support/mailbox.ts';
import { publishSender, receiverEnv, senderEnv, submit, waitFor } from '../support/outbound.ts';
import {
  freePort,
  type InProcess,
  type Installation,
  install,
  openStore,
  runCli,
  startInProcess,
} from '../support/server.ts';

const ALICE = 'alice@sender.test';
const BOB = 'bob@receiver.test';
const CAROL = 'carol@strict.test';
const DAN = 'dan@testing.test';
const ERIN = 'erin@dane.test';
const FAY = 'fay@badane.test';

describe('outbound: submission on one instance, delivery to another', () => {
  let dns: DnsTestServer;
  let policyHost: HttpsTestServer;
  let sender: Installation;
  let receiver: Installation;
  let senderSrv: InProcess;
  let receiverSrv: InProcess;
  let submissionPort: number;
  let caFile: string;

  before(async () => {
    dns = await startDnsServer();
    const mxPort = process.getuid?.() === 0 ? 25 : await freePort();
    // MTA-STS policies are served by an HTTPS host whose certificate the sender trusts.
    const ca = await createTestCa();
    const policyCert = await ca.issue(['mta-sts.strict.test', 'mta-sts.testing.test']);
    policyHost = await startHttpsServer(policyCert.certPem, policyCert.keyPem);
    policyHost.handle((req, res) => {
      const mode = req.headers.host?.startsWith('mta-sts.strict.test') ? 'enforce' : 'testing';
      const mx = mode === 'enforce' ? 'mx.strict.test' : 'mx.testing.test';
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end(`version: STSv1\r\nmode: ${mode}\r\nmx: ${mx}\r\nmax_age: 86400\r\n`);
    });

    receiver = await install({
      domains: ['receiver.test', 'strict.test', 'testing.test', 'dane.test', 'badane.test'],
      users: [BOB, CAROL, DAN, ERIN, FAY],
      env: receiverEnv({ dnsPort: dns.port, hostname: 'mx.receiver.test', address: '127.0.0.3', mxPort }),
    });
    const { writeFileSync } = await import('node:fs');
    const path = await import('node:path');
    caFile = path.join(receiver.dir, 'test-ca.pem');
    writeFileSync(caFile, ca.certPem);
    sender = await install({
      domains: ['sender.test'],
      users: [ALICE],
      env: {
        ...senderEnv({
          dnsPort: dns.port,
          hostname: 'mx.sender.test',
          sourceAddress: '127.0.0.2',
          remotePort: mxPort,
        }),
        SEALPOST_DELIVERY_FIRST_RETRY_SECONDS: '1',
        SEALPOST_DELIVERY_MAX_RETRY_MINUTES: '1',
        SEALPOST_DELIVERY_QUEUE_LIFETIME_HOURS: '0.002', // 7.2 s: "later bounced" within the test
        SEALPOST_DELIVERY_TLS_CA_FILE: caFile,
        SEALPOST_DELIVERY_MTA_STS_PORT: String(policyHost.port),
        SEALPOST_DNS_DNSSEC: 'true', // the test DNS server sets AD=1 for zones marked secure
      },
    });

    // DNS: the receiver's domains (MX, MTA-STS, TLS-RPT, DANE) and the sender's SPF/DMARC/DKIM.
    dns.set('receiver.test', 'MX', [{ preference: 10, exchange: 'mx.receiver.test' }]);
    dns.set('mx.receiver.test', 'A', ['127.0.0.3']);
    dns.set('strict.test', 'MX', [{ preference: 10, exchange: 'mx.strict.test' }]);
    dns.set('mx.strict.test', 'A', ['127.0.0.3']);
    dns.set('_mta-sts.strict.test', 'TXT', ['v=STSv1; id=enforce1']);
    dns.set('mta-sts.strict.test', 'A', ['127.0.0.1']);
    dns.set('testing.test', 'MX', [{ preference: 10, exchange: 'mx.testing.test' }]);
    dns.set('mx.testing.test', 'A', ['127.0.0.3']);
    dns.set('_mta-sts.testing.test', 'TXT', ['v=STSv1; id=testing1']);
    dns.set('mta-sts.testing.test', 'A', ['127.0.0.1']);
    dns.set('_smtp._tls.testing.test', 'TXT', ['v=TLSRPTv1; rua=mailto:dan@testing.test']);
    // DANE: dane.test pins the receiver's key (DANE-EE, SPKI, SHA-256); badane.test pins another.
    const { X509Certificate, createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const receiverCert = new X509Certificate(readFileSync(receiver.config().tls.cert_file));
    const spki = receiverCert.publicKey.export({ type: 'spki', format: 'der' });
    for (const [zone, digest] of [
      ['dane.test', createHash('sha256').update(spki).digest()],
      ['badane.test', createHash('sha256').update('some other key').digest()],
    ] as const) {
      dns.set(zone, 'MX', [{ preference: 10, exchange: `mx.${zone}` }]);
      dns.set(`mx.${zone}`, 'A', ['127.0.0.3']);
      dns.set(`_25._tcp.mx.${zone}`, 'TLSA', [
        { usage: 3, selector: 1, matchingType: 1, certificate: digest },
      ]);
      dns.setSecure(zone);
    }
    await publishSender(sender, dns, 'sender.test', 'mx.sender.test', '127.0.0.2');

    receiverSrv = await startInProcess(receiver);
    senderSrv = await startInProcess(sender);
    submissionPort = senderSrv.server.listening.find(
      (l) => l.role === 'submission' && l.security === 'tls',
    )!.port;
  });

  after(async () => {
    await senderSrv?.server.stop();
    await receiverSrv?.server.stop();
    await policyHost?.close();
    await dns?.close();
    await sender?.cleanup();
    await receiver?.cleanup();
  });

  const send = (to: string, subject: string, text: string) =>
    submit(submissionPort, ALICE, { to, subject, text });

  it('delivers over TLS, DKIM-signed twice; DKIM, SPF and DMARC pass at the receiver', async () => {
    const body = 'Line one\n.\n..two dots\nlast line without newline';
    await send(BOB, 'Across instances', body);
    const got = await waitFor('delivery to bob', async () => {
      const list = await readMailbox(receiver, BOB);
      return list.length > 0 ? list[0]! : null;
    });
    const header = got.raw.split('\r\n\r\n')[0]!;
    assert.match(
      header,
      /Received: from mx\.sender\.test \(\[127\.0\.0\.2\]\)\r\n\tby mx\.receiver\.test \(Sealpost\) with ESMTPS /,
    );
    const results = /Authentication-Results: [^\r\n]*(?:\r\n[ \t][^\r\n]*)*/.exec(header)?.[0] ?? '';
    assert.match(results, /dkim=pass[^;]*header\.s=sp\d{6}e/, results);
    assert.match(results, /dkim=pass[^;]*header\.s=sp\d{6}r/, results);
    assert.match(results, /spf=pass/, results);
    assert.match(results, /dmarc=pass/, results);
    assert.equal((header.match(/^DKIM-Signature:/gm) ?? []).length, 2);
    assert.match(got.raw, /\r\n\.\r\n\.\.two dots\r\n/, 'dot lines arrive as written');
  });

  it('MTA-STS enforce with a certificate that does not match: nothing is sent; deferred, then bounced with a DSN', async () => {
    const mailFromsBefore = receiverSrv.server.runtime.store
      ? (await readMailbox(receiver, CAROL)).length
      : 0;
    const info = await send(CAROL, 'Must not travel', 'secret');
    const id = info.queueId;
    const deferred = await waitFor('a deferral', async () => {
      const r = await runCli(sender, ['queue', 'show', id, '--json']);
      if (r.code !== 0) return null;
      const m = JSON.parse(r.stdout) as {
        recipients: { attempts: number; lastStatus: { enhanced: string; text: string } }[];
      };
      return m.recipients[0]!.attempts > 0 ? m.recipients[0]! : null;
    });
    assert.equal(deferred.lastStatus.enhanced, '4.7.5', deferred.lastStatus.text);
    assert.match(
      deferred.lastStatus.text,
      /TLS with mx\.strict\.test failed and its policy forbids cleartext/,
    );
    const bounce = await waitFor('the bounce', async () => {
      const inbox = await readMailbox(sender, ALICE);
      return inbox.find((m) => /Undelivered/.test(m.summary.subject ?? '')) ?? null;
    });
    assert.match(bounce.raw, /Content-Type: multipart\/report; report-type=delivery-status/);
    // RFC 3463: 5.4.7 "delivery time expired", with the reason it never went out.
    assert.match(
      bounce.raw,
      /Final-Recipient: rfc822; carol@strict\.test\r\nAction: failed\r\nStatus: 5\.4\.7\r\nRemote-MTA: dns; mx\.strict\.test/,
    );
    assert.match(
      bounce.raw,
      /<carol@strict\.test>: 550 5\.4\.7 Delivery time expired after [\d.]+ hours; the last attempt: mx\.strict\.test: 451 4\.7\.5 TLS with mx\.strict\.test failed and its policy forbids cleartext/,
    );
    assert.match(bounce.raw, /Return-Path: <>/);
    assert.equal((await readMailbox(receiver, CAROL)).length, mailFromsBefore, 'the receiver never got it');
    assert.ok(
      policyHost.requests.some(
        (r) => r.host?.startsWith('mta-sts.strict.test') && r.path === '/.well-known/mta-sts.txt',
      ),
      'the policy was fetched',
    );
    // The policy is kept in the store for its max_age: a restart does not forget it.
    const rt = await openStore(sender);
    try {
      assert.match((await rt.store.getMtaStsPolicy('strict.test'))?.text ?? '', /mode: enforce/);
    } finally {
      await rt.close();
    }
  });

  it('a testing policy delivers despite the certificate, and the TLS-RPT report of the day says why it did not validate', async () => {
    await send(DAN, 'Testing policy', 'hello');
    const got = await waitFor('delivery to dan', async () => {
      const list = await readMailbox(receiver, DAN);
      return list.length > 0 ? list[0]! : null;
    });
    assert.match(got.raw, /with ESMTPS /);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(await senderSrv.server.tlsReports!.sendDay(today), 1);
    const report = await waitFor('the TLS report', async () => {
      const list = await readMailbox(receiver, DAN);
      return list.find((m) => (m.summary.subject ?? '').startsWith('Report Domain: testing.test')) ?? null;
    });
    assert.match(report.raw, /TLS-Report-Domain: testing\.test\r\n/);
    assert.match(report.raw, /Content-Type: multipart\/report; report-type="tlsrpt"/);
    assert.match(report.raw, /dkim=pass/, 'the report is DKIM-signed (RFC 8460 §5.3)');
    const b64 = /Content-Type: application\/tlsrpt\+gzip\r\n[\s\S]*?\r\n\r\n([A-Za-z0-9+/=\r\n]+)--/.exec(
      report.raw,
    )?.[1];
    assert.ok(b64, 'a gzipped JSON attachment');
    const { gunzipSync } = await import('node:zlib');
    const json = JSON.parse(gunzipSync(Buffer.from(b64.replace(/\r\n/g, ''), 'base64')).toString('utf8'));
    const policy = json.policies.find(
      (p: { policy: { 'policy-type': string } }) => p.policy['policy-type'] === 'sts',
    );
    assert.ok(policy, JSON.stringify(json));
    assert.equal(policy.policy['policy-domain'], 'testing.test');
    assert.ok(policy.summary['total-failure-session-count'] >= 1, JSON.stringify(policy));
    assert.ok(
      policy['failure-details'].some(
        (f: { 'result-type': string; 'receiving-mx-hostname': string }) =>
          /^certificate-/.test(f['result-type']) && f['receiving-mx-hostname'] === 'mx.testing.test',
      ),
      JSON.stringify(policy),
    );
  });

  it('DANE: a TLSA record pinning the receiver key is honoured; a wrong pin defers the mail', async () => {
    await send(ERIN, 'Pinned by DANE', 'hello');
    const got = await waitFor('delivery to erin', async () => {
      const list = await readMailbox(receiver, ERIN);
      return list.length > 0 ? list[0]! : null;
    });
    assert.match(got.raw, /with ESMTPS /);
    await send(FAY, 'Wrong pin', 'must not travel');
    const bounce = await waitFor('the bounce', async () => {
      const inbox = await readMailbox(sender, ALICE);
      return (
        inbox.find((m) => /Undelivered/.test(m.summary.subject ?? '') && m.raw.includes('fay@badane.test')) ??
        null
      );
    });
    assert.match(bounce.raw, /TLS with mx\.badane\.test failed and its policy forbids cleartext/);
    assert.equal((await readMailbox(receiver, FAY)).length, 0, 'nothing reached the receiver');
  });
});
