// Outbound mail to an independent receiver (issue 5, "Must show"): Postfix from Debian on
// 127.0.0.4:25, with OpenDKIM verifying as its milter. A Sealpost sender on 127.0.0.2 finds
// the receiver by MX in a local DNS server, which also publishes the sender's DKIM keys as
// `sealpost dkim dns` prints them; OpenDKIM fetches them from that server. Shown here:
// - the message arrives in Postfix's Maildir over STARTTLS (Postfix logs the handshake),
//   with content intact (dot lines, a 990-octet line), and OpenDKIM's Authentication-Results
//   say dkim=pass for both Sealpost signatures, Ed25519 (RFC 8463) and RSA;
// - Postfix refusing an unknown user at RCPT (550 5.1.1) gives the sender a DSN in its INBOX.
// Skipped, with the reason, where Postfix or OpenDKIM is not installed or not root.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { type DnsTestServer, startDnsServer } from '../support/dns-server.ts';
import { readMailbox } from '../support/mailbox.ts';
import { publishSender, senderEnv, waitFor } from '../support/outbound.ts';
import { type PostfixReceiver, postfixUnavailable, startPostfix } from '../support/postfix.ts';
import { type InProcess, type Installation, install, PASSWORD, startInProcess } from '../support/server.ts';

const ALICE = 'alice@sender.test';
const USER = 'user@postfix.test';
const UNKNOWN = 'nobody@postfix.test';
const POSTFIX_ADDRESS = '127.0.0.4';
const SENDER_ADDRESS = '127.0.0.2';

/** The header fields of a message as one unfolded line each (LF or CRLF line ends). */
function headerFields(raw: string): string[] {
  const head = raw.replace(/\r\n/g, '\n').split('\n\n')[0] ?? '';
  return head.replace(/\n[ \t]+/g, ' ').split('\n');
}

/** The resinfo parts of an Authentication-Results value: split at `;` outside comments (RFC 8601 §2.2). */
function resultParts(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of value) {
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ';' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  parts.push(current.trim());
  return parts;
}

const unavailable = postfixUnavailable();

describe('outbound interoperability: Sealpost to Postfix with OpenDKIM', {
  skip: unavailable ?? false,
}, () => {
  let dns: DnsTestServer;
  let postfix: PostfixReceiver;
  let sender: Installation;
  let senderSrv: InProcess;
  let submissionPort: number;
  let selectors: string[];

  before(async () => {
    dns = await startDnsServer();
    postfix = await startPostfix({
      address: POSTFIX_ADDRESS,
      port: 25,
      hostname: 'mx.postfix.test',
      domain: 'postfix.test',
      users: ['user'],
      dns: { address: dns.address, port: dns.port },
    });
    sender = await install({
      domains: ['sender.test'],
      users: [ALICE],
      env: senderEnv({
        dnsPort: dns.port,
        hostname: 'mx.sender.test',
        sourceAddress: SENDER_ADDRESS,
        remotePort: 25,
      }),
    });
    dns.set('postfix.test', 'MX', [{ preference: 10, exchange: 'mx.postfix.test' }]);
    dns.set('mx.postfix.test', 'A', [POSTFIX_ADDRESS]);
    selectors = await publishSender(sender, dns, 'sender.test', 'mx.sender.test', SENDER_ADDRESS);
    assert.equal(selectors.length, 2, 'one Ed25519 and one RSA key are published');
    assert.match(selectors[0]!, /^sp\d{6}e$/);
    assert.match(selectors[1]!, /^sp\d{6}r$/);

    senderSrv = await startInProcess(sender);
    submissionPort = senderSrv.server.listening.find(
      (l) => l.role === 'submission' && l.security === 'tls',
    )!.port;
  });

  after(async () => {
    await senderSrv?.server.stop();
    await postfix?.stop();
    await dns?.close();
    await sender?.cleanup();
  });

  const transport = () =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: submissionPort,
      secure: true,
      auth: { user: ALICE, pass: PASSWORD },
      tls: { rejectUnauthorized: false },
    });

  it('arrives in Postfix over TLS, intact, and OpenDKIM verifies both signatures', async () => {
    const longLine = `long:${'0123456789'.repeat(98)}end`; // 990 octets, under RFC 5321's 998
    const body = ['Line one', '.', '..two dots', '. dot space', longLine, 'last line', ''];
    const raw = [
      `From: Alice <${ALICE}>`,
      `To: <${USER}>`,
      'Subject: Interop with Postfix',
      'Date: Wed, 02 Dec 2026 01:00:00 +0000',
      `Message-ID: <interop.${Date.now()}@sender.test>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      ...body,
    ].join('\r\n');
    await transport().sendMail({ envelope: { from: ALICE, to: [USER] }, raw });

    const got = await waitFor('delivery into the Postfix Maildir', () => {
      const list = postfix.messages('user').filter((m) => m.includes('Subject: Interop with Postfix'));
      return list[0] ?? null;
    });
    const fields = headerFields(got);

    // OpenDKIM's verdict on each Sealpost signature (RFC 8601 Authentication-Results).
    const results = fields.find((f) => f.startsWith('Authentication-Results: mx.postfix.test;'));
    assert.ok(results, `no Authentication-Results from OpenDKIM:\n${fields.join('\n')}`);
    for (const [selector, algorithm] of [
      [selectors[0]!, 'ed25519-sha256'],
      [selectors[1]!, 'rsa-sha256'],
    ]) {
      const verdict = resultParts(results).find(
        (r) => r.includes(`header.s=${selector}`) && r.includes(`header.a=${algorithm}`),
      );
      assert.ok(verdict, `no result for ${algorithm} s=${selector}: ${results}`);
      assert.match(verdict, /^dkim=pass\b/, `${algorithm} s=${selector}: ${results}`);
      assert.match(verdict, /header\.d=sender\.test/);
    }
    assert.equal(fields.filter((f) => f.startsWith('DKIM-Signature:')).length, 2);
    // OpenDKIM fetched the keys from the test's DNS server, not from anywhere else.
    for (const s of selectors) {
      assert.ok(
        dns.queries.some((q) => q.name === `${s}._domainkey.sender.test` && q.type === 'TXT'),
        `OpenDKIM asked the test DNS for ${s}._domainkey.sender.test`,
      );
    }

    // TLS: Postfix's own log and its Received header field.
    const received = fields.find((f) => f.startsWith('Received: from mx.sender.test'));
    assert.ok(received, fields.join('\n'));
    assert.match(received, /\(unknown \[127\.0\.0\.2\]\) \(using TLSv1\.[23] with cipher \S+/);
    assert.match(received, /by mx\.postfix\.test \(Postfix\) with ESMTPS/);
    const tlsLine = await waitFor(
      'the TLS line in the Postfix log',
      () =>
        postfix
          .log()
          .split('\n')
          .find((l) =>
            /smtpd\[\d+\]: Anonymous TLS connection established from unknown\[127\.0\.0\.2\]: TLSv1\.[23]/.test(
              l,
            ),
          ) ?? null,
    );
    assert.match(tlsLine, /with cipher TLS_|with cipher ECDHE-/);

    // Content: the body as written (Postfix stores LF line ends), dots unstuffed exactly once.
    const delivered = got.split('\n\n').slice(1).join('\n\n');
    assert.equal(delivered, body.join('\n'));
    assert.match(got, /^From: Alice <alice@sender\.test>$/m);
  });

  it('an unknown user refused by Postfix at RCPT comes back as a DSN in the sender INBOX', async () => {
    const before = (await readMailbox(sender, ALICE)).length;
    await transport().sendMail({
      from: ALICE,
      to: UNKNOWN,
      subject: 'To nobody',
      text: 'Nobody reads this.',
    });

    const bounce = await waitFor('the bounce', async () => {
      const inbox = await readMailbox(sender, ALICE);
      return inbox.length > before
        ? (inbox.find((m) => /Undelivered/.test(m.summary.subject ?? '')) ?? null)
        : null;
    });
    assert.match(bounce.raw, /Return-Path: <>/);
    assert.match(bounce.raw, /Content-Type: multipart\/report; report-type=delivery-status/);
    // RFC 3464 §2.3: the per-recipient fields, with Postfix's own reply as the diagnostic.
    assert.match(
      bounce.raw,
      /Final-Recipient: rfc822; nobody@postfix\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.postfix\.test/,
    );
    assert.match(
      bounce.raw,
      /Diagnostic-Code: smtp; 550 5\.1\.1 <nobody@postfix\.test>: Recipient address rejected: User unknown in virtual mailbox table/,
    );
    const reject = await waitFor(
      'the reject line in the Postfix log',
      () =>
        postfix
          .log()
          .split('\n')
          .find(
            (l) =>
              l.includes('NOQUEUE: reject: RCPT from unknown[127.0.0.2]') &&
              l.includes('<nobody@postfix.test>'),
          ) ?? null,
    );
    assert.match(reject, /550 5\.1\.1/);
    assert.ok(
      postfix.messages('user').every((m) => !m.includes('Subject: To nobody')),
      'nothing was delivered for the unknown user',
    );
  });
});
