// Publishing a domain (issue 5 item 6): `sealpost quickstart DOMAIN` hosts it, makes a
// DKIM pair and prints every DNS record; the web role serves the MTA-STS policy and
// client autoconfiguration for hosted domains only, by Host name.

import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { parseStsPolicy, parseStsTxt } from '../../src/delivery/mta-sts-policy.ts';
import { type InProcess, type Installation, install, runCli, startInProcess } from '../support/server.ts';

function get(
  port: number,
  host: string,
  path: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        servername: 'localhost',
        headers: { host },
        rejectUnauthorized: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('quickstart and the documents a domain publishes', () => {
  let inst: Installation;
  let srv: InProcess;
  let webPort: number;

  before(async () => {
    inst = await install();
    srv = await startInProcess(inst);
    webPort = srv.server.listening.find((l) => l.role === 'web')!.port;
  });
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('quickstart hosts the domain, makes one DKIM pair and prints every record', async () => {
    const r = await runCli(inst, ['quickstart', 'Example.ORG', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      records: { name: string; type: string; value: string }[];
      next: string[];
    };
    const find = (name: string, type: string) =>
      out.records.filter((x) => x.name === name && x.type === type);
    assert.deepEqual(
      find('example.org', 'MX').map((x) => x.value),
      ['10 mx.sealpost.test.'],
    );
    assert.match(find('example.org', 'TXT')[0]!.value, /v=spf1 mx -all/);
    const dkim = out.records.filter((x) => x.name.endsWith('._domainkey.example.org'));
    assert.equal(dkim.length, 2);
    assert.ok(dkim.some((x) => /k=ed25519; p=[A-Za-z0-9+/]{43}=/.test(x.value)));
    assert.ok(dkim.some((x) => /k=rsa; p=/.test(x.value)));
    assert.match(find('_dmarc.example.org', 'TXT')[0]!.value, /v=DMARC1; p=quarantine/);
    assert.match(
      find('_smtp._tls.example.org', 'TXT')[0]!.value,
      /v=TLSRPTv1; rua=mailto:postmaster@example\.org/,
    );
    assert.match(find('_submissions._tcp.example.org', 'SRV')[0]!.value, /^0 1 \d+ mx\.sealpost\.test\.$/);
    assert.equal(find('_imap._tcp.example.org', 'SRV')[0]!.value, '0 0 0 .', 'cleartext IMAP is not offered');
    assert.ok(out.next.some((s) => s.includes('sealpost dkim activate example.org')));
    // The TXT id is the one the served policy belongs to.
    const sts = find('_mta-sts.example.org', 'TXT')[0]!.value.replace(/"/g, '');
    const txt = parseStsTxt([[sts]]);
    assert.ok(txt.ok);

    const again = await runCli(inst, ['quickstart', 'example.org', '--json']);
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(again.stdout) as { records: { name: string }[]; steps: string[] };
    assert.equal(
      second.records.filter((x) => x.name.endsWith('._domainkey.example.org')).length,
      2,
      'no second pair',
    );
    assert.deepEqual(second.steps, []);
    const domains = await runCli(inst, ['domain', 'list']);
    assert.match(domains.stdout, /example\.org/);
  });

  it('refuses a name that is not a domain and changes nothing', async () => {
    const r = await runCli(inst, ['quickstart', 'not a domain']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a valid domain/);
    const traversal = await runCli(inst, ['quickstart', '../../etc']);
    assert.equal(traversal.code, 2);
  });

  it('serves the MTA-STS policy on mta-sts.DOMAIN for hosted domains only', async () => {
    const ok = await get(webPort, 'mta-sts.sealpost.test', '/.well-known/mta-sts.txt');
    assert.equal(ok.status, 200);
    assert.match(ok.type, /^text\/plain/);
    const policy = parseStsPolicy(ok.body);
    assert.ok(policy.ok, ok.body);
    assert.equal(policy.value.mode, 'testing');
    assert.deepEqual(policy.value.mx, ['mx.sealpost.test']);
    for (const host of [
      'mta-sts.unhosted.example',
      'sealpost.test',
      'mta-sts.',
      'mta-sts.sealpost.test.evil.example',
    ]) {
      assert.equal((await get(webPort, host, '/.well-known/mta-sts.txt')).status, 404, host);
    }
  });

  it('serves mail client autoconfiguration for hosted domains', async () => {
    const r = await get(webPort, 'autoconfig.sealpost.test', '/mail/config-v1.1.xml');
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/xml/);
    assert.match(r.body, /<incomingServer type="imap">[\s\S]*<socketType>SSL<\/socketType>/);
    assert.match(r.body, /<outgoingServer type="smtp">/);
    const byQuery = await get(
      webPort,
      'localhost',
      '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40sealpost.test',
    );
    assert.equal(byQuery.status, 200);
    const unhosted = await get(
      webPort,
      'localhost',
      '/mail/config-v1.1.xml?emailaddress=a%40elsewhere.example',
    );
    assert.equal(unhosted.status, 404);
  });
});
