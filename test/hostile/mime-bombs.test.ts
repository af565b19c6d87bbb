// MIME nesting and part-count bombs (issue 6 item 4), delivered to the MX over SMTP
// and APPENDed over IMAP, then read back (BODYSTRUCTURE, a body part, SEARCH TEXT).
// src/mime/structure.ts caps nesting at MAX_DEPTH (32: deeper containers become
// opaque leaves) and parts at MAX_PARTS (5000: the rest belongs to no part), so each
// bomb is accepted with a clear answer and costs linear time. The event-loop
// watchdog fails the file if any single task blocks the loop for more than 100 ms;
// the largest task is printed with the watchdog line. Sources: RFC 2046 §5.1 (nested
// multiparts, no depth limit in the RFC), RFC 2046 §5.2.1 (message/rfc822), CWE-674
// (uncontrolled recursion) and CWE-400 (resource consumption).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { imapPort, RawImap } from '../support/imap.ts';
import { countAll } from '../support/mailbox.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';
import { RawSmtp } from '../support/smtp-raw.ts';
import { useWatchdog } from '../support/watchdog.ts';

const ALICE = 'alice@sealpost.test';
const HEAD =
  'From: bomber@example.org\r\nTo: alice@sealpost.test\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n';

/** multipart/mixed nested `depth` deep, a text leaf at the bottom. */
function nestingBomb(depth: number): string {
  let body = 'Content-Type: text/plain\r\n\r\nbottom of the well\r\n';
  for (let i = depth - 1; i >= 0; i--) {
    const b = `n${i}`;
    body = `Content-Type: multipart/mixed; boundary="${b}"\r\n\r\n--${b}\r\n${body}\r\n--${b}--\r\n`;
  }
  return `${HEAD}Subject: nesting bomb ${depth}\r\nMIME-Version: 1.0\r\n${body}`;
}

/** message/rfc822 nested `depth` deep. */
function rfc822Bomb(depth: number): string {
  let body = 'Subject: inner\r\n\r\nbottom\r\n';
  for (let i = 0; i < depth; i++) body = `Subject: level ${i}\r\nContent-Type: message/rfc822\r\n\r\n${body}`;
  return `${HEAD}MIME-Version: 1.0\r\n${body}`;
}

/** One multipart with `parts` tiny parts. */
function partBomb(parts: number): string {
  const one = '--p\r\n\r\nx\r\n';
  return `${HEAD}Subject: part bomb ${parts}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n${one.repeat(parts)}--p--\r\n`;
}

function dotStuff(m: string): string {
  return m.replace(/^\./gm, '..');
}

const BOMBS: readonly [string, string][] = [
  ['multipart nesting 2000 deep', nestingBomb(2000)],
  ['message/rfc822 nesting 2000 deep', rfc822Bomb(2000)],
  ['200,000 parts', partBomb(200_000)],
];

describe('MIME nesting and part-count bombs', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;
  let stored = 0;

  before(async () => {
    inst = await install({ env: { SEALPOST_IMAP_APPEND_LIMIT: '8MiB' } });
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
  });
  useWatchdog('mime bombs');
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  for (const [name, bomb] of BOMBS) {
    it(`SMTP: ${name} is accepted with 250 and stored`, async () => {
      const { client } = await RawSmtp.connect(srv.mxPort);
      await client.cmd('EHLO client.example.org');
      assert.equal((await client.cmd('MAIL FROM:<bomber@example.org>')).code, 250);
      assert.equal((await client.cmd(`RCPT TO:<${ALICE}>`)).code, 250);
      assert.equal((await client.cmd('DATA')).code, 354);
      client.write(`${dotStuff(bomb)}.\r\n`);
      const r = await client.read(20_000);
      assert.equal(r?.code, 250, r?.text);
      client.close();
      stored++;
      assert.equal(await countAll(inst, ALICE), stored);
    });

    it(`IMAP: ${name} APPENDed; BODYSTRUCTURE, a part 32 deep and SEARCH TEXT answer OK, a part path 33 deep is BAD [TOOBIG]`, async () => {
      const c = await RawImap.connect(port);
      await c.login();
      const size = Buffer.byteLength(bomb);
      c.write(`a APPEND INBOX {${size}}\r\n`);
      await c.until(/^\+/);
      c.write(`${bomb}\r\n`);
      const appended = await c.until(/^a (OK|NO|BAD)/, 20_000);
      assert.match(appended.at(-1)!, /^a OK/, appended.join('\n'));
      stored++;
      await c.command('s', 'SELECT INBOX');
      const bs = await c.command('b', `FETCH ${stored} (BODYSTRUCTURE)`);
      assert.match(bs.at(-1)!, /^b OK/);
      assert.match(bs.join('\n'), /BODYSTRUCTURE \(/);
      const path = (n: number) => Array.from({ length: n }, () => '1').join('.');
      assert.match((await c.command('d', `FETCH ${stored} (BODY.PEEK[${path(32)}])`)).at(-1)!, /^d OK/);
      assert.match(
        (await c.command('e', `FETCH ${stored} (BODY.PEEK[${path(33)}])`)).at(-1)!,
        /^e BAD \[TOOBIG\]/,
        'a part path deeper than MIME nesting (32) is refused clearly',
      );
      const search = await c.command('t', 'SEARCH TEXT "bottom of the well"');
      assert.match(search.at(-1)!, /^t OK/);
      c.close();
    });
  }

  it('the structure limits are visible: depth capped at 32, parts at 5000', async () => {
    const c = await RawImap.connect(port);
    await c.login();
    await c.command('s', 'SELECT INBOX');
    // Message 1 is the 2000-deep multipart: 33 nested opening parentheses at most before the leaf.
    const bs = (await c.command('b', 'FETCH 1 (BODYSTRUCTURE)')).join('\n');
    const opens = /BODYSTRUCTURE (\(+)/.exec(bs)?.[1]?.length ?? 0;
    assert.ok(opens >= 30 && opens <= 34, `nesting shown ${opens} deep`);
    // Message 5 is the 200,000-part bomb: at most 5000 parts are listed.
    const parts = (await c.command('p', 'FETCH 5 (BODYSTRUCTURE)')).join('\n');
    const leaves = parts.match(/\("TEXT" "PLAIN"/gi)?.length ?? 0;
    assert.ok(leaves > 0 && leaves <= 5000, `${leaves} parts shown`);
    c.close();
  });
});
