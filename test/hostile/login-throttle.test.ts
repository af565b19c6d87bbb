// Password guessing over IMAP and POP3 (DESIGN invariant 5): after a few failures a
// pair (address, account) is backed off, and then even the right password gets the
// same refusal as a wrong one until the back-off passes; other accounts from the
// same address are unaffected. IMAP, POP3 and SMTP AUTH (submission) share the one
// throttle, kept in the store where every role sees it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, PASSWORD, startInProcess } from '../support/server.ts';
import { RawSmtp } from '../support/smtp-raw.ts';
import { useWatchdog } from '../support/watchdog.ts';

async function pop3Login(port: number, user: string, pass: string): Promise<string> {
  const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  let text = '';
  s.on('data', (d) => (text += d.toString()));
  const wait = async (n: number) => {
    for (let i = 0; i < 400 && text.split('\r\n').length <= n; i++)
      await new Promise((r) => setTimeout(r, 10));
  };
  await wait(1);
  s.write(`USER ${user}\r\n`);
  await wait(2);
  s.write(`PASS ${pass}\r\n`);
  await wait(3);
  s.destroy();
  return text.split('\r\n')[2] ?? '';
}

describe('login throttling', () => {
  let inst: Installation;
  let srv: InProcess;

  before(async () => {
    inst = await install({ users: ['alice@sealpost.test', 'bob@sealpost.test'] });
    srv = await startInProcess(inst);
  });
  useWatchdog('login throttle');

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('backs off a guessed pair across IMAP, POP3 and SMTP AUTH, answers identically, and spares other accounts', async () => {
    const c = await RawImap.connect(imapPort(srv.server));
    const wrong = [];
    for (let i = 0; i < 8; i++)
      wrong.push((await c.command(`w${i}`, 'LOGIN alice@sealpost.test "guess"')).at(-1)!.slice(3));
    const right = (await c.command('r1', `LOGIN alice@sealpost.test "${PASSWORD}"`)).at(-1)!.slice(3);
    assert.equal(right, wrong[0], 'the right password is refused like a wrong one while backed off');
    const pop3 = srv.server.listening.find((l) => l.role === 'pop3' && l.security === 'tls')!.port;
    assert.match(await pop3Login(pop3, 'alice@sealpost.test', PASSWORD), /^-ERR \[AUTH\]/);
    const submission = srv.server.listening.find(
      (l) => l.role === 'submission' && l.security === 'tls',
    )!.port;
    const smtp = async (user: string) => {
      const { client } = await RawSmtp.connectTls(submission);
      await client.cmd('EHLO throttle.test');
      const r = await client.cmd(`AUTH PLAIN ${Buffer.from(`\0${user}\0${PASSWORD}`).toString('base64')}`);
      client.close();
      return r.code;
    };
    assert.equal(await smtp('alice@sealpost.test'), 535, 'SMTP AUTH sees the same back-off');
    assert.equal(await smtp('bob@sealpost.test'), 235);
    const bob = (await c.command('b1', `LOGIN bob@sealpost.test "${PASSWORD}"`)).at(-1)!;
    assert.match(bob, /^b1 OK/);
    c.close();
  });
});
