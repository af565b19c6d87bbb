import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import { type Analyser, createAnalyser } from './analysis.ts';

const message = (subject: string, extra = '') =>
  Buffer.from(
    `From: news@good.example\r\nTo: a@sealpost.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@good.example>\r\n${extra}\r\nBody text.\r\n`,
  );

describe('message analysis pool', () => {
  let dns: DnsTestServer;
  let threaded: Analyser;
  let inline: Analyser;
  before(async () => {
    dns = await startDnsServer();
    dns.set('good.example', 'TXT', ['v=spf1 ip4:127.0.0.1 -all']);
    dns.set('_dmarc.good.example', 'TXT', ['v=DMARC1; p=reject']);
    const opts = { dns: { servers: [`127.0.0.1:${dns.port}`], timeoutMs: 1000 } };
    threaded = createAnalyser({ ...opts, threads: 1 });
    inline = createAnalyser({ ...opts, threads: 0 });
  });
  after(async () => {
    await threaded.close();
    await inline.close();
    await dns.close();
  });

  const input = (m: Buffer, verify = true) => ({
    message: m,
    ip: '127.0.0.1',
    helo: 'client.good.example',
    mailFrom: 'news@good.example',
    hostname: 'mx.sealpost.test',
    verify,
  });

  it('gives the same verdict and summary in a thread as inline', async () => {
    const [a, b] = await Promise.all([
      threaded.analyse(input(message('one'))),
      inline.analyse(input(message('one'))),
    ]);
    assert.equal(a.verdict?.spf, 'pass');
    assert.equal(a.verdict?.dmarc.result, 'pass');
    assert.equal(a.content.summary.subject, 'one');
    assert.deepEqual({ ...a.content.summary }, { ...b.content.summary });
    assert.equal(a.verdict?.spf, b.verdict?.spf);
  });

  it('answers many concurrent tasks, each with its own result', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => threaded.analyse(input(message(`m${i}`)))),
    );
    for (const [i, r] of results.entries()) assert.equal(r.content.summary.subject, `m${i}`);
  });

  it('survives malformed MIME and skips verification when told to', async () => {
    const broken = message(
      'broken',
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n',
    );
    const r = await threaded.analyse(input(broken, false));
    assert.equal(r.verdict, null);
    assert.equal(r.content.summary.subject, 'broken');
  });

  it('reports DNS failure as a temporary verdict, not an error', async () => {
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((r) => closed.bind(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    closed.close();
    const unreachable = createAnalyser({
      dns: { servers: [`127.0.0.1:${port}`], timeoutMs: 300 },
      threads: 1,
    });
    try {
      const r = await unreachable.analyse(input(message('nodns')));
      assert.match(r.verdict?.spf ?? '', /temperror|none|neutral/);
      assert.equal(r.content.summary.subject, 'nodns');
    } finally {
      await unreachable.close();
    }
  });
});
