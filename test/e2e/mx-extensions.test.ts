// SMTP extensions that change what is accepted: SMTPUTF8 (RFC 6531) and 8BITMIME
// (RFC 6152). UTF-8 addresses need SMTPUTF8; 8-bit bodies arrive byte for byte.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readMailbox } from '../support/mailbox.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';
import { RawSmtp } from '../support/smtp-raw.ts';

describe('MX extensions', () => {
  let inst: Installation;
  let srv: InProcess;
  before(async () => {
    inst = await install({
      domains: ['sealpost.test', 'bücher.test'],
      users: ['alice@sealpost.test', 'jörg@bücher.test'],
    });
    srv = await startInProcess(inst);
  });
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  async function session() {
    const { client } = await RawSmtp.connect(srv.mxPort);
    await client.cmd('EHLO client.example.org');
    return client;
  }

  it('delivers to and from UTF-8 addresses with SMTPUTF8, recorded as UTF8SMTP', async () => {
    const c = await session();
    assert.equal((await c.cmd('MAIL FROM:<rené@exemple.example> SMTPUTF8')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<jörg@bücher.test>')).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    const body =
      'From: René <rené@exemple.example>\r\nTo: jörg@bücher.test\r\nSubject: Grüße aus Köln\r\nMessage-ID: <utf8@exemple.example>\r\n\r\nÄrger? Nein.\r\n';
    c.write(Buffer.from(`${body}.\r\n`, 'utf8'));
    const r = await c.read();
    assert.equal(r?.code, 250, r?.text);
    c.close();
    const [msg] = await readMailbox(inst, 'jörg@xn--bcher-kva.test');
    assert.ok(msg);
    assert.equal(msg.summary.subject, 'Grüße aus Köln');
    assert.match(msg.raw, /with UTF8SMTP id/);
    assert.match(msg.raw, /Return-Path: <rené@exemple\.example>/);
  });

  it('refuses a UTF-8 address without SMTPUTF8', async () => {
    const c = await session();
    const mail = await c.cmd('MAIL FROM:<rené@exemple.example>');
    assert.ok(mail.code >= 500, `${mail.code} ${mail.text}`);
    assert.equal((await c.cmd('MAIL FROM:<rene@exemple.example>')).code, 250);
    const rcpt = await c.cmd('RCPT TO:<jörg@bücher.test>');
    assert.ok(rcpt.code >= 500, `${rcpt.code} ${rcpt.text}`);
    c.close();
  });

  it('keeps an 8-bit body byte for byte with BODY=8BITMIME', async () => {
    const c = await session();
    assert.equal((await c.cmd('MAIL FROM:<sender@example.org> BODY=8BITMIME')).code, 250);
    assert.equal((await c.cmd('RCPT TO:<alice@sealpost.test>')).code, 250);
    await c.cmd('DATA');
    const latin1 = Buffer.from(
      'From: sender@example.org\r\nSubject: 8bit\r\nMessage-ID: <8bit@example.org>\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 cr\xe8me\r\n',
      'latin1',
    );
    c.write(Buffer.concat([latin1, Buffer.from('.\r\n')]));
    assert.equal((await c.read())?.code, 250);
    c.close();
    const msg = (await readMailbox(inst, 'alice@sealpost.test')).find(
      (m) => m.summary.messageId === '<8bit@example.org>',
    );
    assert.ok(msg);
    assert.equal(msg.summary.preview, 'café crème');
  });
});
