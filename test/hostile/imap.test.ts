// Hostile input against the IMAP server over real sockets (issue 3 §6, DESIGN
// invariants 1, 3 and 11): every limit answers with BAD/NO/BYE and a clear text,
// and a refused command changes nothing. COMPRESS bombs are in imap-compress.test.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { imapPort, RawImap } from '../support/imap.ts';
import {
  freePort,
  type InProcess,
  type Installation,
  install,
  PASSWORD,
  startInProcess,
} from '../support/server.ts';
import { useWatchdog } from '../support/watchdog.ts';

describe('IMAP hostile input', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;
  let plainPort: number;

  before(async () => {
    inst = await install({
      env: {
        SEALPOST_IMAP_STARTTLS_PORT: String(await freePort()),
        SEALPOST_IMAP_APPEND_LIMIT: '1MiB',
        SEALPOST_IMAP_MAX_CONNECTIONS_PER_ADDRESS: '8',
        SEALPOST_IMAP_LOGIN_TIMEOUT_SECONDS: '5',
      },
    });
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
    plainPort = imapPort(srv.server, 'starttls');
  });
  useWatchdog('imap');

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('refuses a command line over the limit with BAD [TOOBIG] and keeps the session', async () => {
    const c = await RawImap.connect(port);
    c.write(`a1 NOOP ${'x'.repeat(70 * 1024)}\r\n`);
    const r = await c.until(/^a1 /);
    assert.match(r.at(-1)!, /^a1 BAD \[TOOBIG\]/);
    assert.match((await c.command('a2', 'NOOP')).at(-1)!, /^a2 OK/);
    c.close();
  });

  it('sends no continuation for a literal over the limit, before and after login', async () => {
    const c = await RawImap.connect(port);
    c.write('a1 LOGIN {100000}\r\n');
    const r = await c.until(/^a1 /);
    assert.ok(!r.some((l) => l.startsWith('+')), r.join('\n'));
    assert.match(r.at(-1)!, /^a1 (NO|BAD) \[TOOBIG\]/);
    await c.login();
    c.write('a2 APPEND INBOX {2000000}\r\n');
    const r2 = await c.until(/^a2 /);
    assert.ok(!r2.some((l) => l.startsWith('+')));
    assert.match(r2.at(-1)!, /^a2 NO \[TOOBIG\]/);
    const status = await c.command('a3', 'STATUS INBOX (MESSAGES)');
    assert.match(status.join('\n'), /MESSAGES 0/);
    c.close();
  });

  it('closes the connection on a non-synchronising literal over the limit', async () => {
    const c = await RawImap.connect(port);
    await c.login();
    c.write('a1 APPEND INBOX {2000000+}\r\nFrom: x\r\n');
    const r = await c.until(/^\* BYE/);
    assert.ok(r.some((l) => /TOOBIG/.test(l)));
    await c.closedByServer();
  });

  it('bounds the nesting depth of parenthesised lists and of NOT chains', async () => {
    const c = await RawImap.connect(port);
    await c.login();
    await c.command('s', 'SELECT INBOX');
    const deep = `${'('.repeat(200)}ALL${')'.repeat(200)}`;
    assert.match((await c.command('a1', `SEARCH ${deep}`)).at(-1)!, /^a1 BAD/);
    assert.match((await c.command('a2', `SEARCH ${'NOT '.repeat(5000)}ALL`)).at(-1)!, /^a2 BAD/);
    assert.match((await c.command('a3', 'NOOP')).at(-1)!, /^a3 OK/);
    c.close();
  });

  it('rejects malformed sequence sets and handles a huge range without expanding it', async () => {
    const c = await RawImap.connect(port);
    await c.login();
    await c.command('s', 'SELECT INBOX');
    for (const bad of ['0', '1:x', '4294967296', '1,,2', '*:']) {
      assert.match((await c.command('b', `UID FETCH ${bad} FLAGS`)).at(-1)!, /^b BAD/, bad);
    }
    const started = Date.now();
    assert.match((await c.command('h', 'UID FETCH 1:4294967295 FLAGS')).at(-1)!, /^h OK/);
    assert.ok(Date.now() - started < 2000);
    c.close();
  });

  it('refuses mailbox names that traverse, collide or hide control characters', async () => {
    const c = await RawImap.connect(port);
    await c.login();
    const cases: [string, RegExp][] = [
      ['"../etc"', /NO \[CANNOT\]/],
      ['"a/../b"', /NO \[CANNOT\]/],
      ['"/abs"', /NO \[CANNOT\]/],
      ['"a//b"', /NO \[CANNOT\]/],
      ['"&AC8-"', /NO \[CANNOT\]|BAD/], // modified UTF-7 for "/"
      ['"&Jjo!"', /BAD/], // malformed modified UTF-7
      ['"x*y"', /NO \[CANNOT\]/],
      ['inbox', /NO \[ALREADYEXISTS\]/],
      ['Sent', /NO \[ALREADYEXISTS\]/],
      ['{3}\r\na\0b', /BAD/],
    ];
    for (const [i, [name, expected]] of cases.entries()) {
      const tag = `c${i}`;
      if (name.startsWith('{')) {
        c.write(`${tag} CREATE {3}\r\n`);
        await c.until(/^\+/);
        c.write('a\0b\r\n');
      } else c.write(`${tag} CREATE ${name}\r\n`);
      const r = await c.until(new RegExp(`^${tag} `));
      assert.match(r.at(-1)!, expected, name);
    }
    const list = await c.command('l', 'LIST "" "*"');
    assert.ok(!list.some((l) => /etc|abs|x\*y/.test(l)), list.join('\n'));
    c.close();
  });

  it('on the cleartext port: LOGINDISABLED, no LOGIN before TLS, and nothing injected behind STARTTLS runs', async () => {
    const c = await RawImap.connect(plainPort, false);
    const caps = await c.command('a1', 'CAPABILITY');
    assert.match(caps.join('\n'), /STARTTLS/);
    assert.match(caps.join('\n'), /LOGINDISABLED/);
    assert.doesNotMatch(caps.join('\n'), /AUTH=PLAIN/);
    assert.match(
      (await c.command('a2', `LOGIN alice@sealpost.test "${PASSWORD}"`)).at(-1)!,
      /^a2 NO \[PRIVACYREQUIRED\]/,
    );
    c.write(`a3 STARTTLS\r\na4 LOGIN alice@sealpost.test "${PASSWORD}"\r\n`);
    await c.until(/^a3 OK/);
    await c.startTls();
    const after = await c.command('a5', 'NOOP');
    assert.ok(!after.some((l) => l.startsWith('a4')), after.join('\n'));
    const caps2 = await c.command('a6', 'CAPABILITY');
    assert.match(caps2.join('\n'), /AUTH=PLAIN/);
    assert.match((await c.command('a7', 'SELECT INBOX')).at(-1)!, /^a7 BAD/); // still not logged in
    c.close();
  });

  it('answers an unknown user exactly like a wrong password', async () => {
    const c = await RawImap.connect(port);
    const a = (await c.command('a1', 'LOGIN alice@sealpost.test "nope"')).at(-1)!;
    const b = (await c.command('a2', 'LOGIN ghost@sealpost.test "nope"')).at(-1)!;
    assert.equal(a.slice(3), b.slice(3));
    assert.match(a, /NO \[AUTHENTICATIONFAILED\]/);
    c.close();
  });

  it('ends a session after too many commands before login, and after the login timeout', async () => {
    const c = await RawImap.connect(port);
    for (let i = 0; i < 25; i++) c.write(`n${i} NOOP\r\n`);
    await c.until(/^\* BYE/);
    await c.closedByServer();
    const idle = await RawImap.connect(port);
    const started = Date.now();
    await idle.until(/^\* BYE/, 15_000);
    assert.ok(Date.now() - started >= 4000);
  });

  it('limits connections per address', async () => {
    const open: RawImap[] = [];
    for (let i = 0; i < 8; i++) open.push(await RawImap.connect(port));
    const extra = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
    const text = await new Promise<string>((resolve) => {
      let s = '';
      extra.on('data', (d) => (s += d.toString()));
      extra.on('close', () => resolve(s));
      extra.on('error', () => resolve(s));
    });
    assert.match(text, /BYE Too many connections/);
    for (const c of open) c.close();
  });

  it('ends a session after too many bad commands', async () => {
    const c = await RawImap.connect(port);
    await c.login();
    for (let i = 0; i < 30; i++) c.write(`x${i} FROB\r\n`);
    await c.until(/^\* BYE/);
    await c.closedByServer();
  });
});
