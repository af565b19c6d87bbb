// MTA-STS fetch and cache over real HTTPS (a test CA) and the local test DNS server:
// certificate validation, no redirects, size/type/time limits, id changes and §5.1 caching.

import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import {
  createTestCa,
  type HttpsTestServer,
  selfSignedCertificate,
  startHttpsServer,
  type TestCa,
} from '../../test/support/https-server.ts';
import { createDnsResolver, type DnsResolver } from '../net/dns.ts';
import { MemoryMtaStsCache, MtaSts } from './mta-sts.ts';
import { fetchStsPolicy, type StsFetchOptions } from './mta-sts-fetch.ts';

const POLICY =
  'version: STSv1\r\nmode: enforce\r\nmx: mx.good.example\r\nmx: *.good.example\r\nmax_age: 3600\r\n';
const HOSTS = ['good', 'redirect', 'big', 'chunked', 'html', 'missing', 'slow', 'bad', 'cached', 'multi'];

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('MTA-STS', () => {
  let dns: DnsTestServer;
  let resolver: DnsResolver;
  let ca: TestCa;
  let web: HttpsTestServer;
  let selfSigned: HttpsTestServer;
  let expired: HttpsTestServer;
  const pages = new Map<string, Handler>();
  let fetchOpts: StsFetchOptions;

  const text =
    (body: string, type = 'text/plain; charset=utf-8'): Handler =>
    (_req, res) => {
      res.writeHead(200, { 'content-type': type }).end(body);
    };

  before(async () => {
    ca = await createTestCa();
    const names = HOSTS.map((h) => `mta-sts.${h}.example`);
    const leaf = await ca.issue(names);
    web = await startHttpsServer(leaf.certPem, leaf.keyPem);
    web.handle((req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      const page = req.url === '/.well-known/mta-sts.txt' ? pages.get(host) : undefined;
      if (page) page(req, res);
      else res.writeHead(404).end();
    });
    const own = await selfSignedCertificate(['mta-sts.selfsigned.example']);
    selfSigned = await startHttpsServer(own.certPem, own.keyPem);
    selfSigned.handle(text(POLICY));
    const old = await ca.issue(['mta-sts.expired.example'], {
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    expired = await startHttpsServer(old.certPem, old.keyPem);
    expired.handle(text(POLICY));

    dns = await startDnsServer();
    for (const h of [...HOSTS, 'wrongname']) dns.set(`mta-sts.${h}.example`, 'A', ['127.0.0.1']);
    dns.set('mta-sts.selfsigned.example', 'A', ['127.0.0.1']);
    dns.set('mta-sts.expired.example', 'A', ['127.0.0.1']);
    resolver = createDnsResolver({ servers: [`127.0.0.1:${dns.port}`], timeoutMs: 2000, cacheMaxEntries: 0 });
    fetchOpts = { resolver, ca: ca.certPem, port: web.port, timeoutMs: 3000 };
  });

  after(async () => {
    await Promise.all([web.close(), selfSigned.close(), expired.close(), dns.close()]);
  });

  beforeEach(() => {
    pages.clear();
    web.requests.length = 0;
  });

  describe('fetchStsPolicy', () => {
    it('fetches over HTTPS from the address our resolver gave, with SNI and Host for mta-sts.DOMAIN', async () => {
      pages.set('mta-sts.good.example', text(POLICY));
      const r = await fetchStsPolicy('Good.Example', fetchOpts);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.policy.mode, 'enforce');
      assert.deepEqual(r.policy.mx, ['mx.good.example', '*.good.example']);
      assert.deepEqual(web.requests, [
        {
          path: '/.well-known/mta-sts.txt',
          host: `mta-sts.good.example:${web.port}`,
          servername: 'mta-sts.good.example',
        },
      ]);
    });

    it('refuses a redirect without following it', async () => {
      pages.set('mta-sts.redirect.example', (_req, res) => {
        res.writeHead(301, { location: 'https://mta-sts.good.example/.well-known/mta-sts.txt' }).end();
      });
      pages.set('mta-sts.good.example', text(POLICY));
      const r = await fetchStsPolicy('redirect.example', fetchOpts);
      assert.deepEqual(r.ok ? 'ok' : [r.failure, /redirect \(301\) refused/.test(r.reason)], [
        'sts-policy-fetch-error',
        true,
      ]);
      assert.equal(web.requests.length, 1);
    });

    it('refuses a body over 64 KiB, announced or streamed', async () => {
      const huge = `${POLICY}${'x-pad: y\r\n'.repeat(7000)}`;
      pages.set('mta-sts.big.example', text(huge));
      pages.set('mta-sts.chunked.example', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(POLICY);
        for (let i = 0; i < 100; i++) res.write('x-pad: '.padEnd(1000, 'y') + '\n');
        res.end();
      });
      for (const domain of ['big.example', 'chunked.example']) {
        const r = await fetchStsPolicy(domain, fetchOpts);
        assert.equal(r.ok, false, domain);
        if (!r.ok) {
          assert.equal(r.failure, 'sts-policy-invalid');
          assert.match(r.reason, /larger than 65536 bytes/);
        }
      }
      const small = await fetchStsPolicy('big.example', { ...fetchOpts, maxBytes: 10 });
      assert.equal(small.ok, false);
    });

    it('requires text/plain', async () => {
      pages.set('mta-sts.html.example', text(POLICY, 'text/html'));
      const r = await fetchStsPolicy('html.example', fetchOpts);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, /"text\/html" is not text\/plain/);
    });

    it('fails on HTTP errors and on malformed policies', async () => {
      const missing = await fetchStsPolicy('missing.example', fetchOpts);
      assert.equal(missing.ok, false);
      if (!missing.ok) assert.match(missing.reason, /HTTP 404/);
      pages.set('mta-sts.bad.example', text('version: STSv1\nmode: enforce\nmax_age: 60\n'));
      const bad = await fetchStsPolicy('bad.example', fetchOpts);
      assert.equal(bad.ok, false);
      if (!bad.ok) {
        assert.equal(bad.failure, 'sts-policy-invalid');
        assert.match(bad.reason, /needs at least one mx/);
      }
    });

    it('refuses certificates for another name, self-signed, expired, or from an untrusted root', async () => {
      pages.set('mta-sts.good.example', text(POLICY));
      const cases: Array<[string, StsFetchOptions]> = [
        ['wrongname.example', fetchOpts],
        ['selfsigned.example', { ...fetchOpts, port: selfSigned.port }],
        ['expired.example', { ...fetchOpts, port: expired.port }],
        ['good.example', { resolver, port: web.port, timeoutMs: 3000 }], // system roots only
      ];
      for (const [domain, opts] of cases) {
        const r = await fetchStsPolicy(domain, opts);
        assert.equal(r.ok ? 'ok' : r.failure, 'sts-webpki-invalid', domain);
      }
    });

    it('gives up after the time limit when the server never answers', async () => {
      pages.set('mta-sts.slow.example', () => {}); // accepts the request, never responds
      const r = await fetchStsPolicy('slow.example', { ...fetchOpts, timeoutMs: 300 });
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, /time limit/);
    });

    it('fails without an address, or when the address is not allowed', async () => {
      const none = await fetchStsPolicy('nohost.example', fetchOpts);
      assert.equal(none.ok ? 'ok' : none.failure, 'sts-policy-fetch-error');
      pages.set('mta-sts.good.example', text(POLICY));
      const refused = await fetchStsPolicy('good.example', {
        ...fetchOpts,
        addressFilter: (a) => a !== '127.0.0.1',
      });
      assert.equal(refused.ok, false);
      if (!refused.ok) assert.match(refused.reason, /no allowed address/);
      assert.equal(web.requests.length, 0);
    });
  });

  describe('MtaSts (discovery and cache)', () => {
    let clock: number;
    let sts: MtaSts;
    let cache: MemoryMtaStsCache;

    beforeEach(() => {
      clock = 1_000_000_000;
      cache = new MemoryMtaStsCache();
      sts = new MtaSts({ ...fetchOpts, cache, now: () => clock });
      dns.set('_mta-sts.cached.example', 'TXT', ['v=STSv1; id=one;']);
      pages.set('mta-sts.cached.example', text(POLICY));
    });

    it('fetches once, then serves the cached policy while the id is unchanged', async () => {
      const first = await sts.lookup('cached.example');
      assert.equal(first.source, 'fetched');
      assert.equal(first.id, 'one');
      assert.equal(first.policy?.mode, 'enforce');
      clock += 3_599_000;
      const second = await sts.lookup('CACHED.example.');
      assert.equal(second.source, 'cache');
      assert.equal(second.policy?.mode, 'enforce');
      assert.equal(web.requests.length, 1);
    });

    it('refetches when the TXT id changes, and when max_age has passed', async () => {
      await sts.lookup('cached.example');
      dns.set('_mta-sts.cached.example', 'TXT', ['v=STSv1; id=two;']);
      pages.set('mta-sts.cached.example', text(POLICY.replace('enforce', 'testing')));
      const changed = await sts.lookup('cached.example');
      assert.deepEqual([changed.source, changed.id, changed.policy?.mode], ['fetched', 'two', 'testing']);
      clock += 3_601_000;
      const expiredEntry = await sts.lookup('cached.example');
      assert.equal(expiredEntry.source, 'fetched');
      assert.equal(web.requests.length, 3);
    });

    it('keeps the cached policy when a refetch fails or returns garbage (§5.1)', async () => {
      await sts.lookup('cached.example');
      dns.set('_mta-sts.cached.example', 'TXT', ['v=STSv1; id=two;']);
      pages.set('mta-sts.cached.example', (_req, res) => res.writeHead(500).end());
      const failed = await sts.lookup('cached.example');
      assert.deepEqual([failed.source, failed.id, failed.policy?.mode], ['cache', 'one', 'enforce']);
      assert.equal(failed.problem?.type, 'sts-policy-fetch-error');
      pages.set('mta-sts.cached.example', text('version: STSv1\nmode: bogus\n'));
      const invalid = await sts.lookup('cached.example');
      assert.deepEqual(
        [invalid.source, invalid.policy?.mode, invalid.problem?.type],
        ['cache', 'enforce', 'sts-policy-invalid'],
      );
      assert.equal((await cache.get('cached.example'))?.id, 'one');
    });

    it('keeps the cached policy while the TXT record is missing, until it expires', async () => {
      await sts.lookup('cached.example');
      dns.set('_mta-sts.cached.example', 'TXT', []);
      const kept = await sts.lookup('cached.example');
      assert.deepEqual(
        [kept.source, kept.policy?.mode, kept.problem?.type],
        ['cache', 'enforce', 'sts-txt-missing'],
      );
      clock += 3_601_000;
      const gone = await sts.lookup('cached.example');
      assert.deepEqual([gone.source, gone.policy], ['none', undefined]);
    });

    it('has no policy without a cache entry when the fetch fails or the TXT records conflict', async () => {
      pages.set('mta-sts.cached.example', (_req, res) => res.writeHead(503).end());
      const failed = await sts.lookup('cached.example');
      assert.deepEqual([failed.source, failed.policy], ['none', undefined]);
      dns.set('_mta-sts.multi.example', 'TXT', ['v=STSv1; id=a;', 'v=STSv1; id=b;']);
      pages.set('mta-sts.multi.example', text(POLICY));
      const multi = await sts.lookup('multi.example');
      assert.deepEqual([multi.source, multi.problem?.type], ['none', 'sts-txt-invalid']);
      const none = await sts.lookup('nosts.example');
      assert.deepEqual([none.source, none.problem?.type], ['none', 'sts-txt-missing']);
      assert.equal(web.requests.filter((r) => r.host?.startsWith('mta-sts.multi')).length, 0);
    });

    it('shares one discovery between concurrent lookups', async () => {
      const all = await Promise.all([1, 2, 3, 4].map(() => sts.lookup('cached.example')));
      assert.ok(all.every((r) => r.policy?.mode === 'enforce'));
      assert.equal(web.requests.length, 1);
    });
  });
});
