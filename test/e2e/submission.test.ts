// Message submission (issue 5 item 1, and SMTP AUTH for issue 4): 465 with implicit
// TLS and 587 with STARTTLS required before AUTH; AUTH through the one login path
// (app passwords scoped to smtp, the main password refused once 2FA is on); the
// envelope sender and From must be the account's; accepted mail is queued durably and
// delivered by the delivery role. Real clients: nodemailer and raw SMTP.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { addFactor } from '../support/factors.ts';
import { readMailbox } from '../support/mailbox.ts';
import { saslPlain as plain, waitFor } from '../support/outbound.ts';
import {
  freePort,
  type InProcess,
  type Installation,
  install,
  openStore,
  PASSWORD,
  runCli,
  startInProcess,
} from '../support/server.ts';
import { message, RawSmtp } from '../support/smtp-raw.ts';

const ALICE = 'alice@sealpost.test';
const BOB = 'bob@sealpost.test';
const CAROL = 'carol@sealpost.test';

describe('submission: AUTH, sender policy, queue and local delivery', () => {
  let inst: Installation;
  let srv: InProcess;
  let tlsPort: number;
  let startTlsPort: number;

  before(async () => {
    inst = await install({
      users: [ALICE, BOB, CAROL],
      env: { SEALPOST_SUBMISSION_STARTTLS_PORT: String(await freePort()) },
    });
    const alias = await runCli(inst, ['alias', 'add', 'sales@sealpost.test', ALICE]);
    assert.equal(alias.code, 0, alias.stderr);
    srv = await startInProcess(inst);
    const sub = srv.server.listening.filter((l) => l.role === 'submission');
    tlsPort = sub.find((l) => l.security === 'tls')!.port;
    startTlsPort = sub.find((l) => l.security === 'starttls')!.port;
  });
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  const transport = (user: string, pass: string, port = tlsPort, secure = true) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure,
      requireTLS: !secure,
      auth: { user, pass },
      tls: { rejectUnauthorized: false },
    });

  it('nodemailer on 465 sends to a local user; the message arrives with a Received field that hides the client', async () => {
    const info = await transport(ALICE, PASSWORD).sendMail({
      from: ALICE,
      to: BOB,
      subject: 'Over submission',
      text: 'Hello Bob\n.\nA line with a dot alone.',
    });
    assert.match(info.response, /^250 2\.0\.0 Ok: queued as que_/);
    const got = await waitFor('delivery to bob', async () => {
      const list = await readMailbox(inst, BOB);
      return list.length > 0 ? list : null;
    });
    assert.equal(got.length, 1);
    const raw = got[0]!.raw;
    assert.match(raw, /^Return-Path: <alice@sealpost\.test>\r\n/);
    assert.match(raw, /Received: from \S+\r\n\tby mx\.sealpost\.test \(Sealpost\) with ESMTPSA id /);
    assert.doesNotMatch(raw.split('\r\n\r\n')[0]!, /127\.0\.0\.1/, 'the client address stays private');
    assert.match(
      raw,
      /\r\n\.\r\nA line with a dot alone\./,
      'dot-stuffing undone: the lone dot arrives intact',
    );
    assert.equal(got[0]!.summary.subject, 'Over submission');
  });

  it('on 587 offers no AUTH before STARTTLS, refuses AUTH there, and accepts it after', async () => {
    const { client } = await RawSmtp.connect(startTlsPort);
    const ehlo = await client.cmd('EHLO client.example');
    assert.equal(ehlo.code, 250);
    assert.doesNotMatch(ehlo.text, /AUTH/);
    assert.match(ehlo.text, /STARTTLS/);
    assert.match((await client.cmd(`AUTH PLAIN ${plain(ALICE, PASSWORD)}`)).text, /STARTTLS/);
    const mail = await client.cmd(`MAIL FROM:<${ALICE}>`);
    assert.equal(mail.code, 530);
    assert.equal((await client.cmd('STARTTLS')).code, 220);
    await client.upgrade();
    const ehlo2 = await client.cmd('EHLO client.example');
    assert.match(ehlo2.text, /AUTH PLAIN LOGIN/);
    assert.equal((await client.cmd(`AUTH PLAIN ${plain(ALICE, PASSWORD)}`)).code, 235);
    client.close();
    // A real client that insists on TLS works end to end on 587.
    const info = await transport(ALICE, PASSWORD, startTlsPort, false).sendMail({
      from: ALICE,
      to: CAROL,
      subject: 'Via 587',
      text: 'hi',
    });
    assert.match(info.response, /^250 /);
  });

  it('refuses a sender or From the account does not own with 5.7.1; its own aliases and sub-addresses pass', async () => {
    const { client } = await RawSmtp.connectTls(tlsPort);
    await client.cmd('EHLO client.example');
    assert.equal((await client.cmd(`AUTH PLAIN ${plain(ALICE, PASSWORD)}`)).code, 235);
    const other = await client.cmd(`MAIL FROM:<${BOB}>`);
    assert.equal(other.code, 553);
    assert.match(other.text, /^5\.7\.1 /);
    const nul = await client.cmd('MAIL FROM:<>');
    assert.equal(nul.code, 553);
    assert.equal((await client.cmd('MAIL FROM:<sales@sealpost.test>')).code, 250, 'an alias of alice');
    assert.equal((await client.cmd('RSET')).code, 250);
    assert.equal((await client.cmd('MAIL FROM:<alice+news@sealpost.test>')).code, 250, 'a sub-address');
    assert.equal((await client.cmd(`RCPT TO:<${BOB}>`)).code, 250);
    const unknown = await client.cmd('RCPT TO:<nobody@sealpost.test>');
    assert.equal(unknown.code, 550);
    assert.match(unknown.text, /^5\.1\.1 /);
    assert.equal((await client.cmd('DATA')).code, 354);
    client.write(`${message({ from: BOB, to: BOB, subject: 'forged' })}.\r\n`);
    const refused = await client.read();
    assert.equal(refused?.code, 550);
    assert.match(refused!.text, /^5\.7\.1 .*From header/);
    // The From check reads the address, not the display name or an encoded word.
    assert.equal((await client.cmd('MAIL FROM:<alice@sealpost.test>')).code, 250);
    assert.equal((await client.cmd(`RCPT TO:<${BOB}>`)).code, 250);
    assert.equal((await client.cmd('DATA')).code, 354);
    client.write(
      `From: "alice@sealpost.test" =?utf-8?q?alice=40sealpost=2Etest?= <${BOB}>\r\nTo: ${BOB}\r\nSubject: x\r\n\r\nbody\r\n.\r\n`,
    );
    assert.equal((await client.read())?.code, 550);
    assert.equal((await client.cmd('MAIL FROM:<alice@sealpost.test>')).code, 250);
    assert.equal((await client.cmd(`RCPT TO:<${BOB}>`)).code, 250);
    assert.equal((await client.cmd('DATA')).code, 354);
    client.write(
      `${message({ from: ALICE, to: BOB, subject: 'two senders', extra: `Sender: ${CAROL}\r\n` })}.\r\n`,
    );
    assert.equal((await client.read())?.code, 550, 'a Sender header must be the account too');
    client.close();
    const bob = await readMailbox(inst, BOB);
    assert.ok(bob.every((m) => !['forged', 'x', 'two senders'].includes(m.summary.subject ?? '')));
  });

  it('with a second factor on, the main password is refused on SMTP; an smtp-scoped app password works, others do not', async () => {
    const add = async (scopes: string) => {
      const r = await runCli(inst, [
        'app-password',
        'add',
        CAROL,
        '--json',
        '--name',
        `p-${scopes}`,
        '--scopes',
        scopes,
      ]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { id: string; password: string };
    };
    const smtp = await add('smtp');
    const imapOnly = await add('imap');
    const rt = await openStore(inst);
    try {
      await addFactor(rt, CAROL, { sealedSecret: new Uint8Array(40) });
    } finally {
      await rt.close();
    }
    const auth = async (pass: string, user = CAROL) => {
      const { client } = await RawSmtp.connectTls(tlsPort);
      await client.cmd('EHLO client.example');
      const r = await client.cmd(`AUTH PLAIN ${plain(user, pass)}`);
      client.close();
      return `${r.code} ${r.text}`;
    };
    const refused = await auth(PASSWORD);
    assert.match(refused, /^535 5\.7\.8 /);
    assert.match(await auth(smtp.password), /^235 /);
    assert.equal(await auth(imapOnly.password), refused, 'outside its scopes: the same answer');
    assert.equal(await auth('wrong password entirely'), refused);
    assert.equal(
      await auth('whatever it is', 'ghost@sealpost.test'),
      refused,
      'unknown user: the same answer',
    );
    // nodemailer with the app password sends; revoked, it fails at once on the next login.
    const info = await transport(CAROL, smtp.password).sendMail({
      from: CAROL,
      to: ALICE,
      subject: 'app pw',
      text: 'x',
    });
    assert.match(info.response, /^250 /);
    const revoke = await runCli(inst, ['app-password', 'revoke', CAROL, smtp.id]);
    assert.equal(revoke.code, 0, revoke.stderr);
    await assert.rejects(
      transport(CAROL, smtp.password).sendMail({
        from: CAROL,
        to: ALICE,
        subject: 'after revoke',
        text: 'x',
      }),
      /535/,
    );
  });

  it('queues mail to another domain; a domain that does not exist comes back as a DSN', async () => {
    const info = await transport(ALICE, PASSWORD).sendMail({
      from: ALICE,
      to: 'someone@elsewhere.example',
      subject: 'Outbound',
      text: 'out',
    });
    const id = /queued as (que_\S+)/.exec(info.response)?.[1];
    assert.ok(id, info.response);
    const bounce = await waitFor('the DSN', async () => {
      const inbox = await readMailbox(inst, ALICE);
      return inbox.find((m) => /Undelivered/.test(m.summary.subject ?? '')) ?? null;
    });
    assert.match(bounce.raw, /^Return-Path: <>\r\n/);
    assert.match(
      bounce.raw,
      /Final-Recipient: rfc822; someone@elsewhere\.example\r\nAction: failed\r\nStatus: 5\.1\.2\r\n/,
    );
    assert.match(bounce.raw, /Content-Type: text\/rfc822-headers\r\n\r\n[\s\S]*Subject: Outbound/);
    assert.doesNotMatch(bounce.raw, /\r\n\r\nout\r\n/, 'the body is not returned');
    const gone = await runCli(inst, ['queue', 'show', id]);
    assert.equal(gone.code, 2, 'a finished message leaves the queue');
  });
});
