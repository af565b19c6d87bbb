// Hostile input against the MX, over raw sockets: each case gets its expected reply
// and leaves nothing stored. Sources: RFC 5321 §2.3.8 and the 2023 SMTP smuggling
// disclosures (bare LF/CR), CVE-2011-0411 (STARTTLS command injection), RFC 5321
// §4.5.3 (limits), RFC 7489 §6.6.1 (several From mailboxes).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { countAll } from '../support/mailbox.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';
import { message, RawSmtp, type Reply } from '../support/smtp-raw.ts';
import { useWatchdog } from '../support/watchdog.ts';

const RCPT = 'alice@sealpost.test';

async function session(port: number): Promise<RawSmtp> {
  const { client, greeting } = await RawSmtp.connect(port);
  assert.equal(greeting.code, 220);
  assert.equal((await client.cmd('EHLO client.example.org')).code, 250);
  return client;
}

/** MAIL, RCPT, DATA, then the given raw data (which must end the DATA itself). */
async function sendData(port: number, data: string | Buffer): Promise<Reply | null> {
  const c = await session(port);
  assert.equal((await c.cmd('MAIL FROM:<sender@example.org>')).code, 250);
  assert.equal((await c.cmd(`RCPT TO:<${RCPT}>`)).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.write(data);
  const reply = await c.read();
  c.close();
  return reply;
}

describe('MX hostile input', () => {
  let inst: Installation;
  let srv: InProcess;
  let stored = 0;

  before(async () => {
    inst = await install({
      env: { SEALPOST_MX_MAX_MESSAGE_SIZE: '65536', SEALPOST_MX_MAX_RECIPIENTS: '100' },
    });
    srv = await startInProcess(inst);
  });
  useWatchdog('mx');
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  async function assertNothingStored() {
    assert.equal(await countAll(inst, RCPT), stored, 'nothing new was stored');
  }

  it('accepts a clean message (baseline)', async () => {
    const r = await sendData(srv.mxPort, `${message()}.\r\n`);
    assert.equal(r?.code, 250);
    stored++;
    await assertNothingStored();
  });

  for (const [name, trick] of [
    ['bare LF dot', '\n.\n'],
    ['LF dot CRLF', '\n.\r\n'],
    ['CRLF dot LF', '\r\n.\n'],
    ['bare CR dot', '\r.\r'],
    ['CR dot CRLF', '\r.\r\n'],
  ] as const) {
    it(`refuses SMTP smuggling with ${name} and stores neither message`, async () => {
      const smuggled = `MAIL FROM:<ceo@bank.example>\r\nRCPT TO:<${RCPT}>\r\nDATA\r\nFrom: ceo@bank.example\r\n\r\nsmuggled\r\n`;
      const data = `${message({ body: 'outer' }).replace(/\r\n$/, '')}${trick}${smuggled}.\r\n`;
      const r = await sendData(srv.mxPort, data);
      assert.equal(r?.code, 550);
      assert.match(r!.text, /^5\.6\.0 .*bare CR or LF/);
      await assertNothingStored();
    });
  }

  it('discards plaintext pipelined behind STARTTLS (no command injection)', async () => {
    const c = await session(srv.mxPort);
    c.write('STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n');
    const r = await c.read();
    assert.equal(r?.code, 220);
    await c.upgrade();
    // Had the injected MAIL been kept, it would answer now, or make this MAIL a 503.
    const ehlo = await c.cmd('EHLO client.example.org');
    assert.equal(ehlo.code, 250);
    assert.doesNotMatch(ehlo.text, /STARTTLS/, 'STARTTLS is not offered twice');
    const mail = await c.cmd('MAIL FROM:<sender@example.org>');
    assert.equal(mail.code, 250, `fresh transaction after TLS: ${mail.text}`);
    c.close();
  });

  it('closes on an overlong command line with 421', async () => {
    const c = await session(srv.mxPort);
    c.write(`NOOP ${'x'.repeat(10_000)}\r\n`);
    const r = await c.read();
    assert.equal(r?.code, 421);
    assert.match(r!.text, /too long/i);
    c.close();
  });

  it('refuses an overlong data line', async () => {
    const r = await sendData(srv.mxPort, `${message({ body: 'y'.repeat(5000) })}.\r\n`);
    assert.equal(r?.code, 550);
    assert.match(r!.text, /longer than 4096/);
    await assertNothingStored();
  });

  it('answers the 101st recipient with 452 4.5.3', async () => {
    const c = await session(srv.mxPort);
    await c.cmd('MAIL FROM:<sender@example.org>');
    for (let i = 0; i < 100; i++) assert.equal((await c.cmd(`RCPT TO:<alice+${i}@sealpost.test>`)).code, 250);
    const r = await c.cmd('RCPT TO:<alice+extra@sealpost.test>');
    assert.equal(r.code, 452);
    assert.match(r.text, /^4\.5\.3/);
    c.close();
  });

  it('refuses a declared SIZE over the limit at MAIL FROM', async () => {
    const c = await session(srv.mxPort);
    const r = await c.cmd('MAIL FROM:<sender@example.org> SIZE=10000000');
    assert.equal(r.code, 552);
    c.close();
  });

  it('refuses an undeclared oversized message after the final dot with 552 5.3.4', async () => {
    const big = message({ body: ('z'.repeat(998) + '\r\n').repeat(80) });
    const r = await sendData(srv.mxPort, `${big}.\r\n`);
    assert.equal(r?.code, 552);
    assert.match(r!.text, /^5\.3\.4/);
    await assertNothingStored();
  });

  it('refuses a header bomb (too many header lines)', async () => {
    const extra = Array.from({ length: 1500 }, (_, i) => `X-Bomb-${i}: b`).join('\r\n');
    const r = await sendData(srv.mxPort, `${message({ extra })}.\r\n`);
    assert.equal(r?.code, 552);
    assert.match(r!.text, /header too large/i);
    await assertNothingStored();
  });

  it('refuses a NUL byte in the data', async () => {
    const r = await sendData(srv.mxPort, `${message({ body: 'a\u0000b' })}.\r\n`);
    assert.equal(r?.code, 550);
    assert.match(r!.text, /NUL/);
    await assertNothingStored();
  });

  for (const [what, extra, from] of [
    ['two From headers', 'From: other@example.org', undefined],
    ['a From with two mailboxes', undefined, 'a@example.org, b@example.net'],
    ['a From group with two members', undefined, 'team: a@example.org, b@example.net;'],
  ] as const) {
    it(`refuses ${what}`, async () => {
      const r = await sendData(
        srv.mxPort,
        `${message({ ...(extra ? { extra } : {}), ...(from ? { from } : {}) })}.\r\n`,
      );
      assert.equal(r?.code, 550);
      assert.match(r!.text, /^5\.7\.1 .*exactly one From/);
      await assertNothingStored();
    });
  }

  for (const [addr, code] of [
    ['<a@b@sealpost.test>', /^(501|553)$/],
    ['<"john doe"@sealpost.test>', /^(501|553)$/],
    ['<alice@sealpost.test>@evil.example', /^(501|553)$/],
    ['<alice@[127.0.0.1]>', /^(501|553|550)$/],
    ['<alice@sealpost.test\u0000.evil>', /^(501|553)$/],
    ['<alice%evil.example@sealpost.test>', /^550$/],
  ] as const) {
    it(`refuses the malformed or ambiguous recipient ${JSON.stringify(addr)}`, async () => {
      const c = await session(srv.mxPort);
      await c.cmd('MAIL FROM:<sender@example.org>');
      const r = await c.cmd(`RCPT TO:${addr}`);
      assert.match(String(r.code), code, r.text);
      c.close();
    });
  }

  it('never offers AUTH on the MX port and refuses the command', async () => {
    const { client } = await RawSmtp.connect(srv.mxPort);
    const ehlo = await client.cmd('EHLO client.example.org');
    assert.doesNotMatch(ehlo.text, /AUTH/);
    const r = await client.cmd('AUTH PLAIN AGFsaWNlAHBhc3N3b3Jk');
    assert.ok(r.code >= 500 && r.code < 600, `AUTH refused: ${r.code} ${r.text}`);
    client.close();
  });

  it('advertises the extensions it supports', async () => {
    const { client } = await RawSmtp.connect(srv.mxPort);
    const ehlo = await client.cmd('EHLO client.example.org');
    for (const ext of [
      'PIPELINING',
      '8BITMIME',
      'SMTPUTF8',
      'SIZE 65536',
      'ENHANCEDSTATUSCODES',
      'STARTTLS',
    ]) {
      assert.match(ehlo.text, new RegExp(`^${ext}$`, 'm'));
    }
    client.close();
  });
});

describe('MX connection limits and timeouts', () => {
  let inst: Installation;
  let srv: InProcess;

  before(async () => {
    inst = await install({
      env: { SEALPOST_MX_MAX_CONNECTIONS_PER_ADDRESS: '3', SEALPOST_MX_SOCKET_TIMEOUT_SECONDS: '1' },
    });
    srv = await startInProcess(inst);
  });
  useWatchdog('mx 2');
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('refuses a 4th connection from one address with 421 4.7.0', async () => {
    const open = await Promise.all([1, 2, 3].map(() => RawSmtp.connect(srv.mxPort)));
    for (const o of open) assert.equal(o.greeting.code, 220);
    const { client, greeting } = await RawSmtp.connect(srv.mxPort);
    assert.equal(greeting.code, 421);
    assert.match(greeting.text, /4\.7\.0 Too many connections/);
    client.close();
    for (const o of open) o.client.close();
    await sleep(100);
    const again = await RawSmtp.connect(srv.mxPort);
    assert.equal(again.greeting.code, 220, 'slots are released when clients leave');
    again.client.close();
  });

  it('drops a client that stays silent past the timeout with 421', async () => {
    const { client } = await RawSmtp.connect(srv.mxPort);
    const r = await client.read(5000);
    assert.equal(r?.code, 421);
    await sleep(100);
    assert.ok(client.closed, 'connection closed');
  });
});
