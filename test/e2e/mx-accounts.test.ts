// Account state as the MX sees it at RCPT: quota (RFC 3463 4.2.2 / 5.2.2, with the
// SIZE declared at MAIL FROM, RFC 1870) and disabled accounts (5.2.1).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countAll } from '../support/mailbox.ts';
import { type InProcess, type Installation, install, runCli, startInProcess } from '../support/server.ts';
import { message, RawSmtp } from '../support/smtp-raw.ts';

async function deliverTo(port: number, rcpt: string, size?: number) {
  const { client } = await RawSmtp.connect(port);
  await client.cmd('EHLO client.example.org');
  await client.cmd(`MAIL FROM:<sender@example.org>${size ? ` SIZE=${size}` : ''}`);
  const rcptReply = await client.cmd(`RCPT TO:<${rcpt}>`);
  let dataReply = null;
  if (rcptReply.code === 250) {
    await client.cmd('DATA');
    dataReply = await client.cmd(`${message({ to: rcpt, body: 'q'.repeat(600) })}.`);
  }
  client.close();
  return { rcpt: rcptReply, data: dataReply };
}

for (const mode of ['temporary', 'permanent'] as const) {
  describe(`MX account checks (quota_exceeded = ${mode})`, () => {
    let inst: Installation;
    let srv: InProcess;
    before(async () => {
      inst = await install({
        users: ['alice@sealpost.test', 'bob@sealpost.test'],
        env: { SEALPOST_MX_QUOTA_EXCEEDED: mode },
      });
      assert.equal((await runCli(inst, ['user', 'quota', 'bob@sealpost.test', '2KiB'])).code, 0);
      assert.equal((await runCli(inst, ['user', 'disable', 'alice@sealpost.test'])).code, 0);
      srv = await startInProcess(inst);
    });
    after(async () => {
      await srv.server.stop();
      await inst.cleanup();
    });

    const expected =
      mode === 'temporary'
        ? { code: 452, text: /^4\.2\.2 Mailbox full/ }
        : { code: 552, text: /^5\.2\.2 Mailbox full/ };

    it('refuses a declared SIZE larger than the remaining quota at RCPT', async () => {
      const r = await deliverTo(srv.mxPort, 'bob@sealpost.test', 5000);
      assert.equal(r.rcpt.code, expected.code);
      assert.match(r.rcpt.text, expected.text);
      assert.equal(await countAll(inst, 'bob@sealpost.test'), 0);
    });

    it('accepts while under quota, then refuses once full', async () => {
      let accepted = 0;
      for (let i = 0; i < 6; i++) {
        const r = await deliverTo(srv.mxPort, 'bob@sealpost.test');
        if (r.rcpt.code === 250) {
          assert.equal(r.data?.code, 250);
          accepted++;
          continue;
        }
        assert.equal(r.rcpt.code, expected.code);
        assert.match(r.rcpt.text, expected.text);
        break;
      }
      assert.ok(accepted >= 1 && accepted < 6, `accepted ${accepted} before the quota stopped it`);
      assert.equal(await countAll(inst, 'bob@sealpost.test'), accepted);
    });

    it('refuses a disabled account with 550 5.2.1', async () => {
      const r = await deliverTo(srv.mxPort, 'alice@sealpost.test');
      assert.equal(r.rcpt.code, 550);
      assert.match(r.rcpt.text, /^5\.2\.1 Mailbox disabled/);
    });
  });
}
