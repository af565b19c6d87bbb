// The background sweep of web sessions (issue 4 item 4): a web server with an injected
// clock, driven over real HTTPS; the sweep is triggered through WebServer.sweep()
// instead of waiting for its timer, and once through a short timer interval.
// A pending session goes after PENDING_MS, a complete one after the idle timeout
// (config web.session_idle_minutes) or at the absolute timeout
// (web.session_absolute_hours) however busy it is; live sessions stay.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openRuntime, type Runtime } from '../../src/app/runtime.ts';
import { createPasswordLogin } from '../../src/auth/password-login.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { AccountKeys } from '../../src/mail/account-keys.ts';
import { CertificateSource } from '../../src/tls/index.ts';
import { createWebServer, type WebServer, webOrigin } from '../../src/web/server.ts';
import { PENDING_MS } from '../../src/web/session-policy.ts';
import { sweepCutoff } from '../../src/web/session-sweeper.ts';
import { addRecoveryCodes } from '../support/factors.ts';
import { HOSTNAME, type Installation, install } from '../support/server.ts';
import { Browser } from '../support/web.ts';

process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

const MIN = 60_000;

describe('web role: expired sessions are swept from the store', () => {
  let inst: Installation;
  let rt: Runtime;
  let certificates: CertificateSource;
  const clock = { now: Date.now() };
  const servers: WebServer[] = [];

  async function start(sweepIntervalMs?: number) {
    const config = inst.config();
    const web = await createWebServer({
      config,
      store: rt.store,
      keys: rt.keys,
      accountKeys: new AccountKeys(rt.store, rt.keys, async () => rt.keys),
      certificates,
      login: createPasswordLogin({ store: rt.store, logger: silentLogger(), keys: rt.keys }),
      logger: silentLogger(),
      audit: rt.audit,
      now: () => clock.now,
      ...(sweepIntervalMs !== undefined ? { sweepIntervalMs } : {}),
    });
    servers.push(web);
    await new Promise<void>((resolve) => web.server.listen(0, '127.0.0.1', resolve));
    const a = web.server.address();
    const port = typeof a === 'object' && a !== null ? a.port : 0;
    const browser = () => new Browser(`https://127.0.0.1:${port}`, webOrigin(HOSTNAME, port));
    return { web, browser };
  }
  const sessionsOf = async (address: string) => {
    const account = await rt.store.getAccountByAddress(address);
    return rt.store.listWebSessions(account!.id);
  };

  before(async () => {
    inst = await install({
      users: ['alice@sealpost.test', 'bob@sealpost.test', 'carol@sealpost.test', 'dave@sealpost.test'],
      env: { SEALPOST_WEB_SESSION_IDLE_MINUTES: '30', SEALPOST_WEB_SESSION_ABSOLUTE_HOURS: '1' },
    });
    const config = inst.config();
    rt = await openRuntime(config, { env: inst.env });
    certificates = await CertificateSource.fromFiles(
      config.tls.cert_file,
      config.tls.key_file,
      silentLogger(),
    );
    // bob has recovery codes: his password login leaves a pending session.
    await addRecoveryCodes(rt, 'bob@sealpost.test', 2, clock.now);
  });
  after(async () => {
    for (const s of servers) {
      await s.close();
      // The test listens itself: it closes what net/listener.ts closes for `sealpost start`.
      s.server.closeAllConnections();
      if (s.server.listening) await new Promise((r) => s.server.close(r));
    }
    certificates?.close();
    await rt?.close();
    await inst?.cleanup();
  });

  it('sweeps pending, idle and absolutely expired sessions, and keeps live ones', async () => {
    const { web, browser } = await start();
    const alice = browser();
    const bob = browser();
    const carol = browser();
    assert.equal((await alice.login('alice@sealpost.test')).json['pending'], false);
    assert.equal((await bob.login('bob@sealpost.test')).json['pending'], true);
    assert.equal((await carol.login('carol@sealpost.test')).json['pending'], false);
    assert.equal(await web.sweep(), 0, 'nothing has timed out yet');

    // Past PENDING_MS: bob's password-only session goes; the complete ones stay.
    clock.now += PENDING_MS + 1000;
    assert.equal((await alice.req('GET', '/api/auth/session')).status, 200); // alice stays active
    assert.equal(await web.sweep(), 1);
    assert.deepEqual(await sessionsOf('bob@sealpost.test'), []);
    assert.equal((await sessionsOf('carol@sealpost.test')).length, 1);

    // 30 idle minutes after carol's last request: she goes; alice, active, stays.
    clock.now += 25 * MIN;
    assert.equal((await alice.req('GET', '/api/auth/session')).status, 200);
    assert.equal(await web.sweep(), 1);
    assert.deepEqual(await sessionsOf('carol@sealpost.test'), []);
    assert.equal((await carol.req('GET', '/api/auth/session')).status, 401);
    assert.equal((await sessionsOf('alice@sealpost.test')).length, 1);

    // One hour after login (web.session_absolute_hours = 1) alice goes, busy or not.
    clock.now += 25 * MIN;
    assert.equal((await alice.req('GET', '/api/auth/session')).status, 200);
    assert.equal(await web.sweep(), 0, 'still inside the hour');
    clock.now += 6 * MIN;
    assert.equal(await web.sweep(), 1);
    assert.deepEqual(await sessionsOf('alice@sealpost.test'), []);
    assert.equal((await alice.req('GET', '/api/auth/session')).status, 401);
  });

  it('sweeps on its timer and stops when the server closes', async () => {
    const { web, browser } = await start(20);
    const dave = browser();
    assert.equal((await dave.login('dave@sealpost.test')).status, 200);
    assert.equal((await sessionsOf('dave@sealpost.test')).length, 1);
    clock.now += 31 * MIN;
    // The timer (every 20 ms here) deletes the idle session without any request.
    const deadline = Date.now() + 10_000;
    while ((await sessionsOf('dave@sealpost.test')).length > 0) {
      assert.ok(Date.now() < deadline, 'the timer swept within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    await web.close();
    // Closed: a session that times out now stays in the store (no timer runs any more).
    const account = (await rt.store.getAccountByAddress('dave@sealpost.test'))!;
    const idHash = 'ab'.repeat(32);
    await rt.store.createWebSession({
      idHash,
      accountId: account.id,
      createdAt: clock.now - 2 * 3_600_000,
      lastSeenAt: clock.now - 2 * 3_600_000,
      expiresAt: clock.now - 3_600_000,
      address: '127.0.0.1',
      userAgent: 'x',
      pending: false,
      secondFactor: null,
      challenge: null,
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(await rt.store.getWebSession(idHash), null);
    const cut = sweepCutoff(clock.now, { idleMs: 30 * MIN, absoluteMs: 3_600_000 });
    assert.equal(await rt.store.deleteExpiredWebSessions(cut), 1);
  });
});
