// The resolver against the local test DNS server: answer shapes, caching, de-duplication,
// error codes and timeouts.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import { createDnsResolver, type DnsResolver, resolveFunction } from './dns.ts';

describe('createDnsResolver', () => {
  let server: DnsTestServer;
  let clock: number;
  let resolver: DnsResolver;
  const now = () => clock;

  before(async () => {
    server = await startDnsServer({
      'example.org': {
        A: ['192.0.2.1'],
        AAAA: ['2001:db8::1'],
        MX: [{ preference: 10, exchange: 'mx.example.org' }],
        TXT: ['v=spf1 -all', 'k'.repeat(400)],
      },
      '1.2.0.192.in-addr.arpa': { PTR: ['mx.example.org'] },
    });
    server.set('short.example.org', 'A', ['192.0.2.2'], 5);
  });

  after(() => server.close());

  beforeEach(() => {
    clock = 1_000_000;
    server.queries.length = 0;
    resolver = createDnsResolver({ servers: [`127.0.0.1:${server.port}`], timeoutMs: 2000, now });
  });

  it('answers in the shapes of node:dns resolve()', async () => {
    assert.deepEqual(await resolver.resolve('example.org', 'A'), ['192.0.2.1']);
    assert.deepEqual(await resolver.resolve('example.org', 'AAAA'), ['2001:db8::1']);
    const mx = await resolver.resolve('example.org', 'MX');
    assert.equal(mx[0]?.exchange, 'mx.example.org');
    assert.equal(mx[0]?.priority, 10);
    const txt = await resolver.resolve('example.org', 'TXT');
    assert.deepEqual(txt.map((r) => r.join('')).sort(), ['k'.repeat(400), 'v=spf1 -all']);
    assert.deepEqual(await resolver.resolve('1.2.0.192.in-addr.arpa', 'PTR'), ['mx.example.org']);
  });

  it('serves a repeated question from the cache, case- and dot-insensitively', async () => {
    await resolver.resolve('example.org', 'MX');
    await resolver.resolve('Example.ORG.', 'MX');
    await resolver.resolve('example.org', 'mx');
    assert.equal(server.queries.filter((q) => q.type === 'MX').length, 1);
  });

  it('hands out copies, so a caller sorting an answer does not change the cache', async () => {
    const first = await resolver.resolve('example.org', 'TXT');
    first.reverse();
    first.push(['tampered']);
    const second = await resolver.resolve('example.org', 'TXT');
    assert.equal(second.length, 2);
    assert.notEqual(first, second);
  });

  it('honours the TTL of an address answer', async () => {
    await resolver.resolve('short.example.org', 'A');
    clock += 4_000;
    await resolver.resolve('short.example.org', 'A');
    assert.equal(server.queries.length, 1, 'within the 5 s TTL');
    clock += 2_000;
    await resolver.resolve('short.example.org', 'A');
    assert.equal(server.queries.length, 2, 'after the TTL');
  });

  it('caches NXDOMAIN and NODATA with their codes, for the negative TTL', async () => {
    await assert.rejects(resolver.resolve('nope.example.org', 'TXT'), {
      code: 'ENOTFOUND',
      name: 'DnsError',
    });
    await assert.rejects(resolver.resolve('nope.example.org', 'TXT'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolve('example.org', 'CNAME'), { code: 'ENODATA' });
    await assert.rejects(resolver.resolve('example.org', 'CNAME'), { code: 'ENODATA' });
    assert.equal(server.queries.length, 2);
    clock += 61_000;
    await assert.rejects(resolver.resolve('nope.example.org', 'TXT'), { code: 'ENOTFOUND' });
    assert.equal(server.queries.length, 3);
  });

  it('sends one query for identical questions in flight, and each caller gets its own error', async () => {
    const answers = await Promise.all([1, 2, 3].map(() => resolver.resolve('example.org', 'AAAA')));
    assert.deepEqual(answers, [['2001:db8::1'], ['2001:db8::1'], ['2001:db8::1']]);
    assert.equal(server.queries.length, 1);
    const errors = await Promise.all(
      [1, 2].map(() => resolver.resolve('gone.example.org', 'A').catch((e) => e)),
    );
    assert.equal(server.queries.length, 2);
    assert.equal(errors[0].code, 'ENOTFOUND');
    assert.notEqual(errors[0], errors[1]);
  });

  it('evicts the least recently used entry when full', async () => {
    const small = createDnsResolver({ servers: [`127.0.0.1:${server.port}`], cacheMaxEntries: 2, now });
    await small.resolve('example.org', 'A');
    await small.resolve('example.org', 'AAAA');
    await small.resolve('example.org', 'A'); // A is now the most recent
    await small.resolve('example.org', 'MX'); // evicts AAAA
    server.queries.length = 0;
    await small.resolve('example.org', 'A');
    await small.resolve('example.org', 'AAAA');
    assert.deepEqual(
      server.queries.map((q) => q.type),
      ['AAAA'],
    );
  });

  it('works as the resolver function mailauth takes', async () => {
    const fn = resolveFunction(resolver);
    assert.deepEqual(await fn('example.org', 'A'), ['192.0.2.1']);
  });

  it('gives up with ETIMEOUT when the server never answers', async () => {
    const silent = dgram.createSocket('udp4'); // receives queries, answers none
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const slow = createDnsResolver({ servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 300 });
      const started = performance.now();
      await assert.rejects(slow.resolve('example.org', 'TXT'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ETIMEOUT');
        assert.match(err.message, /TXT lookup for example\.org timed out/);
        return true;
      });
      assert.ok(performance.now() - started < 1000, 'within the timeout, not the c-ares default');
      // a timeout is not an answer: it is not cached
      await assert.rejects(slow.resolve('example.org', 'TXT'), { code: 'ETIMEOUT' });
    } finally {
      silent.close();
    }
  });

  it('reports a refused query at once, as ECONNREFUSED', async () => {
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
    const port = closed.address().port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = createDnsResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 500 });
    const started = performance.now();
    await assert.rejects(refused.resolve('example.org', 'A'), {
      code: 'ECONNREFUSED',
      message: 'DNS A lookup for example.org failed (ECONNREFUSED)',
    });
    assert.ok(performance.now() - started < 400);
  });
});
