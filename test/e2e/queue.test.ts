// The outbound queue as an admin and a sender see it (issue 5 item 3): mail to a
// destination that does not answer waits in the queue with its last error, the sender
// is told once when it is delayed (RFC 3464 Action: delayed), and `sealpost queue
// list/show/retry/delete` work, are audited, and refuse unknown ids clearly.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { type DnsTestServer, startDnsServer } from '../support/dns-server.ts';
import { readMailbox } from '../support/mailbox.ts';
import { waitFor } from '../support/outbound.ts';
import {
  freePort,
  type InProcess,
  type Installation,
  install,
  PASSWORD,
  runCli,
  startInProcess,
} from '../support/server.ts';

const ALICE = 'alice@sealpost.test';

interface Listed {
  id: string;
  mailFrom: string;
  recipients: { address: string; state: string; attempts: number; lastStatus: { text: string } | null }[];
  headers?: string;
}

describe('the outbound queue: waiting mail, delay notices and the queue CLI', () => {
  let dns: DnsTestServer;
  let inst: Installation;
  let srv: InProcess;

  before(async () => {
    dns = await startDnsServer();
    dns.set('down.example', 'MX', [{ preference: 10, exchange: 'mx.down.example' }]);
    dns.set('mx.down.example', 'A', ['127.0.0.9']); // nothing listens there
    inst = await install({
      env: {
        SEALPOST_DNS_SERVERS: `127.0.0.1:${dns.port}`,
        SEALPOST_DELIVERY_ALLOW_PRIVATE_ADDRESSES: 'true',
        SEALPOST_DELIVERY_REMOTE_PORT: String(await freePort()),
        SEALPOST_DELIVERY_FIRST_RETRY_SECONDS: '1',
        SEALPOST_DELIVERY_MAX_RETRY_MINUTES: '1',
        SEALPOST_DELIVERY_DELAY_WARNING_HOURS: '0.0005', // 1.8 s
      },
    });
    srv = await startInProcess(inst);
  });
  after(async () => {
    await srv.server.stop();
    await dns.close();
    await inst.cleanup();
  });

  const submit = async (subject: string) => {
    const port = srv.server.listening.find((l) => l.role === 'submission' && l.security === 'tls')!.port;
    const info = await nodemailer
      .createTransport({
        host: '127.0.0.1',
        port,
        secure: true,
        auth: { user: ALICE, pass: PASSWORD },
        tls: { rejectUnauthorized: false },
      })
      .sendMail({ from: ALICE, to: 'someone@down.example', subject, text: 'waiting' });
    return /queued as (que_\S+)/.exec(info.response)![1]!;
  };
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await runCli(inst, [...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };

  it('keeps undeliverable mail with its last error and tells the sender once that it is delayed', async () => {
    const id = await submit('Delayed one');
    const shown = await waitFor('an attempt', async () => {
      const m = await json<Listed>(['queue', 'show', id]);
      return m.recipients[0]!.attempts > 0 ? m : null;
    });
    assert.equal(shown.recipients[0]!.state, 'queued');
    assert.match(shown.recipients[0]!.lastStatus!.text, /No answer from mx\.down\.example/);
    const notice = await waitFor('the delay notice', async () => {
      const inbox = await readMailbox(inst, ALICE);
      return inbox.find((m) => /Delayed mail/.test(m.summary.subject ?? '')) ?? null;
    });
    assert.match(notice.raw, /Action: delayed\r\nStatus: 4\.4\.1\r\n/);
    assert.match(notice.raw, /Will-Retry-Until: /);
    await new Promise((r) => setTimeout(r, 3000)); // more attempts happen; no second notice
    const notices = (await readMailbox(inst, ALICE)).filter((m) =>
      /Delayed mail/.test(m.summary.subject ?? ''),
    );
    assert.equal(notices.length, 1);
    assert.ok((await json<Listed>(['queue', 'show', id])).recipients[0]!.attempts >= 2);
  });

  it('list, show --headers, retry and delete work, are audited, and refuse unknown ids', async () => {
    const id = await submit('Second');
    const list = await json<Listed[]>(['queue', 'list']);
    assert.ok(
      list.some(
        (m) => m.id === id && m.mailFrom === ALICE && m.recipients[0]!.address === 'someone@down.example',
      ),
    );
    const text = await runCli(inst, ['queue', 'list']);
    assert.match(text.stdout, new RegExp(`${id}  .*<alice@sealpost\\.test>  1/1 waiting`));
    const withHeaders = await json<Listed>(['queue', 'show', id, '--headers']);
    assert.match(withHeaders.headers ?? '', /Subject: Second/);
    assert.doesNotMatch(JSON.stringify(withHeaders), /waiting/, 'the body is never shown');
    assert.equal((await runCli(inst, ['queue', 'retry', id])).code, 0);
    const deleted = await runCli(inst, ['queue', 'delete', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    for (const args of [
      ['queue', 'show', id],
      ['queue', 'delete', id],
      ['queue', 'retry', id],
      ['queue', 'show', '../../etc/passwd'],
    ]) {
      const r = await runCli(inst, args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /no queued message/);
    }
    const bad = await runCli(inst, ['queue', 'frobnicate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /usage: sealpost queue/);
    const audit = await runCli(inst, ['audit', 'list']);
    for (const action of ['queue.list', 'queue.show', 'queue.retry', 'queue.delete'])
      assert.match(audit.stdout, new RegExp(action.replace('.', '\\.')));
    assert.equal((await runCli(inst, ['audit', 'verify'])).code, 0);
  });
});
