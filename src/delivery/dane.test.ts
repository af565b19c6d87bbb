// DANE: TLSA usability, matching of real certificate chains (DANE-EE and DANE-TA), over a real
// TLS connection, and the DNSSEC conditions under which DANE applies (local DNS server, AD bit).

import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { type DnsTestServer, startDnsServer } from '../../test/support/dns-server.ts';
import {
  createTestCa,
  type IssuedCertificate,
  selfSignedCertificate,
  type TestCa,
} from '../../test/support/https-server.ts';
import { daneVerifier, isUsableTlsa, matchDane, peerChain, type Tlsa } from './dane.ts';
import { daneForHost, lookupDane, mxSecurity } from './dane-lookup.ts';
import { createDnssecQuery, type DnssecQuery } from './dns-dnssec.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest();
const spki = (der: Buffer) => new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
const tlsa = (usage: number, selector: number, matchingType: number, data: Buffer): Tlsa => ({
  usage,
  selector,
  matchingType,
  data,
});

describe('DANE', () => {
  let root: TestCa;
  let inter: TestCa;
  let leaf: IssuedCertificate;
  let chain: Buffer[];

  before(async () => {
    root = await createTestCa('DANE Root');
    inter = await root.intermediate('DANE Intermediate');
    leaf = await inter.issue(['mx.secure.example']);
    chain = [leaf.der, inter.der, root.der];
  });

  describe('isUsableTlsa (RFC 7672 §3.1.3)', () => {
    it('keeps DANE-TA and DANE-EE with known selectors and well-sized digests only', () => {
      assert.ok(isUsableTlsa(tlsa(3, 1, 1, Buffer.alloc(32))));
      assert.ok(isUsableTlsa(tlsa(2, 0, 2, Buffer.alloc(64))));
      assert.ok(isUsableTlsa(tlsa(3, 0, 0, Buffer.alloc(300))));
      assert.ok(!isUsableTlsa(tlsa(0, 1, 1, Buffer.alloc(32))), 'PKIX-TA');
      assert.ok(!isUsableTlsa(tlsa(1, 1, 1, Buffer.alloc(32))), 'PKIX-EE');
      assert.ok(!isUsableTlsa(tlsa(3, 2, 1, Buffer.alloc(32))), 'selector 2');
      assert.ok(!isUsableTlsa(tlsa(3, 1, 3, Buffer.alloc(32))), 'matching type 3');
      assert.ok(!isUsableTlsa(tlsa(3, 1, 1, Buffer.alloc(31))), 'short SHA-256');
      assert.ok(!isUsableTlsa(tlsa(3, 1, 2, Buffer.alloc(32))), 'SHA-512 of SHA-256 length');
      assert.ok(!isUsableTlsa(tlsa(3, 0, 0, Buffer.alloc(0))));
    });
  });

  describe('matchDane', () => {
    it('matches DANE-EE by certificate or key, exact or hashed', () => {
      for (const r of [
        tlsa(3, 0, 0, leaf.der),
        tlsa(3, 0, 1, sha256(leaf.der)),
        tlsa(3, 0, 2, sha512(leaf.der)),
        tlsa(3, 1, 0, spki(leaf.der)),
        tlsa(3, 1, 1, sha256(spki(leaf.der))),
        tlsa(3, 1, 2, sha512(spki(leaf.der))),
      ]) {
        const m = matchDane([leaf.der], [r], ['mx.secure.example']);
        assert.equal(m.ok, true, `${r.selector} ${r.matchingType}`);
        if (m.ok) assert.equal(m.usage, 3);
      }
    });

    it('ignores names and dates for DANE-EE (RFC 7672 §3.1.1)', async () => {
      const stale = await root.issue(['other.example'], {
        notBefore: new Date(Date.now() - 9e9),
        notAfter: new Date(Date.now() - 8e9),
      });
      const self = await selfSignedCertificate(['whatever.example']);
      for (const c of [stale, self]) {
        const m = matchDane([c.der], [tlsa(3, 1, 1, sha256(spki(c.der)))], ['mx.secure.example']);
        assert.equal(m.ok, true);
      }
    });

    it('refuses a leaf no record matches, and does not let DANE-EE match a CA certificate', () => {
      const wrong = matchDane(chain, [tlsa(3, 1, 1, Buffer.alloc(32, 1))], ['mx.secure.example']);
      assert.equal(wrong.ok, false);
      if (!wrong.ok) assert.match(wrong.reason, /no TLSA record \(3 1 1\) matches/);
      const onIssuer = matchDane(chain, [tlsa(3, 1, 1, sha256(spki(inter.der)))], ['mx.secure.example']);
      assert.equal(onIssuer.ok, false);
    });

    it('matches DANE-TA on the root or the intermediate, with the name checked', () => {
      const onRoot = matchDane(chain, [tlsa(2, 1, 1, sha256(spki(root.der)))], ['mx.secure.example']);
      assert.deepEqual(onRoot.ok && onRoot.usage, 2);
      const onInter = matchDane(
        chain.slice(0, 2),
        [tlsa(2, 0, 1, sha256(inter.der))],
        ['MX.secure.example.', 'x'],
      );
      assert.equal(onInter.ok, true);
      const wrongName = matchDane(chain, [tlsa(2, 1, 1, sha256(spki(root.der)))], ['mx.other.example']);
      assert.equal(wrongName.ok, false);
      if (!wrongName.ok) assert.match(wrongName.reason, /not for mx\.other\.example/);
    });

    it('refuses DANE-TA when the anchor is not in the chain, the chain is broken, or the leaf expired', async () => {
      const absent = matchDane(
        [leaf.der, inter.der],
        [tlsa(2, 1, 1, sha256(spki(root.der)))],
        ['mx.secure.example'],
      );
      assert.equal(absent.ok, false);
      // a leaf from another CA presented with the pinned anchor after it
      const otherCa = await createTestCa('Other');
      const foreign = await otherCa.issue(['mx.secure.example']);
      const broken = matchDane(
        [foreign.der, root.der],
        [tlsa(2, 1, 1, sha256(spki(root.der)))],
        ['mx.secure.example'],
      );
      assert.equal(broken.ok, false);
      if (!broken.ok) assert.match(broken.reason, /not signed by certificate 1/);
      const old = await root.issue(['mx.secure.example'], {
        notBefore: new Date(Date.now() - 9e9),
        notAfter: new Date(Date.now() - 8e9),
      });
      const expired = matchDane(
        [old.der, root.der],
        [tlsa(2, 1, 1, sha256(spki(root.der)))],
        ['mx.secure.example'],
      );
      assert.equal(expired.ok, false);
      if (!expired.ok) assert.match(expired.reason, /not valid at/);
      // a leaf (not a CA) pinned as trust anchor cannot issue
      const leafAsTa = matchDane(
        [foreign.der, leaf.der],
        [tlsa(2, 0, 1, sha256(leaf.der))],
        ['mx.secure.example'],
      );
      assert.equal(leafAsTa.ok, false);
    });

    it('treats only unusable records as no match, and garbage DER as unparsable', () => {
      const pkix = matchDane(chain, [tlsa(1, 0, 1, sha256(leaf.der))], ['mx.secure.example']);
      assert.deepEqual(pkix, { ok: false, reason: 'no usable TLSA records' });
      const junk = matchDane([Buffer.from('junk')], [tlsa(3, 0, 1, Buffer.alloc(32))], ['mx.secure.example']);
      assert.equal(junk.ok, false);
    });
  });

  describe('over a real TLS connection', () => {
    let server: tls.Server;
    let port: number;

    before(async () => {
      server = tls.createServer(
        { cert: leaf.certPem + inter.certPem + root.certPem, key: leaf.keyPem },
        (s) => s.end(),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const connect = () =>
      new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({
          host: '127.0.0.1',
          port,
          servername: 'mx.secure.example',
          rejectUnauthorized: false,
        });
        s.once('secureConnect', () => resolve(s));
        s.once('error', reject);
      });

    it('reads the presented chain and decides with daneVerifier', async () => {
      const socket = await connect();
      try {
        const presented = peerChain(socket);
        assert.equal(presented.length, 3);
        assert.ok(presented[0]?.equals(leaf.der));
        assert.ok(presented[2]?.equals(root.der));
        assert.equal(socket.authorized, false, 'the test root is not trusted by PKIX');
        const names = ['mx.secure.example'];
        assert.deepEqual(daneVerifier([tlsa(3, 1, 1, sha256(spki(leaf.der)))], names)(socket).ok, true);
        assert.deepEqual(daneVerifier([tlsa(2, 1, 1, sha256(spki(root.der)))], names)(socket).ok, true);
        assert.deepEqual(
          daneVerifier([tlsa(2, 1, 1, sha256(spki(root.der)))], ['mx.evil.example'])(socket).ok,
          false,
        );
        assert.deepEqual(daneVerifier([tlsa(3, 1, 1, Buffer.alloc(32))], names)(socket).ok, false);
      } finally {
        socket.destroy();
      }
    });
  });

  describe('when DANE applies (DNSSEC, RFC 7672 §2.2)', () => {
    let dns: DnsTestServer;
    let query: DnssecQuery;
    const record = { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 9) };

    before(async () => {
      dns = await startDnsServer({
        'secure.example': { MX: [{ preference: 10, exchange: 'mx.secure.example' }] },
        'mx.secure.example': { A: ['127.0.0.1'] },
        '_25._tcp.mx.secure.example': { TLSA: [record, { ...record, usage: 1 }] },
        'mx2.secure.example': { A: ['127.0.0.2'] },
        'mx3.secure.example': { A: ['127.0.0.3'] },
        '_25._tcp.mx3.secure.example': {
          TLSA: [
            { ...record, usage: 0 },
            { ...record, selector: 7 },
          ],
        },
        'mx4.secure.example': { A: ['127.0.0.4'] },
        '_25._tcp.mx4.secure.example': { TLSA: [record] },
        'alias.secure.example': { CNAME: ['target.secure.example'] },
        'target.secure.example': { A: ['127.0.0.5'] },
        '_25._tcp.target.secure.example': { TLSA: [record] },
        'plain.example': { MX: [{ preference: 10, exchange: 'mx.secure.example' }] },
        'mx.unsigned.example': { A: ['127.0.0.6'] },
        'mx.partly.example': { A: ['127.0.0.7'] },
        '_25._tcp.mx.partly.example': { TLSA: [record] },
        'implicit.secure.example': { A: ['127.0.0.8'] },
        '_25._tcp.implicit.secure.example': { TLSA: [record] },
      });
      dns.setSecure('secure.example');
      dns.setSecure('mx.partly.example');
      dns.setBogus('_25._tcp.mx4.secure.example');
      query = createDnssecQuery({ server: `127.0.0.1:${dns.port}`, timeoutMs: 2000 });
    });

    after(() => dns.close());

    it('applies DANE only with a secure MX, secure addresses and secure TLSA records', async () => {
      const states = await lookupDane(
        'secure.example',
        ['mx.secure.example', 'mx2.secure.example', 'mx.unsigned.example'],
        query,
      );
      const mx1 = states.get('mx.secure.example');
      assert.equal(mx1?.kind, 'usable');
      if (mx1?.kind === 'usable') {
        assert.equal(mx1.records.length, 1, 'the PKIX-EE record is dropped');
        assert.deepEqual(mx1.names, ['mx.secure.example']);
      }
      assert.equal(states.get('mx2.secure.example')?.kind, 'none', 'no TLSA records');
      assert.equal(states.get('mx.unsigned.example')?.kind, 'none', 'unsigned addresses');
      const insecureMx = await lookupDane('plain.example', ['mx.secure.example'], query);
      assert.equal(insecureMx.get('mx.secure.example')?.kind, 'none');
      assert.match(insecureMx.get('mx.secure.example')?.reason ?? '', /MX records are not DNSSEC-signed/);
    });

    it('ignores TLSA records without AD=1', async () => {
      const state = await daneForHost('mx.partly.example', { kind: 'secure' }, query);
      assert.equal(state.kind, 'usable');
      dns.setSecure('mx.partly.example', false);
      assert.equal((await daneForHost('mx.partly.example', { kind: 'secure' }, query)).kind, 'none');
    });

    it('keeps TLS mandatory when every record is unusable, and fails on bogus TLSA answers', async () => {
      assert.equal((await daneForHost('mx3.secure.example', { kind: 'secure' }, query)).kind, 'unusable');
      const bogus = await daneForHost('mx4.secure.example', { kind: 'secure' }, query);
      assert.equal(bogus.kind, 'failed');
      assert.match(bogus.reason, /ESERVFAIL/);
    });

    it('uses the CNAME target as the first TLSA base domain, and the implicit MX with a secure denial', async () => {
      const alias = await daneForHost('alias.secure.example', { kind: 'secure' }, query);
      assert.equal(alias.kind, 'usable');
      if (alias.kind === 'usable')
        assert.deepEqual(alias.names, ['target.secure.example', 'alias.secure.example']);
      assert.deepEqual(await mxSecurity('implicit.secure.example', query), { kind: 'secure' });
      const implicit = await lookupDane('implicit.secure.example', ['implicit.secure.example'], query);
      assert.equal(implicit.get('implicit.secure.example')?.kind, 'usable');
    });
  });
});
