// `sealpost dkim` as an admin uses it, against a real local DNS server: generate a pair
// and publish exactly the records it prints, activation refused until DNS has them,
// rotation with overlap, list/dns/retire, clear errors and exit codes, the audit trail;
// then the keys it made sign a message that mailauth verifies over the same DNS.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dkimVerify } from 'mailauth';
import { openRuntime } from '../../src/app/runtime.ts';
import { loadConfig } from '../../src/config/index.ts';
import { DkimKeyring } from '../../src/delivery/dkim/index.ts';
import { createDnsResolver, resolveFunction } from '../../src/net/dns.ts';
import { type DnsTestServer, startDnsServer } from '../support/dns-server.ts';
import { runCli } from '../support/server.ts';

interface PrintedRecord {
  name: string;
  selector: string;
  state: string;
  value: string;
  zone: string;
}

/** Publish a printed zone-file line as it stands: its quoted character-strings, in order. */
function publishZoneLine(dns: DnsTestServer, zone: string): void {
  const m = /^(\S+)\. IN TXT \( (.*) \)$/.exec(zone);
  assert.ok(m, `not a zone line: ${zone}`);
  const strings = [...(m[2] ?? '').matchAll(/"([^"]*)"/g)].map((s) => s[1] ?? '');
  assert.ok(strings.every((s) => s.length <= 255));
  dns.set(m[1] ?? '', 'TXT', [strings]);
}

describe('sealpost dkim', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let dns: DnsTestServer;
  const cli = (args: string[]) => runCli({ env }, args);
  const json = async (args: string[]) => {
    const r = await cli([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sealpost-cli-dkim-'));
    dns = await startDnsServer({});
    env = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      SEALPOST_CONFIG: path.join(dir, 'sealpost.toml'),
      SEALPOST_DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SEALPOST_DNS_TIMEOUT_MS: '2000',
    };
    assert.equal((await cli(['init', '--hostname', 'mail.example.org'])).code, 0);
    assert.equal((await cli(['domain', 'add', 'example.org'])).code, 0);
  });
  after(async () => {
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let first: { generation: string; records: PrintedRecord[] };

  it('generate prints the DNS records to publish and the activate command', async () => {
    const r = await cli(['dkim', 'generate', 'example.org']);
    assert.equal(r.code, 0, r.stderr);
    const gen = /sealpost dkim activate example\.org (sp\d{6})\n?$/.exec(r.stdout)?.[1];
    assert.ok(gen, r.stdout);
    assert.match(
      r.stdout,
      new RegExp(`generated DKIM keys for example\\.org: ${gen}e \\(ed25519\\), ${gen}r \\(rsa\\) — pending`),
    );
    assert.match(r.stdout, /Publish these DNS records:/);
    assert.match(
      r.stdout,
      new RegExp(
        `^${gen}e\\._domainkey\\.example\\.org\\. IN TXT \\( "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \\)$`,
        'm',
      ),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `^${gen}r\\._domainkey\\.example\\.org\\. IN TXT \\( "v=DKIM1; k=rsa; p=MII[^"]+" "[^"]+" \\)$`,
        'm',
      ),
    );
    const dnsOut = await json(['dkim', 'dns', 'example.org']);
    first = { generation: gen, records: dnsOut };
    assert.deepEqual(
      dnsOut.map((x: PrintedRecord) => [x.selector, x.state]),
      [
        [`${gen}e`, 'pending'],
        [`${gen}r`, 'pending'],
      ],
    );
  });

  it('activate is refused until DNS publishes the keys, then the pair signs', async () => {
    const { generation, records } = first;
    const refused = await cli(['dkim', 'activate', 'example.org', generation]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /DNS does not publish the new DKIM keys yet/);
    assert.match(
      refused.stderr,
      new RegExp(`${generation}e\\._domainkey\\.example\\.org: no TXT record there`),
    );
    assert.match(refused.stderr, /--force/);
    for (const r of records) publishZoneLine(dns, r.zone);
    const ok = await cli(['dkim', 'activate', 'example.org', `${generation}e`, `${generation}r`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(
      ok.stdout.trim(),
      `example.org now signs with ${generation}e (ed25519) and ${generation}r (rsa)`,
    );
  });

  it('rotates with overlap: the new pair signs, the old one stays published until retired', async () => {
    const gen = await json(['dkim', 'generate', 'example.org']);
    assert.equal(gen.generation, `${first.generation}-2`);
    for (const r of gen.records as PrintedRecord[]) publishZoneLine(dns, r.zone);
    const before = Date.now();
    const r = await cli(['dkim', 'activate', 'example.org', gen.generation, '--overlap', '2d']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `retiring ${first.generation}e, ${first.generation}r: no longer signing; keep their DNS records until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC`,
      ),
    );
    const keys = await json(['dkim', 'list', 'example.org']);
    assert.deepEqual(
      keys.map((k: { selector: string; state: string }) => `${k.selector} ${k.state}`),
      [
        `${first.generation}e retiring`,
        `${first.generation}r retiring`,
        `${gen.generation}e active`,
        `${gen.generation}r active`,
      ],
    );
    const retireAt = keys[0].retireAt as number;
    assert.ok(retireAt >= before + 2 * 86_400_000 && retireAt <= Date.now() + 2 * 86_400_000);
    assert.equal(JSON.stringify(keys).includes('sealedPrivateKey'), false);
    const table = await cli(['dkim', 'list']);
    assert.match(
      table.stdout,
      new RegExp(`example\\.org\\s+${first.generation}e\\s+ed25519\\s+retiring\\s+created .* retire \\d{4}-`),
    );
    const text = await cli(['dkim', 'dns', 'example.org']);
    assert.equal(text.stdout.match(/ IN TXT /g)?.length, 4);
    assert.match(
      text.stdout,
      new RegExp(`; ${first.generation}r \\(retiring\\)\\n${first.generation}r\\._domainkey`),
    );
    const retired = await cli(['dkim', 'retire', 'example.org', first.generation]);
    assert.equal(retired.code, 0, retired.stderr);
    assert.match(retired.stdout, new RegExp(`${first.generation}e: retired; its DNS record may be removed`));
    const published = await json(['dkim', 'dns', 'example.org']);
    assert.deepEqual(
      published.map((x: PrintedRecord) => x.selector),
      [`${gen.generation}e`, `${gen.generation}r`],
    );
  });

  it('gives clear errors and exit codes, changing nothing', async () => {
    const before = await json(['dkim', 'list']);
    const cases: [string[], number, RegExp][] = [
      [
        ['dkim', 'generate', 'nothosted.example'],
        1,
        /domain nothosted\.example is not hosted here\. Fix: `sealpost domain add/,
      ],
      [['dkim', 'generate', 'bad..domain'], 2, /not a valid domain name/],
      [['dkim', 'dns', 'nothosted.example'], 1, /not hosted here/],
      [['dkim', 'list', 'nothosted.example'], 1, /not hosted here/],
      [
        ['dkim', 'activate', 'example.org', 'sp190001'],
        1,
        /example\.org has no DKIM key or generation "sp190001"/,
      ],
      [
        ['dkim', 'activate', 'example.org', `${first.generation}e`],
        2,
        /is retired; only a pending key can be activated/,
      ],
      [['dkim', 'activate', 'example.org'], 2, /missing selector or generation/],
      [['dkim', 'retire', 'example.org', first.generation], 2, /already retired/],
      [['dkim', 'retire', 'example.org', 'nosuch'], 1, /no DKIM key or generation "nosuch"/],
      [
        ['dkim', 'activate', 'example.org', 'x', '--overlap', 'soon'],
        2,
        /--overlap "soon": use days or hours/,
      ],
      [['dkim', 'rotate'], 2, /usage: sealpost dkim generate DOMAIN/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.deepEqual(await json(['dkim', 'list']), before);
  });

  it('--force activates a pair without checking DNS', async () => {
    const gen = await json(['dkim', 'generate', 'example.org']);
    const r = await cli(['dkim', 'activate', 'example.org', gen.generation, '--force']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /DNS was not checked \(--force\)/);
    // Publish it now, so the signing test below can verify against it.
    for (const rec of gen.records as PrintedRecord[]) publishZoneLine(dns, rec.zone);
  });

  it('every change is in the audit log, and the log verifies', async () => {
    const rows = await json(['audit', 'list']);
    const actions = rows
      .map((row: { action: string }) => row.action)
      .filter((a: string) => a.startsWith('dkim.'));
    assert.deepEqual(actions, [
      'dkim.generate',
      'dkim.activate',
      'dkim.generate',
      'dkim.activate',
      'dkim.retire',
      'dkim.generate',
      'dkim.activate',
    ]);
    assert.equal((await cli(['audit', 'verify'])).code, 0);
  });

  it('the keys it made sign mail that verifies over DNS, both Ed25519 and RSA', async () => {
    const config = loadConfig({ file: env['SEALPOST_CONFIG'] ?? '', env });
    const rt = await openRuntime(config, { env });
    try {
      const keyring = new DkimKeyring({ store: rt.store, keys: rt.keys });
      const raw = Buffer.from(
        'From: alice@example.org\r\nTo: bob@example.net\r\nSubject: signed by the CLI keys\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-ID: <cli-dkim@example.org>\r\n\r\nHello.\r\n',
      );
      const signed = await keyring.sign(raw, 'example.org');
      assert.equal(signed.signatures.length, 2);
      const resolver = createDnsResolver({ servers: [`127.0.0.1:${dns.port}`], timeoutMs: 2000 });
      const { results } = await dkimVerify(signed.message, { resolver: resolveFunction(resolver) as never });
      assert.deepEqual(
        results.map((r) => [r.algo, r.status.result]),
        [
          ['ed25519-sha256', 'pass'],
          ['rsa-sha256', 'pass'],
        ],
      );
    } finally {
      await rt.close();
    }
  });
});
