// DkimKeyring on a real SQLite store and a real DNS server: it signs with the domain's
// active pair (verified by mailauth), says why a message stays unsigned, follows a
// rotation on refresh() or once its keys are older than refreshMs, unseals each key once,
// and skips a key that fails to open while the domain's other key still signs.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { dkimVerify } from 'mailauth';
import { pino } from 'pino';
import { type DnsTestServer, startDnsServer } from '../../../test/support/dns-server.ts';
import { AuditLog } from '../../audit/log.ts';
import { MasterKeyRing } from '../../crypto/index.ts';
import { createDnsResolver, type DnsResolver, resolveFunction } from '../../net/dns.ts';
import { openSqliteStore, type SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import type { DkimKeyRecord } from '../../store/types.ts';
import { recordName, txtValue } from './dns-record.ts';
import { DkimKeyring } from './keyring.ts';
import { activateDkimKeys, type DkimAdmin, generateDkimKeys } from './manage.ts';

const NOW = Date.UTC(2026, 11, 2, 10, 0, 0);
const MESSAGE = Buffer.from(
  'From: alice@example.org\r\nTo: bob@example.net\r\nSubject: hi\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-ID: <k1@example.org>\r\n\r\nHello.\r\n',
);

describe('DkimKeyring', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;
  let rt: DkimAdmin;
  let dns: DnsTestServer;
  let resolver: DnsResolver;
  let clock: number;
  const ring = new MasterKeyRing([{ version: 1, key: randomBytes(32) }]);

  before(async () => {
    dns = await startDnsServer({});
    resolver = createDnsResolver({
      servers: [`127.0.0.1:${dns.port}`],
      timeoutMs: 2000,
      defaultTtlSeconds: 0,
    });
  });
  after(() => dns.close());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealpost-keyring-'));
    path = join(dir, 'store.db');
    store = await openSqliteStore({ path });
    await store.migrate();
    await store.addDomain({ id: 'dom_1', name: 'example.org', createdAt: NOW });
    await store.addDomain({ id: 'dom_2', name: 'unsigned.example', createdAt: NOW });
    rt = { store, keys: ring, audit: new AuditLog(store, randomBytes(32)) };
    clock = NOW;
    dns.clear();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const newPair = async (at: number): Promise<DkimKeyRecord[]> => {
    const keys = await generateDkimKeys(rt, 'cli:test', 'example.org', at);
    for (const k of keys)
      dns.set(recordName(k.selector, k.domain), 'TXT', [txtValue(k.algorithm, k.publicKey)]);
    await activateDkimKeys(rt, 'cli:test', 'example.org', [keys[0]?.generation ?? ''], { now: at, resolver });
    return keys;
  };
  const verified = async (raw: Buffer) =>
    (await dkimVerify(raw, { resolver: resolveFunction(resolver) as never })).results.map(
      (r) => `${r.selector} ${r.status.result}`,
    );

  it('signs with the active pair of the domain and verifies; says why another domain stays unsigned', async () => {
    await newPair(NOW);
    await generateDkimKeys(rt, 'cli:test', 'example.org', NOW + 1); // pending: never signs
    const keyring = new DkimKeyring({ store, keys: ring, now: () => clock });
    const signed = await keyring.sign(MESSAGE, 'Example.ORG');
    assert.deepEqual(signed.signatures, [
      { selector: 'sp202612e', algorithm: 'ed25519' },
      { selector: 'sp202612r', algorithm: 'rsa' },
    ]);
    assert.equal(signed.unsignedReason, null);
    assert.deepEqual(await verified(signed.message), ['sp202612e pass', 'sp202612r pass']);
    const unsigned = await keyring.sign(MESSAGE, 'unsigned.example');
    assert.deepEqual(unsigned, {
      message: MESSAGE,
      signatures: [],
      unsignedReason: 'no active DKIM key for unsigned.example',
    });
  });

  it('follows a rotation on refresh(), or by itself once its keys are older than refreshMs', async () => {
    await newPair(NOW);
    const keyring = new DkimKeyring({ store, keys: ring, now: () => clock, refreshMs: 60_000 });
    assert.deepEqual(
      (await keyring.sign(MESSAGE, 'example.org')).signatures.map((s) => s.selector),
      ['sp202612e', 'sp202612r'],
    );
    await newPair(NOW + 1000);
    clock = NOW + 30_000; // still fresh: the old keys sign
    assert.deepEqual(
      (await keyring.sign(MESSAGE, 'example.org')).signatures.map((s) => s.selector),
      ['sp202612e', 'sp202612r'],
    );
    clock = NOW + 61_000; // stale: reloaded before signing
    const after = await keyring.sign(MESSAGE, 'example.org');
    assert.deepEqual(
      after.signatures.map((s) => s.selector),
      ['sp202612-2e', 'sp202612-2r'],
    );
    assert.deepEqual(await verified(after.message), ['sp202612-2e pass', 'sp202612-2r pass']);
    await newPair(NOW + 2000);
    await keyring.refresh();
    assert.deepEqual(
      keyring.keysFor('example.org').map((k) => k.selector),
      ['sp202612-3e', 'sp202612-3r'],
    );
  });

  it('unseals a key once; a key that fails to open is skipped and reported, the other still signs', async () => {
    await newPair(NOW);
    const errors: string[] = [];
    const keyring = new DkimKeyring({
      store,
      keys: ring,
      now: () => clock,
      onKeyError: (k, e) => errors.push(`${k.selector} ${(e as { code?: string }).code}`),
    });
    await keyring.refresh();
    const first = keyring.keysFor('example.org');
    await keyring.refresh();
    assert.ok(keyring.keysFor('example.org').every((k, i) => k.privateKey === first[i]?.privateKey));
    // Someone with database access swaps the sealed Ed25519 key for the RSA one.
    const db = new DatabaseSync(path);
    db.prepare(
      `UPDATE dkim_key SET sealed_private_key = (SELECT sealed_private_key FROM dkim_key WHERE selector = 'sp202612r')
       WHERE selector = 'sp202612e'`,
    ).run();
    db.close();
    await keyring.refresh();
    assert.deepEqual(errors, ['sp202612e crypto.integrity']);
    // Without a handler, the failure is logged at error level, without key material.
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    await new DkimKeyring({ store, keys: ring, logger }).refresh();
    assert.equal(lines.length, 1);
    const logged = JSON.parse(lines[0] ?? '{}');
    assert.deepEqual([logged.level, logged.selector, logged.code], [50, 'sp202612e', 'crypto.integrity']);
    assert.match(logged.msg, /DKIM key failed to open/);
    const signed = await keyring.sign(MESSAGE, 'example.org');
    assert.deepEqual(signed.signatures, [{ selector: 'sp202612r', algorithm: 'rsa' }]);
    assert.deepEqual(await verified(signed.message), ['sp202612r pass']);
  });

  it('keeps its keys when a reload fails, and reports it', async () => {
    await newPair(NOW);
    const failures: unknown[] = [];
    const keyring = new DkimKeyring({
      store,
      keys: ring,
      now: () => clock,
      onRefreshError: (e) => failures.push(e),
    });
    await keyring.refresh();
    await store.close();
    clock = NOW + 120_000;
    const signed = await keyring.sign(MESSAGE, 'example.org');
    assert.equal(signed.signatures.length, 2);
    assert.equal(failures.length, 1);
    store = await openSqliteStore({ path });
  });
});
