// DKIM key management on a real SQLite store and a real local DNS server: generating a
// pair, sealing at rest, the DNS records, activation checked against DNS, rotation with
// overlap, retirement, and the audit entries each change leaves.

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { type DnsTestServer, startDnsServer } from '../../../test/support/dns-server.ts';
import { AuditLog } from '../../audit/log.ts';
import { type ErrorCode, isSealpostError } from '../../core/errors.ts';
import { MasterKeyRing } from '../../crypto/index.ts';
import { createDnsResolver, type DnsResolver } from '../../net/dns.ts';
import { openSqliteStore, type SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import type { DkimKeyRecord } from '../../store/types.ts';
import { publicKeyTag, recordName, txtStrings, txtValue, zoneLine } from './dns-record.ts';
import { generateDkimKey, importDkimKey, openDkimKey, sealDkimKey } from './key-material.ts';
import {
  activateDkimKeys,
  type DkimAdmin,
  finishDueRetirements,
  generateDkimKeys,
  mustPublish,
  retireDkimKeys,
} from './manage.ts';

const NOW = Date.UTC(2026, 11, 2, 10, 0, 0);
const DAY = 86_400_000;
const ACTOR = 'cli:test';

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSealpostError(e, code), `expected ${code}, got ${String(e)}`);
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}

function throwsWith(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isSealpostError(e, code), `expected ${code}, got ${String(e)}`);
    if (message) assert.match((e as Error).message, message);
    return true;
  });
}

describe('DKIM keys', () => {
  let dir: string;
  let store: SqliteStore;
  let rt: DkimAdmin;
  let dns: DnsTestServer;
  let resolver: DnsResolver;
  const ring = new MasterKeyRing([{ version: 1, key: randomBytes(32) }]);

  before(async () => {
    dns = await startDnsServer({});
    // No caching: each test changes the zone and asks again at once.
    resolver = createDnsResolver({
      servers: [`127.0.0.1:${dns.port}`],
      timeoutMs: 2000,
      defaultTtlSeconds: 0,
      negativeTtlSeconds: 0,
    });
  });
  after(() => dns.close());

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-dkim-'));
    store = await openSqliteStore({ path: join(dir, 'store.db') });
    await store.migrate();
    await store.addDomain({ id: 'dom_1', name: 'example.org', createdAt: NOW });
    rt = { store, keys: ring, audit: new AuditLog(store, randomBytes(32)) };
    dns.clear();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const publish = (keys: readonly DkimKeyRecord[]) => {
    for (const k of keys)
      dns.set(recordName(k.selector, k.domain), 'TXT', [txtValue(k.algorithm, k.publicKey)]);
  };
  const states = async () => (await store.listDkimKeys('example.org')).map((k) => `${k.selector} ${k.state}`);

  describe('generation', () => {
    it('makes a pending Ed25519 + RSA-2048 pair named after the month, and audits it', async () => {
      const keys = await generateDkimKeys(rt, ACTOR, 'Example.ORG', NOW);
      assert.deepEqual(
        keys.map((k) => [k.selector, k.algorithm, k.generation, k.state]),
        [
          ['sp202612e', 'ed25519', 'sp202612', 'pending'],
          ['sp202612r', 'rsa', 'sp202612', 'pending'],
        ],
      );
      assert.deepEqual(await store.listDkimKeys('example.org'), keys);
      const rsa = openDkimKey(ring, keys[1] as DkimKeyRecord).privateKey;
      assert.equal(rsa.asymmetricKeyDetails?.modulusLength, 2048);
      const again = await generateDkimKeys(rt, ACTOR, 'example.org', NOW + 1);
      assert.deepEqual(
        again.map((k) => k.selector),
        ['sp202612-2e', 'sp202612-2r'],
      );
      const [entry] = await store.listAudit(1);
      assert.equal(entry?.action, 'dkim.generate');
      assert.equal(entry?.target, 'example.org');
      assert.deepEqual(JSON.parse(entry?.detail ?? ''), {
        generation: 'sp202612',
        selectors: ['sp202612e', 'sp202612r'],
      });
      assert.doesNotMatch(entry?.detail ?? '', /PRIVATE|MII/);
    });

    it('refuses an unhosted or malformed domain with a clear error, writing nothing', async () => {
      await rejectsWith(
        generateDkimKeys(rt, ACTOR, 'other.example', NOW),
        'store.not-found',
        /not hosted here.*domain add/,
      );
      await rejectsWith(generateDkimKeys(rt, ACTOR, 'bad..name', NOW), 'input.invalid', /not a valid domain/);
      assert.deepEqual(await store.listDkimKeys(), []);
      assert.deepEqual(await store.listAudit(1), []);
    });

    it('refuses RSA keys under 2048 bits at generation and at import; accepts Ed25519 and RSA-2048', () => {
      throwsWith(() => generateDkimKey('rsa', 1024), 'input.invalid', /at least 2048 bits/);
      const pem = (k: ReturnType<typeof generateKeyPairSync>['privateKey']) =>
        k.export({ type: 'pkcs8', format: 'pem' }).toString();
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
      throwsWith(() => importDkimKey(pem(weak)), 'input.invalid', /at least 2048 bits; this one has 1024/);
      throwsWith(() => sealDkimKey(ring, 'example.org', 'weak', weak), 'input.invalid', /2048/);
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      throwsWith(() => importDkimKey(pem(ec)), 'input.invalid', /Ed25519 or RSA, not ec/);
      throwsWith(() => importDkimKey('not a key'), 'input.invalid', /not a PEM private key/);
      assert.equal(
        importDkimKey(pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)).type,
        'private',
      );
      assert.equal(
        importDkimKey(pem(generateKeyPairSync('ed25519').privateKey)).asymmetricKeyType,
        'ed25519',
      );
    });
  });

  describe('sealing at rest', () => {
    it('keeps the private key sealed; a key moved to another row or a changed public key fails to open', async () => {
      const [ed, rsa] = (await generateDkimKeys(rt, ACTOR, 'example.org', NOW)) as [
        DkimKeyRecord,
        DkimKeyRecord,
      ];
      const der = openDkimKey(ring, ed).privateKey.export({ type: 'pkcs8', format: 'der' });
      assert.equal(Buffer.from(ed.sealedPrivateKey).includes(der.subarray(-32)), false);
      throwsWith(() => openDkimKey(ring, { ...ed, selector: 'sp202612x' }), 'crypto.integrity');
      throwsWith(() => openDkimKey(ring, { ...ed, domain: 'example.net' }), 'crypto.integrity');
      throwsWith(() => openDkimKey(ring, { ...ed, publicKey: rsa.publicKey }), 'crypto.integrity');
      throwsWith(() => openDkimKey(ring, { ...ed, algorithm: 'rsa' }), 'crypto.integrity');
      throwsWith(
        () => openDkimKey(ring, { ...ed, sealedPrivateKey: rsa.sealedPrivateKey }),
        'crypto.integrity',
      );
      const other = new MasterKeyRing([{ version: 1, key: randomBytes(32) }]);
      throwsWith(() => openDkimKey(other, ed), 'crypto.integrity');
      throwsWith(() => openDkimKey(ring, { ...ed, masterVersion: 2 }), 'key.missing');
    });

    it('seals under the current master key version; older versions still open after rotation', () => {
      const v1 = ring.get(1);
      const rotated = new MasterKeyRing([v1, { version: 2, key: randomBytes(32) }]);
      const key = generateDkimKey('ed25519');
      const old = { ...sealDkimKey(ring, 'example.org', 's1', key), domain: 'example.org', selector: 's1' };
      const fresh = sealDkimKey(rotated, 'example.org', 's2', key);
      assert.equal(old.masterVersion, 1);
      assert.equal(fresh.masterVersion, 2);
      const record = (over: Partial<DkimKeyRecord>): DkimKeyRecord => ({
        domain: 'example.org',
        selector: 's1',
        generation: 's',
        algorithm: 'ed25519',
        publicKey: '',
        masterVersion: 1,
        sealedPrivateKey: new Uint8Array(),
        state: 'active',
        createdAt: NOW,
        activatedAt: NOW,
        retireAt: null,
        ...over,
      });
      assert.equal(openDkimKey(rotated, record(old)).algorithm, 'ed25519');
      assert.equal(openDkimKey(rotated, record({ ...fresh, selector: 's2' })).algorithm, 'ed25519');
    });
  });

  describe('DNS records', () => {
    it('publishes the raw 32-byte Ed25519 key and the RSA SubjectPublicKeyInfo, in 255-byte strings', async () => {
      const [ed, rsa] = (await generateDkimKeys(rt, ACTOR, 'example.org', NOW)) as [
        DkimKeyRecord,
        DkimKeyRecord,
      ];
      const edTag = publicKeyTag('ed25519', ed.publicKey);
      assert.equal(Buffer.from(edTag, 'base64').length, 32);
      assert.equal(txtValue('ed25519', ed.publicKey), `v=DKIM1; k=ed25519; p=${edTag}`);
      assert.equal(txtValue('rsa', rsa.publicKey), `v=DKIM1; k=rsa; p=${rsa.publicKey}`);
      assert.ok(Buffer.from(rsa.publicKey, 'base64').length >= 290); // SPKI of a 2048-bit key
      const value = txtValue('rsa', rsa.publicKey);
      const strings = txtStrings(value);
      assert.ok(strings.length >= 2 && strings.every((s) => s.length <= 255));
      assert.equal(strings.join(''), value);
      const line = zoneLine('sp202612r', 'example.org', value);
      assert.match(
        line,
        /^sp202612r\._domainkey\.example\.org\. IN TXT \( "v=DKIM1; k=rsa; p=[^"]{237}" "[^"]+" \)$/,
      );
      assert.equal(
        zoneLine('sp202612e', 'example.org', txtValue('ed25519', ed.publicKey)),
        `sp202612e._domainkey.example.org. IN TXT ( "v=DKIM1; k=ed25519; p=${edTag}" )`,
      );
    });

    it('lists pending, active and retiring keys until their overlap ends, never retired ones', () => {
      const k = (selector: string, state: DkimKeyRecord['state'], retireAt: number | null = null) =>
        ({ selector, state, retireAt }) as DkimKeyRecord;
      const keys = [
        k('a', 'pending'),
        k('b', 'active'),
        k('c', 'retiring', NOW + 1),
        k('d', 'retiring', NOW),
        k('e', 'retired', NOW),
      ];
      assert.deepEqual(
        mustPublish(keys, NOW).map((x) => x.selector),
        ['a', 'b', 'c'],
      );
    });
  });

  describe('activation and rotation', () => {
    it('refuses to activate keys DNS does not publish, naming each record and the fix', async () => {
      const keys = await generateDkimKeys(rt, ACTOR, 'example.org', NOW);
      const opts = { now: NOW, resolver };
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612'], opts),
        'input.invalid',
        /sp202612e\._domainkey\.example\.org: no TXT record there \(ENOTFOUND\)[\s\S]*sp202612r\._domainkey[\s\S]*dkim dns example\.org[\s\S]*--force/,
      );
      // Published, but the RSA name carries another key and the Ed25519 one a wrong k=.
      const [ed, rsa] = keys as [DkimKeyRecord, DkimKeyRecord];
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
        type: 'spki',
        format: 'der',
      });
      dns.set(recordName(rsa.selector, 'example.org'), 'TXT', [
        `v=DKIM1; k=rsa; p=${stranger.toString('base64')}`,
      ]);
      dns.set(recordName(ed.selector, 'example.org'), 'TXT', [
        `v=DKIM1; k=rsa; p=${publicKeyTag('ed25519', ed.publicKey)}`,
      ]);
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612'], opts),
        'input.invalid',
        /k=rsa, expected k=ed25519[\s\S]*another public key/,
      );
      dns.set(recordName(ed.selector, 'example.org'), 'TXT', [
        txtValue('ed25519', ed.publicKey),
        txtValue('ed25519', ed.publicKey) + ' ',
      ]);
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612'], opts),
        'input.invalid',
        /2 DKIM key records/,
      );
      assert.deepEqual(await states(), ['sp202612e pending', 'sp202612r pending']);
      assert.equal((await store.listAudit(1)).length, 1); // only the generation
    });

    it('activates a published pair; the next pair retires it with the overlap, and audits both', async () => {
      const first = await generateDkimKeys(rt, ACTOR, 'example.org', NOW);
      publish(first);
      const a = await activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612e', 'SP202612R'], {
        now: NOW,
        resolver,
      });
      assert.deepEqual(
        a.activated.map((k) => k.selector),
        ['sp202612e', 'sp202612r'],
      );
      assert.deepEqual(a.retiring, []);
      const second = await generateDkimKeys(rt, ACTOR, 'example.org', NOW + DAY);
      publish(second);
      const b = await activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612-2'], {
        now: NOW + DAY,
        overlapMs: 3 * DAY,
        resolver,
      });
      assert.equal(b.retireAt, NOW + 4 * DAY);
      const keys = await store.listDkimKeys('example.org');
      assert.deepEqual(
        keys.map((k) => [k.selector, k.state, k.activatedAt, k.retireAt]),
        [
          ['sp202612e', 'retiring', NOW, NOW + 4 * DAY],
          ['sp202612r', 'retiring', NOW, NOW + 4 * DAY],
          ['sp202612-2e', 'active', NOW + DAY, null],
          ['sp202612-2r', 'active', NOW + DAY, null],
        ],
      );
      // During the overlap DNS must still publish the old pair; after it, not.
      assert.equal(mustPublish(keys, NOW + 2 * DAY).length, 4);
      assert.equal(mustPublish(keys, NOW + 4 * DAY).length, 2);
      const audit = (await store.listAudit(1)).filter((e) => e.action === 'dkim.activate');
      assert.deepEqual(JSON.parse(audit[1]?.detail ?? ''), {
        dnsChecked: true,
        retireAt: NOW + 4 * DAY,
        retiring: ['sp202612e', 'sp202612r'],
        selectors: ['sp202612-2e', 'sp202612-2r'],
      });
      // The overlap ends: a periodic task retires them.
      const due = await finishDueRetirements(rt, 'system', NOW + 4 * DAY);
      assert.deepEqual(
        due.map((k) => k.selector),
        ['sp202612e', 'sp202612r'],
      );
      assert.deepEqual(await states(), [
        'sp202612e retired',
        'sp202612r retired',
        'sp202612-2e active',
        'sp202612-2r active',
      ]);
    });

    it('activates without the DNS check when forced (resolver null), and says so in the audit', async () => {
      await generateDkimKeys(rt, ACTOR, 'example.org', NOW);
      await activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612'], { now: NOW, resolver: null });
      assert.deepEqual(await states(), ['sp202612e active', 'sp202612r active']);
      const [, entry] = await store.listAudit(1);
      assert.equal(JSON.parse(entry?.detail ?? '').dnsChecked, false);
    });

    it('refuses unknown selectors, half a pair, keys that are not pending, and a bad overlap', async () => {
      await generateDkimKeys(rt, ACTOR, 'example.org', NOW);
      const force = { now: NOW, resolver: null };
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'example.org', ['sp209901e'], force),
        'store.not-found',
        /no DKIM key or generation "sp209901e".*dkim list example\.org/,
      );
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'nothosted.example', ['sp202612'], force),
        'store.not-found',
        /not hosted/,
      );
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612e'], force),
        'input.invalid',
        /one ed25519 and one rsa.*dkim activate example\.org sp202612/,
      );
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'example.org', [], force),
        'input.invalid',
        /at least one selector/,
      );
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612'], { ...force, overlapMs: -1 }),
        'input.invalid',
        /overlap/,
      );
      await activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612'], force);
      await rejectsWith(
        activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612'], force),
        'input.invalid',
        /is active; only a pending key/,
      );
      assert.deepEqual(await states(), ['sp202612e active', 'sp202612r active']);
    });
  });

  describe('retirement', () => {
    it('retires a pending key at once, moves an active one to retiring and a retiring one to retired', async () => {
      await generateDkimKeys(rt, ACTOR, 'example.org', NOW);
      await activateDkimKeys(rt, ACTOR, 'example.org', ['sp202612'], { now: NOW, resolver: null });
      await generateDkimKeys(rt, ACTOR, 'example.org', NOW + 1);
      await retireDkimKeys(rt, ACTOR, 'example.org', ['sp202612-2'], { now: NOW + 1 });
      const changed = await retireDkimKeys(rt, ACTOR, 'example.org', ['sp202612r'], {
        now: NOW + 2,
        overlapMs: DAY,
      });
      assert.deepEqual(
        changed.map((k) => [k.selector, k.state, k.retireAt]),
        [['sp202612r', 'retiring', NOW + 2 + DAY]],
      );
      await retireDkimKeys(rt, ACTOR, 'example.org', ['sp202612r'], { now: NOW + 3 });
      assert.deepEqual(await states(), [
        'sp202612e active',
        'sp202612r retired',
        'sp202612-2e retired',
        'sp202612-2r retired',
      ]);
      await rejectsWith(
        retireDkimKeys(rt, ACTOR, 'example.org', ['sp202612r']),
        'input.invalid',
        /already retired/,
      );
      await rejectsWith(retireDkimKeys(rt, ACTOR, 'example.org', ['nope']), 'store.not-found', /no DKIM key/);
      const actions = (await store.listAudit(1)).map((e) => e.action);
      assert.deepEqual(actions, [
        'dkim.generate',
        'dkim.activate',
        'dkim.generate',
        'dkim.retire',
        'dkim.retire',
        'dkim.retire',
      ]);
    });
  });
});
