// The test DNS server, queried with node's own resolver (c-ares) over real sockets.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import { type Answer, type DecodedPacket, decode, encode } from 'dns-packet';
import { type DnsTestServer, splitTxt, startDnsServer } from './dns-server.ts';

const DKIM_KEY = `v=DKIM1; k=rsa; p=${'A'.repeat(582)}`; // a 600-byte record, like a 4096-bit key

describe('test DNS server', () => {
  let server: DnsTestServer;
  let resolver: Resolver;

  before(async () => {
    server = await startDnsServer({
      'example.org': {
        A: ['192.0.2.10', '192.0.2.11'],
        MX: [
          { preference: 20, exchange: 'mx2.example.org' },
          { preference: 10, exchange: 'mx1.example.org' },
        ],
        TXT: ['v=spf1 ip4:192.0.2.0/24 -all'],
      },
      'sel._domainkey.example.org': { TXT: [DKIM_KEY] },
      'www.example.org': { CNAME: ['example.org'] },
      '10.2.0.192.in-addr.arpa': { PTR: ['mail.example.org'] },
    });
    resolver = new Resolver();
    resolver.setServers([`127.0.0.1:${server.port}`]);
  });

  after(() => server.close());

  it('answers A, MX and PTR', async () => {
    assert.deepEqual((await resolver.resolve4('example.org')).sort(), ['192.0.2.10', '192.0.2.11']);
    const mx = (await resolver.resolveMx('example.org'))
      .map(({ exchange, priority }) => ({ exchange, priority }))
      .sort((a, b) => a.priority - b.priority);
    assert.deepEqual(mx, [
      { exchange: 'mx1.example.org', priority: 10 },
      { exchange: 'mx2.example.org', priority: 20 },
    ]);
    assert.deepEqual(await resolver.reverse('192.0.2.10'), ['mail.example.org']);
  });

  it('compares names case-insensitively and follows a CNAME', async () => {
    assert.equal((await resolver.resolve4('EXAMPLE.org')).length, 2);
    assert.equal((await resolver.resolve4('www.example.org')).length, 2);
    assert.deepEqual(await resolver.resolveCname('www.example.org'), ['example.org']);
  });

  it('splits a 600-byte TXT record into 255-byte strings and falls back to TCP for it', async () => {
    server.queries.length = 0;
    const txt = await resolver.resolveTxt('sel._domainkey.example.org');
    assert.equal(txt.length, 1);
    assert.deepEqual(
      txt[0]?.map((s) => s.length),
      [255, 255, 90],
    );
    assert.equal(DKIM_KEY.length, 600);
    assert.equal(txt[0]?.join(''), DKIM_KEY);
    // the UDP answer was truncated (no EDNS from c-ares), the TCP one was complete
    assert.deepEqual(
      server.queries.map((q) => q.transport),
      ['udp', 'tcp'],
    );
  });

  it('sets TC on a UDP answer over 512 bytes unless EDNS allows more', async () => {
    const ask = (edns: boolean) =>
      udpQuery(server.port, {
        type: 'query',
        id: 7,
        questions: [{ name: 'sel._domainkey.example.org', type: 'TXT' }],
        additionals: edns
          ? ([
              { name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0 },
            ] as unknown as Answer[])
          : [],
      });
    const plain = await ask(false);
    assert.equal(plain.flag_tc, true);
    assert.equal(plain.answers?.length, 0);
    const withEdns = await ask(true);
    assert.equal(withEdns.flag_tc, false);
    assert.equal(withEdns.flag_aa, true);
    assert.equal(withEdns.answers?.length, 1);
    assert.ok(withEdns.additionals?.some((a) => a.type === 'OPT'));
  });

  it('answers NXDOMAIN for an unknown name and NODATA for a known name without the type', async () => {
    await assert.rejects(resolver.resolve4('nope.example.org'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolveTxt('www2.example.org'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolveMx('sel._domainkey.example.org'), { code: 'ENODATA' });
    // an empty non-terminal exists (RFC 8020): NODATA, not NXDOMAIN
    await assert.rejects(resolver.resolveTxt('_domainkey.example.org'), { code: 'ENODATA' });
  });

  it('serves records changed with set() and forgets them with clear()', async () => {
    server.set('new.example.org', 'AAAA', ['2001:db8::1']);
    assert.deepEqual(await resolver.resolve6('new.example.org'), ['2001:db8::1']);
    server.set('new.example.org', 'TXT', [['first', 'second']]);
    assert.deepEqual(await resolver.resolveTxt('new.example.org'), [['first', 'second']]);
    server.set('new.example.org', 'AAAA', []);
    await assert.rejects(resolver.resolve6('new.example.org'), { code: 'ENODATA' });
    assert.throws(() => server.set('bad.example.org', 'TXT', [['x'.repeat(256)]]), /255 bytes/);
  });

  it('logs each question it receives', async () => {
    server.queries.length = 0;
    await resolver.resolve4('example.org');
    assert.deepEqual(server.queries, [{ name: 'example.org', type: 'A', transport: 'udp' }]);
  });

  it('splits TXT on UTF-8 character boundaries', () => {
    const parts = splitTxt(`${'a'.repeat(254)}é${'b'.repeat(10)}`);
    assert.deepEqual(
      parts.map((p) => p.length),
      [254, 12],
    );
    assert.deepEqual(
      splitTxt('').map((p) => p.length),
      [0],
    );
  });

  it('clear() empties the zone', async () => {
    const other = await startDnsServer({ 'a.test': { A: ['192.0.2.1'] } });
    try {
      const r = new Resolver();
      r.setServers([`127.0.0.1:${other.port}`]);
      assert.deepEqual(await r.resolve4('a.test'), ['192.0.2.1']);
      other.clear();
      await assert.rejects(r.resolve4('a.test'), { code: 'ENOTFOUND' });
    } finally {
      await other.close();
    }
  });
});

function udpQuery(port: number, packet: Parameters<typeof encode>[0]): Promise<DecodedPacket> {
  const socket = dgram.createSocket('udp4');
  return new Promise<DecodedPacket>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('message', (msg) => resolve(decode(msg)));
    socket.send(encode(packet), port, '127.0.0.1');
  }).finally(() => socket.close());
}
