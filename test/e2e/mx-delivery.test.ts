// Inbound mail end to end: real clients (nodemailer, swaks) deliver to a real server;
// SPF, DKIM and DMARC are verified against a local DNS server; the stored message
// carries our Authentication-Results and lands in the right mailbox.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { dkimSign } from 'mailauth';
import nodemailer from 'nodemailer';
import { countAll, readMailbox } from '../support/mailbox.ts';
import { HOSTNAME, type InProcess, type Installation, install, startInProcess } from '../support/server.ts';

const run = promisify(execFile);

describe('MX delivery', () => {
  let inst: Installation;
  let srv: InProcess;
  const dkim = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dkimPrivate = dkim.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const dkimPublic = dkim.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

  before(async () => {
    inst = await install({
      domains: ['sealpost.test', 'other.test'],
      users: ['alice@sealpost.test', 'bob@sealpost.test', 'carol@other.test'],
    });
    const dns = inst.dns;
    // A well-behaved sender domain: SPF, DKIM, DMARC reject.
    dns.set('good.example', 'TXT', ['v=spf1 ip4:127.0.0.1 -all']);
    dns.set('_dmarc.good.example', 'TXT', ['v=DMARC1; p=reject']);
    dns.set('s1._domainkey.good.example', 'TXT', [`v=DKIM1; k=rsa; p=${dkimPublic}`]);
    // A bank that does not send from here and rejects failures.
    dns.set('bank.example', 'TXT', ['v=spf1 ip4:192.0.2.1 -all']);
    dns.set('_dmarc.bank.example', 'TXT', ['v=DMARC1; p=reject']);
    // A domain that quarantines failures.
    dns.set('shop.example', 'TXT', ['v=spf1 ip4:192.0.2.1 -all']);
    dns.set('_dmarc.shop.example', 'TXT', ['v=DMARC1; p=quarantine']);
    srv = await startInProcess(inst);
  });

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  function transport() {
    return nodemailer.createTransport({
      host: '127.0.0.1',
      port: srv.mxPort,
      secure: false,
      tls: { rejectUnauthorized: false },
      name: 'client.good.example',
    });
  }

  it('stores a DKIM-signed message sent with nodemailer, with passing Authentication-Results', async () => {
    const raw = [
      'From: Good Sender <news@good.example>',
      'To: alice@sealpost.test',
      'Subject: Signed hello',
      'Message-ID: <signed-1@good.example>',
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      '',
      'A signed body.',
      '',
    ].join('\r\n');
    // mailauth signs only what is listed in signatureData (its top-level fields are ignored).
    const key = {
      signingDomain: 'good.example',
      selector: 's1',
      privateKey: dkimPrivate,
      algorithm: 'rsa-sha256',
    };
    const signed = await dkimSign(raw, { ...key, signatureData: [key] });
    assert.deepEqual(signed.errors, []);
    const info = await transport().sendMail({
      envelope: { from: 'bounces@good.example', to: ['alice@sealpost.test'] },
      raw: signed.signatures + raw,
    });
    assert.match(info.response, /^250 2\.0\.0/);
    const inbox = await readMailbox(inst, 'alice@sealpost.test');
    const msg = inbox.find((m) => m.summary.messageId === '<signed-1@good.example>');
    assert.ok(msg, 'message stored in INBOX');
    const ar = /^Authentication-Results: (.*(?:\r\n[ \t].*)*)/m.exec(msg.raw)?.[1] ?? '';
    assert.ok(ar.startsWith(HOSTNAME), `authserv-id is ours: ${ar}`);
    assert.match(ar, /spf=pass/);
    assert.match(ar, /dkim=pass/);
    assert.match(ar, /dmarc=pass/);
    assert.match(msg.raw, /^Return-Path: <bounces@good\.example>/);
    assert.match(msg.raw, /with ESMTPS id/, 'nodemailer upgraded with STARTTLS');
    assert.equal(msg.summary.subject, 'Signed hello');
  });

  it('refuses forged mail from a DMARC p=reject domain with 550 and stores nothing', async () => {
    const before = await countAll(inst, 'alice@sealpost.test');
    await assert.rejects(
      transport().sendMail({
        envelope: { from: 'ceo@bank.example', to: ['alice@sealpost.test'] },
        raw: 'From: CEO <ceo@bank.example>\r\nTo: alice@sealpost.test\r\nSubject: wire money\r\n\r\nPay now.\r\n',
      }),
      (e: Error & { responseCode?: number; response?: string }) => {
        assert.equal(e.responseCode, 550);
        assert.match(e.response ?? '', /5\.7\.1 .*DMARC.*bank\.example/);
        return true;
      },
    );
    assert.equal(await countAll(inst, 'alice@sealpost.test'), before);
  });

  it('files DMARC quarantine failures into Junk', async () => {
    await transport().sendMail({
      envelope: { from: 'offers@shop.example', to: ['bob@sealpost.test'] },
      raw: 'From: offers@shop.example\r\nTo: bob@sealpost.test\r\nSubject: deal\r\nMessage-ID: <q1@shop.example>\r\n\r\nBuy.\r\n',
    });
    const junk = await readMailbox(inst, 'bob@sealpost.test', 'Junk');
    assert.ok(junk.some((m) => m.summary.messageId === '<q1@shop.example>'));
    const inbox = await readMailbox(inst, 'bob@sealpost.test');
    assert.ok(!inbox.some((m) => m.summary.messageId === '<q1@shop.example>'));
  });

  it('removes Authentication-Results that claim our host name, keeps others', async () => {
    await transport().sendMail({
      envelope: { from: 'news@good.example', to: ['bob@sealpost.test'] },
      raw: [
        `Authentication-Results: ${HOSTNAME}; dkim=pass header.d=bank.example`,
        'Authentication-Results: elsewhere.example; spf=none',
        'From: news@good.example',
        'To: bob@sealpost.test',
        'Subject: forged results',
        'Message-ID: <forged-ar@good.example>',
        '',
        'x',
        '',
      ].join('\r\n'),
    });
    const inbox = await readMailbox(inst, 'bob@sealpost.test');
    const msg = inbox.find((m) => m.summary.messageId === '<forged-ar@good.example>');
    assert.ok(msg);
    assert.doesNotMatch(msg.raw, /dkim=pass header\.d=bank\.example/);
    assert.match(msg.raw, /Authentication-Results: elsewhere\.example; spf=none/);
    const ours =
      msg.raw.match(new RegExp(`^Authentication-Results: ${HOSTNAME.replace(/\./g, '\\.')}`, 'gm')) ?? [];
    assert.equal(ours.length, 1, 'exactly one Authentication-Results of ours');
  });

  it('delivers through aliases, catch-all and sub-addresses, one copy per account', async () => {
    const { runCli } = await import('../support/server.ts');
    assert.equal(
      (await runCli(inst, ['alias', 'add', 'team@sealpost.test', 'alice@sealpost.test', 'bob@sealpost.test']))
        .code,
      0,
    );
    assert.equal((await runCli(inst, ['alias', 'add', '@other.test', 'carol@other.test'])).code, 0);
    await transport().sendMail({
      envelope: {
        from: 'news@good.example',
        to: ['team@sealpost.test', 'alice+lists@sealpost.test', 'anything@other.test'],
      },
      raw: 'From: news@good.example\r\nTo: team@sealpost.test\r\nSubject: fan-out\r\nMessage-ID: <fan@good.example>\r\n\r\nx\r\n',
    });
    for (const who of ['alice@sealpost.test', 'bob@sealpost.test', 'carol@other.test']) {
      const copies = (await readMailbox(inst, who)).filter(
        (m) => m.summary.messageId === '<fan@good.example>',
      );
      assert.equal(copies.length, 1, `${who} has exactly one copy`);
    }
  });

  it('answers unknown users and foreign domains with 550 at RCPT', async () => {
    await assert.rejects(
      transport().sendMail({
        envelope: { from: 'a@good.example', to: ['nobody@sealpost.test'] },
        raw: 'From: a@good.example\r\n\r\nx\r\n',
      }),
      (e: Error & { response?: string }) => /^550 5\.1\.1/.test(e.response ?? ''),
    );
    await assert.rejects(
      transport().sendMail({
        envelope: { from: 'a@good.example', to: ['someone@gmail.example'] },
        raw: 'From: a@good.example\r\n\r\nx\r\n',
      }),
      (e: Error & { response?: string }) => /^550 5\.7\.1 Relaying denied/.test(e.response ?? ''),
    );
  });

  it('accepts mail from swaks over STARTTLS', async () => {
    const { stdout } = await run('swaks', [
      '--server',
      `127.0.0.1:${srv.mxPort}`,
      '--ehlo',
      'swaks.good.example',
      '--from',
      'news@good.example',
      '--to',
      'carol@other.test',
      '--header',
      'Subject: from swaks',
      '--header',
      'From: news@good.example',
      '--tls',
      '--body',
      'Hello from swaks.',
    ]);
    assert.match(stdout, /<~ {2}250 2\.0\.0 Ok: delivered/);
    const inbox = await readMailbox(inst, 'carol@other.test');
    const msg = inbox.find((m) => m.summary.subject === 'from swaks');
    assert.ok(msg, 'swaks message stored');
    assert.match(msg.raw, /with ESMTPS/);
    assert.match(
      msg.raw,
      new RegExp(`Authentication-Results: ${HOSTNAME.replace(/\./g, '\\.')};[\\s\\S]*spf=pass`),
    );
  });
});
