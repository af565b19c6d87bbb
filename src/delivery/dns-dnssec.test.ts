// DNS queries with the AD bit against the local test DNS server: secure and insecure zones,
// authenticated denial, TCP fallback, SERVFAIL for bogus data, spoofed replies and timeouts.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { decode, encode } from 'dns-packet';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import { createDnssecQuery, type DnssecQuery, parseServer } from './dns-dnssec.ts';

describe('createDnssecQuery', () => {
  let server: DnsTestServer;
  let query: DnssecQuery;

  before(async () => {
    server = await startDnsServer({
      'secure.example': { MX: [{ preference: 10, exchange: 'mx.secure.example' }], TXT: ['x'.repeat(1500)] },
      'mx.secure.example': { A: ['127.0.0.1'] },
      '_25._tcp.mx.secure.example': {
        TLSA: [{ usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 7) }],
      },
      'plain.example': { MX: [{ preference: 10, exchange: 'mx.plain.example' }] },
      'alias.secure.example': { CNAME: ['mx.plain.example'] },
      'mx.plain.example': { A: ['127.0.0.2'] },
      'bad.example': { A: ['127.0.0.3'] },
    });
    server.setSecure('secure.example');
    server.setBogus('bad.example');
    query = createDnssecQuery({ server: `127.0.0.1:${server.port}`, timeoutMs: 3000 });
  });

  after(() => server.close());

  it('reports AD=1 for a secure zone and decodes TLSA', async () => {
    const mx = await query('secure.example', 'MX');
    assert.equal(mx.rcode, 'NOERROR');
    assert.equal(mx.authentic, true);
    assert.equal(mx.answers.length, 1);
    const tlsa = await query('_25._tcp.mx.secure.example', 'TLSA');
    assert.equal(tlsa.authentic, true);
    const first = tlsa.answers[0];
    assert.ok(first && first.type === 'TLSA');
    assert.equal(first.data.usage, 3);
    assert.equal(first.data.certificate.length, 32);
  });

  it('reports AD=0 for an insecure zone and for a CNAME into one', async () => {
    assert.equal((await query('plain.example', 'MX')).authentic, false);
    const alias = await query('alias.secure.example', 'A');
    assert.equal(alias.authentic, false);
    assert.deepEqual(
      alias.answers.map((a) => a.type),
      ['CNAME', 'A'],
    );
  });

  it('returns NXDOMAIN and NODATA as answers, with authenticated denial in a secure zone', async () => {
    const nx = await query('_25._tcp.nothing.secure.example', 'TLSA');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.authentic, true);
    const nodata = await query('mx.secure.example', 'TLSA');
    assert.equal(nodata.rcode, 'NOERROR');
    assert.equal(nodata.answers.length, 0);
    assert.equal((await query('nowhere.plain.example', 'A')).authentic, false);
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    server.queries.length = 0;
    const txt = await query('secure.example', 'TXT');
    assert.equal(txt.answers.length, 1);
    assert.equal(txt.authentic, true);
    assert.deepEqual(
      server.queries.map((q) => q.transport),
      ['udp', 'tcp'],
    );
  });

  it('turns SERVFAIL (bogus data) into an ESERVFAIL error', async () => {
    await assert.rejects(query('bad.example', 'A'), { code: 'ESERVFAIL' });
  });

  it('ignores a reply with the wrong id and times out without a real one', async () => {
    const fake = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => fake.bind(0, '127.0.0.1', resolve));
    fake.on('message', (msg, rinfo) => {
      const q = decode(msg);
      const spoof = encode({
        type: 'response',
        id: ((q.id ?? 0) + 1) % 65536,
        flags: 1 << 5,
        questions: q.questions ?? [],
        answers: [{ type: 'A', name: 'x.example', data: '192.0.2.66' }],
      });
      fake.send(spoof, rinfo.port, rinfo.address);
    });
    try {
      const slow = createDnssecQuery({ server: `127.0.0.1:${fake.address().port}`, timeoutMs: 300 });
      await assert.rejects(slow('x.example', 'A'), { code: 'ETIMEOUT' });
    } finally {
      fake.close();
    }
  });

  it('parses server addresses in the format of src/net/dns.ts', () => {
    assert.deepEqual(parseServer('127.0.0.1'), { host: '127.0.0.1', port: 53 });
    assert.deepEqual(parseServer('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseServer('[::1]:5353'), { host: '::1', port: 5353 });
    assert.deepEqual(parseServer('::1'), { host: '::1', port: 53 });
    assert.throws(() => parseServer('dns.example:53'));
  });
});
