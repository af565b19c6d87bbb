// resolveDestination end to end: MX route, MTA-STS over real HTTPS, DANE over the AD bit of the
// local DNS server, and the per-host TLS plans that result.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import { createTestCa, type HttpsTestServer, startHttpsServer } from '../../test/support/https-server.ts';
import { createDnsResolver, type DnsResolver } from '../net/dns.ts';
import { type Destination, resolveDestination } from './destination.ts';
import { createDnssecQuery, type DnssecQuery } from './dns-dnssec.ts';
import { MtaSts } from './mta-sts.ts';

const policy = (mode: string, mx: string) => `version: STSv1\nmode: ${mode}\nmx: ${mx}\nmax_age: 86400\n`;

describe('resolveDestination', () => {
  let dns: DnsTestServer;
  let web: HttpsTestServer;
  let resolver: DnsResolver;
  let dnssec: DnssecQuery;
  let mtaSts: MtaSts;
  const policies = new Map<string, string>([
    ['mta-sts.sts.example', policy('enforce', 'mx1.sts.example')],
    ['mta-sts.rogue.example', policy('enforce', 'mx1.sts.example')],
    ['mta-sts.testing.example', policy('testing', 'mx1.sts.example')],
    ['mta-sts.dane.example', policy('enforce', 'other.example')],
  ]);

  before(async () => {
    const ca = await createTestCa();
    const leaf = await ca.issue([...policies.keys()]);
    web = await startHttpsServer(leaf.certPem, leaf.keyPem);
    web.handle((req, res) => {
      const body = policies.get((req.headers.host ?? '').replace(/:\d+$/, ''));
      if (body) res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
      else res.writeHead(404).end();
    });
    dns = await startDnsServer({
      'sts.example': {
        MX: [
          { preference: 10, exchange: 'mx1.sts.example' },
          { preference: 20, exchange: 'rogue.other.example' },
        ],
      },
      'rogue.example': { MX: [{ preference: 10, exchange: 'rogue.other.example' }] },
      'testing.example': { MX: [{ preference: 10, exchange: 'rogue.other.example' }] },
      'mx1.sts.example': { A: ['127.0.0.2'] },
      'rogue.other.example': { A: ['127.0.0.3'] },
      'dane.example': { MX: [{ preference: 10, exchange: 'mx.dane.example' }] },
      'mx.dane.example': { A: ['127.0.0.4'] },
      '_25._tcp.mx.dane.example': {
        TLSA: [{ usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 5) }],
      },
      'plain.example': { MX: [{ preference: 10, exchange: 'mx1.sts.example' }] },
      'nullmx.example': { MX: [{ preference: 0, exchange: '.' }] },
    });
    for (const d of ['sts', 'rogue', 'testing', 'dane']) {
      dns.set(`_mta-sts.${d}.example`, 'TXT', ['v=STSv1; id=1;']);
      dns.set(`mta-sts.${d}.example`, 'A', ['127.0.0.1']);
    }
    dns.setSecure('dane.example');
    resolver = createDnsResolver({ servers: [`127.0.0.1:${dns.port}`], timeoutMs: 2000 });
    dnssec = createDnssecQuery({ server: `127.0.0.1:${dns.port}`, timeoutMs: 2000 });
    mtaSts = new MtaSts({ resolver, ca: ca.certPem, port: web.port, timeoutMs: 3000 });
  });

  after(async () => {
    await Promise.all([dns.close(), web.close()]);
  });

  const deliver = (d: Destination) => {
    assert.equal(d.kind, 'deliver', d.kind === 'deliver' ? '' : d.reason);
    return d as Extract<Destination, { kind: 'deliver' }>;
  };

  it('MTA-STS enforce: only matching MX hosts are candidates, PKIX required', async () => {
    const d = deliver(await resolveDestination('sts.example', { resolver, mtaSts, dnssec }));
    assert.deepEqual(
      d.candidates.map((c) => [
        c.host.name,
        c.host.addresses,
        c.plan.tls,
        c.plan.check.kind,
        c.plan.cleartextFallback,
      ]),
      [['mx1.sts.example', ['127.0.0.2'], 'required', 'pkix', false]],
    );
    assert.deepEqual(d.candidates[0]?.rptPolicy, {
      type: 'sts',
      domain: 'sts.example',
      strings: ['version: STSv1', 'mode: enforce', 'mx: mx1.sts.example', 'max_age: 86400'],
      mxHosts: ['mx1.sts.example'],
    });
    assert.deepEqual(
      d.refused.map((r) => [r.host.name, r.plan.failure]),
      [['rogue.other.example', 'validation-failure']],
    );
    assert.equal(d.sts?.source, 'fetched');
  });

  it('MTA-STS enforce with no matching MX: a temporary failure, nothing to connect to', async () => {
    const d = await resolveDestination('rogue.example', { resolver, mtaSts, dnssec });
    assert.equal(d.kind, 'temporary');
    if (d.kind === 'temporary') {
      assert.equal(d.status, '4.7.5');
      assert.match(d.reason, /rogue\.other\.example: MTA-STS enforce/);
    }
  });

  it('MTA-STS testing: delivers opportunistically and flags the mismatch for TLS-RPT', async () => {
    const d = deliver(await resolveDestination('testing.example', { resolver, mtaSts }));
    const c = d.candidates[0];
    assert.deepEqual(
      [c?.plan.tls, c?.plan.enforceCheck, c?.plan.failure, c?.rptPolicy.type],
      ['opportunistic', false, 'validation-failure', 'sts'],
    );
  });

  it('DANE wins over MTA-STS when the zone is signed; without dnssec it does not apply', async () => {
    const d = deliver(await resolveDestination('dane.example', { resolver, mtaSts, dnssec }));
    const c = d.candidates[0];
    assert.deepEqual([c?.plan.check.kind, c?.plan.tls, c?.rptPolicy.type], ['dane', 'required', 'tlsa']);
    assert.deepEqual(c?.rptPolicy.strings, [`3 1 1 ${'05'.repeat(32)}`]);
    const noDane = await resolveDestination('dane.example', { resolver, mtaSts });
    assert.equal(
      noDane.kind,
      'temporary',
      'without DANE the STS policy (mx: other.example) refuses mx.dane.example',
    );
  });

  it('no policy: opportunistic; route failures pass through', async () => {
    const d = deliver(await resolveDestination('plain.example', { resolver, mtaSts, dnssec }));
    assert.deepEqual(
      [d.candidates[0]?.plan.tls, d.candidates[0]?.rptPolicy.type, d.sts?.source],
      ['opportunistic', 'no-policy-found', 'none'],
    );
    const nullMx = await resolveDestination('nullmx.example', { resolver, mtaSts, dnssec });
    assert.deepEqual(nullMx.kind === 'permanent' && nullMx.status, '5.1.10');
    const literal = deliver(await resolveDestination('[127.0.0.9]', { resolver, dnssec }));
    assert.deepEqual(literal.candidates[0]?.host.addresses, ['127.0.0.9']);
  });
});
