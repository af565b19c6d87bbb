// MX resolution against the local test DNS server through the production resolver.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import { createDnsResolver, type DnsResolver } from '../net/dns.ts';
import { orderMx, resolveMxRoute } from './mx-route.ts';

describe('resolveMxRoute', () => {
  let server: DnsTestServer;
  let resolver: DnsResolver;

  before(async () => {
    server = await startDnsServer({
      'multi.example': {
        MX: [
          { preference: 20, exchange: 'mx3.multi.example' },
          { preference: 10, exchange: 'mx1.multi.example' },
          { preference: 10, exchange: 'mx2.multi.example' },
        ],
      },
      'mx1.multi.example': { A: ['127.0.0.11'] },
      'mx2.multi.example': { A: ['127.0.0.12'], AAAA: ['::1'] },
      'mx3.multi.example': { A: ['127.0.0.13', '127.0.0.11'] },
      'implicit.example': { A: ['127.0.0.20'], TXT: ['v=spf1 -all'] },
      'noaddr.example': { TXT: ['hello'] },
      'nullmx.example': { MX: [{ preference: 0, exchange: '.' }], A: ['127.0.0.30'] },
      'mixednull.example': {
        MX: [
          { preference: 0, exchange: '.' },
          { preference: 10, exchange: 'mx.implicit.example' },
        ],
      },
      'mx.implicit.example': { A: ['127.0.0.21'] },
      'cname.example': { MX: [{ preference: 5, exchange: 'alias.cname.example' }] },
      'alias.cname.example': { CNAME: ['real.cname.example'] },
      'real.cname.example': { A: ['127.0.0.40'] },
      'literal.example': {
        MX: [
          { preference: 5, exchange: '192.0.2.1' },
          { preference: 10, exchange: 'mx.implicit.example' },
        ],
      },
      'onlyliteral.example': { MX: [{ preference: 5, exchange: '192.0.2.1' }] },
      'dangling.example': { MX: [{ preference: 5, exchange: 'gone.dangling.example' }] },
      'private.example': { MX: [{ preference: 5, exchange: 'mx.private.example' }] },
      'mx.private.example': { A: ['10.0.0.1', '127.0.0.50'] },
      'self.example': {
        MX: [
          { preference: 5, exchange: 'better.self.example' },
          { preference: 10, exchange: 'me.example' },
          { preference: 20, exchange: 'worse.self.example' },
        ],
      },
      'better.self.example': { A: ['127.0.0.60'] },
      'worse.self.example': { A: ['127.0.0.61'] },
      'me.example': { A: ['127.0.0.1'] },
      'loop.example': { MX: [{ preference: 5, exchange: 'me.example' }] },
    });
    const many: { preference: number; exchange: string }[] = [];
    for (let i = 0; i < 15; i++) {
      many.push({ preference: i, exchange: `mx${i}.many.example` });
      server.set(`mx${i}.many.example`, 'A', [`127.0.1.${i}`, `127.0.2.${i}`]);
    }
    server.set('many.example', 'MX', many);
    resolver = createDnsResolver({ servers: [`127.0.0.1:${server.port}`], timeoutMs: 2000 });
  });

  after(() => server.close());

  it('orders MX hosts by preference and resolves A and AAAA, IPv4 first', async () => {
    const route = await resolveMxRoute('Multi.Example.', resolver, { random: () => 0.99 });
    assert.equal(route.kind, 'hosts');
    if (route.kind !== 'hosts') return;
    assert.equal(route.domain, 'multi.example');
    assert.deepEqual(
      route.hosts.map((h) => [h.name, h.preference, h.addresses]),
      [
        ['mx1.multi.example', 10, ['127.0.0.11']],
        ['mx2.multi.example', 10, ['127.0.0.12', '::1']],
        // 127.0.0.11 already belongs to mx1: each address is tried once
        ['mx3.multi.example', 20, ['127.0.0.13']],
      ],
    );
    assert.equal(route.hosts[0]?.implicit, false);
  });

  it('shuffles equal preferences with the injected randomness', async () => {
    const route = await resolveMxRoute('multi.example', resolver, { random: () => 0 });
    assert.equal(route.kind, 'hosts');
    if (route.kind !== 'hosts') return;
    assert.deepEqual(
      route.hosts.map((h) => h.name),
      ['mx2.multi.example', 'mx1.multi.example', 'mx3.multi.example'],
    );
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++)
      seen.add(
        orderMx([
          { preference: 1, n: 'a' },
          { preference: 1, n: 'b' },
          { preference: 0, n: 'c' },
        ])
          .map((r) => r.n)
          .join(''),
      );
    assert.deepEqual([...seen].sort(), ['cab', 'cba']);
  });

  it('uses the implicit MX only when there are no MX records and the domain has addresses', async () => {
    const route = await resolveMxRoute('implicit.example', resolver);
    assert.deepEqual(route, {
      kind: 'hosts',
      domain: 'implicit.example',
      hosts: [{ name: 'implicit.example', preference: 0, addresses: ['127.0.0.20'], implicit: true }],
      skipped: [],
    });
    const none = await resolveMxRoute('noaddr.example', resolver);
    assert.equal(none.kind, 'permanent');
    if (none.kind === 'permanent') assert.match(none.reason, /no MX records and no address records/);
  });

  it('fails permanently for NXDOMAIN, without an implicit MX lookup', async () => {
    server.queries.length = 0;
    const route = await resolveMxRoute('nowhere.example', resolver);
    assert.equal(route.kind, 'permanent');
    if (route.kind === 'permanent') {
      assert.equal(route.status, '5.1.2');
      assert.match(route.reason, /does not exist/);
    }
    assert.deepEqual(
      server.queries.map((q) => q.type),
      ['MX'],
    );
  });

  it('refuses a null MX with 5.1.10 and ignores "." mixed with real MX records', async () => {
    const route = await resolveMxRoute('nullmx.example', resolver);
    assert.equal(route.kind, 'permanent');
    if (route.kind === 'permanent') {
      assert.equal(route.status, '5.1.10');
      assert.match(route.reason, /null MX/);
    }
    const mixed = await resolveMxRoute('mixednull.example', resolver);
    assert.equal(mixed.kind, 'hosts');
    if (mixed.kind === 'hosts')
      assert.deepEqual(
        mixed.hosts.map((h) => h.name),
        ['mx.implicit.example'],
      );
  });

  it('follows an MX that points at a CNAME and skips an address-literal MX', async () => {
    const cname = await resolveMxRoute('cname.example', resolver);
    assert.equal(cname.kind, 'hosts');
    if (cname.kind === 'hosts') assert.deepEqual(cname.hosts[0]?.addresses, ['127.0.0.40']);
    const literal = await resolveMxRoute('literal.example', resolver);
    assert.equal(literal.kind, 'hosts');
    if (literal.kind !== 'hosts') return;
    assert.deepEqual(
      literal.hosts.map((h) => h.name),
      ['mx.implicit.example'],
    );
    assert.match(literal.skipped[0]?.reason ?? '', /address literal/);
    const only = await resolveMxRoute('onlyliteral.example', resolver);
    assert.equal(only.kind, 'permanent');
  });

  it('fails permanently when every MX host is missing', async () => {
    const route = await resolveMxRoute('dangling.example', resolver);
    assert.equal(route.kind, 'permanent');
    if (route.kind === 'permanent') {
      assert.equal(route.status, '5.4.4');
      assert.match(route.reason, /gone\.dangling\.example does not exist/);
    }
  });

  it('drops addresses the caller does not allow', async () => {
    const publicOnly = (a: string) => !a.startsWith('10.');
    const route = await resolveMxRoute('private.example', resolver, { addressFilter: publicOnly });
    assert.equal(route.kind, 'hosts');
    if (route.kind === 'hosts') assert.deepEqual(route.hosts[0]?.addresses, ['127.0.0.50']);
    const none = await resolveMxRoute('private.example', resolver, { addressFilter: () => false });
    assert.equal(none.kind, 'permanent');
    if (none.kind === 'permanent') assert.match(none.reason, /not allowed/);
    const literal = await resolveMxRoute('[10.0.0.1]', resolver, { addressFilter: publicOnly });
    assert.equal(literal.kind, 'permanent');
    const ok = await resolveMxRoute('[127.0.0.9]', resolver, { addressFilter: publicOnly });
    assert.equal(ok.kind, 'hosts');
  });

  it('caps the hosts and addresses tried', async () => {
    const route = await resolveMxRoute('many.example', resolver);
    assert.equal(route.kind, 'hosts');
    if (route.kind !== 'hosts') return;
    assert.equal(route.hosts.length, 10);
    assert.equal(route.hosts.flatMap((h) => h.addresses).length, 20);
    const small = await resolveMxRoute('many.example', resolver, { maxHosts: 3, maxAddresses: 5 });
    assert.equal(small.kind, 'hosts');
    if (small.kind !== 'hosts') return;
    assert.deepEqual(
      small.hosts.map((h) => h.addresses.length),
      [2, 2, 1],
    );
  });

  it('uses only MX hosts more preferred than this server, and refuses a loop', async () => {
    const route = await resolveMxRoute('self.example', resolver, { localHostnames: ['ME.example'] });
    assert.equal(route.kind, 'hosts');
    if (route.kind === 'hosts')
      assert.deepEqual(
        route.hosts.map((h) => h.name),
        ['better.self.example'],
      );
    const loop = await resolveMxRoute('loop.example', resolver, { localHostnames: ['me.example'] });
    assert.equal(loop.kind, 'permanent');
    if (loop.kind === 'permanent') assert.equal(loop.status, '5.4.6');
  });

  it('turns an unreachable DNS server into a temporary failure', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const dead = createDnsResolver({ servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 300 });
      const route = await resolveMxRoute('multi.example', dead);
      assert.equal(route.kind, 'temporary');
      if (route.kind === 'temporary') assert.equal(route.status, '4.4.3');
    } finally {
      silent.close();
    }
  });
});
