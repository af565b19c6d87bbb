// The administrator's identity commands (issue 4 item 6: "the same operations in the
// CLI for admins"), run as the real `sealpost` CLI against a running server whose web
// sessions were made over HTTPS: list and end a user's web sessions, list second
// factors and remove one (a 2FA reset that ends the user's sessions), read the
// security log; every change audited; unknown users and ids refused with exit 1, bad
// actions and --limit with exit 2, changing nothing.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newTotpSecret } from '../../src/auth/totp.ts';
import { addFactor } from '../support/factors.ts';
import { type InProcess, type Installation, install, runCli, startInProcess } from '../support/server.ts';
import { Browser, webAddresses } from '../support/web.ts';

process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

type SessionRow = { id: string; state: string; address: string; userAgent: string };
type FactorRow = { id: string; kind: string; name: string; remaining?: number };

describe('sealpost user sessions | factors | security-log', () => {
  let inst: Installation;
  let srv: InProcess;
  let base: string;
  let origin: string;
  const browser = () => new Browser(base, origin);
  const cli = (args: string[]) => runCli(inst, args);
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await cli([...args, '--json']);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  const auditActions = async () =>
    (await json<{ action: string; target: string }[]>(['audit', 'list', '--limit', '1000'])).map(
      (r) => `${r.action} ${r.target}`,
    );

  before(async () => {
    inst = await install({ users: ['alice@sealpost.test', 'bob@sealpost.test'] });
    srv = await startInProcess(inst);
    ({ base, origin } = webAddresses(srv.server));
  });
  after(async () => {
    await srv?.server.stop();
    await inst?.cleanup();
  });

  it('lists a user’s web sessions by public id, ends one, then all, each audited', async () => {
    const a = browser();
    const b = browser();
    assert.equal((await a.login('alice@sealpost.test')).status, 200);
    assert.equal((await b.login('alice@sealpost.test')).status, 200);
    const aId = (await a.req('GET', '/api/auth/session')).json['id'] as string;
    const bId = (await b.req('GET', '/api/auth/session')).json['id'] as string;
    const rows = await json<SessionRow[]>(['user', 'sessions', 'alice@sealpost.test']);
    assert.deepEqual(rows.map((r) => r.id).sort(), [aId, bId].sort());
    assert.ok(rows.every((r) => r.state === 'active' && r.address === '127.0.0.1' && r.userAgent !== ''));
    const text = await cli(['user', 'sessions', 'alice@sealpost.test']);
    assert.match(text.stdout, new RegExp(`^${aId}  active  from 127\\.0\\.0\\.1`, 'm'));
    assert.doesNotMatch(text.stdout + JSON.stringify(rows), /[0-9a-f]{64}/, 'no id hash is shown');
    assert.match((await cli(['user', 'sessions', 'bob@sealpost.test'])).stdout, /no web sessions/);

    const one = await cli(['user', 'sessions', 'alice@sealpost.test', 'revoke', bId]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal((await b.req('GET', '/api/auth/session')).status, 401, 'the revoked session ended');
    assert.equal((await a.req('GET', '/api/auth/session')).status, 200, 'the other lives');
    const c = browser();
    await c.login('alice@sealpost.test');
    const all = await json<{ ended: number }>(['user', 'sessions', 'alice@sealpost.test', 'revoke-all']);
    assert.equal(all.ended, 2);
    assert.equal((await a.req('GET', '/api/auth/session')).status, 401);
    assert.equal((await c.req('GET', '/api/auth/session')).status, 401);
    assert.deepEqual(await json<SessionRow[]>(['user', 'sessions', 'alice@sealpost.test']), []);

    const actions = await auditActions();
    assert.ok(actions.includes('user.sessions.revoke alice@sealpost.test'), actions.join());
    assert.ok(actions.includes('user.sessions.revoke-all alice@sealpost.test'), actions.join());
  });

  it('lists factors without secrets and removes one (2FA reset), ending the user’s sessions', async () => {
    // bob enrols recovery codes over HTTPS; a TOTP factor is added to the store.
    const b = browser();
    assert.equal((await b.login('bob@sealpost.test')).status, 200);
    const codes = (await b.req('POST', '/api/auth/factors/recovery', {})).json['codes'] as string[];
    assert.equal(codes.length, 10);
    const rt = srv.server.runtime;
    const totpId = (
      await addFactor(rt, 'bob@sealpost.test', {
        name: 'lost phone',
        sealedSecret: new Uint8Array(newTotpSecret()),
      })
    ).id; // never opened
    const factors = await json<FactorRow[]>(['user', 'factors', 'bob@sealpost.test']);
    assert.deepEqual(factors.map((f) => [f.kind, f.name, f.remaining]).sort(), [
      ['recovery', 'Recovery codes', 10],
      ['totp', 'lost phone', undefined],
    ]);
    const text = (await cli(['user', 'factors', 'bob@sealpost.test'])).stdout;
    assert.match(text, new RegExp(`^${totpId}  totp  "lost phone"  created `, 'm'));
    assert.match(text, /10 codes left/);
    assert.doesNotMatch(text + JSON.stringify(factors), /sealed|secret|hash|publicKey|credential/i);
    for (const c of codes) assert.ok(!text.includes(c));

    // Bob is pending at login now (he has a TOTP factor); the admin resets it.
    const pending = browser();
    assert.equal((await pending.login('bob@sealpost.test')).json['pending'], true);
    const removed = await json<{ kind: string; sessionsEnded: number; secondFactorsLeft: number }>([
      'user',
      'factors',
      'bob@sealpost.test',
      'remove',
      totpId,
    ]);
    assert.deepEqual(removed, {
      address: 'bob@sealpost.test',
      removed: totpId,
      kind: 'totp',
      sessionsEnded: 2,
      secondFactorsLeft: 0,
    });
    assert.equal((await b.req('GET', '/api/auth/session')).status, 401, 'the complete session ended');
    assert.equal((await pending.req('GET', '/api/auth/session')).status, 401, 'the pending one too');
    assert.deepEqual(
      (await json<FactorRow[]>(['user', 'factors', 'bob@sealpost.test'])).map((f) => f.kind),
      ['recovery'],
    );
    const actions = await auditActions();
    assert.ok(actions.includes('user.factor.remove bob@sealpost.test'), actions.join());
    // The audit chain still verifies after the new entries.
    assert.equal((await cli(['audit', 'verify'])).code, 0);
  });

  it('shows the security log newest first, with --limit', async () => {
    const events = await json<{ kind: string; protocol: string; success: boolean; factor: string | null }[]>([
      'user',
      'security-log',
      'bob@sealpost.test',
    ]);
    assert.equal(events[0]?.kind, 'factor-removed');
    assert.equal(events[0]?.protocol, 'cli');
    assert.equal(events[0]?.factor, 'totp');
    assert.ok(events.some((e) => e.kind === 'login' && e.protocol === 'web' && e.success));
    assert.ok(events.some((e) => e.kind === 'factor-added' && e.protocol === 'web'));
    const two = await json<unknown[]>(['user', 'security-log', 'bob@sealpost.test', '--limit', '2']);
    assert.equal(two.length, 2);
    const text = (await cli(['user', 'security-log', 'alice@sealpost.test'])).stdout;
    assert.match(text, /web-sessions-revoked {2}ok {2}cli/);
    assert.match(text, /web-session-revoked {2}ok {2}cli/);
  });

  it('refuses unknown users and ids (exit 1) and bad input (exit 2), changing nothing', async () => {
    const before = await auditActions();
    const a = browser();
    await a.login('alice@sealpost.test');
    const cases: [string[], number, RegExp][] = [
      [['user', 'sessions', 'nobody@sealpost.test'], 1, /no user nobody@sealpost\.test/],
      [['user', 'sessions', 'nobody@sealpost.test', 'revoke-all'], 1, /no user nobody@sealpost\.test/],
      [['user', 'factors', 'nobody@sealpost.test'], 1, /no user/],
      [['user', 'security-log', 'nobody@sealpost.test'], 1, /no user/],
      [
        ['user', 'sessions', 'alice@sealpost.test', 'revoke', '0123456789abcdef'],
        1,
        /no web session 0123456789abcdef/,
      ],
      [['user', 'factors', 'alice@sealpost.test', 'remove', 'no-such-id'], 1, /no second factor no-such-id/],
      [['user', 'factors', 'bob@sealpost.test', 'remove'], 2, /missing factor id/],
      [['user', 'sessions', 'alice@sealpost.test', 'revoke'], 2, /missing session id/],
      [['user', 'sessions', 'alice@sealpost.test', 'delete-everything'], 2, /unknown sessions action/],
      [['user', 'factors', 'alice@sealpost.test', 'reset'], 2, /unknown factors action/],
      [['user', 'sessions'], 2, /missing address/],
      [
        ['user', 'security-log', 'bob@sealpost.test', '--limit', '0'],
        2,
        /--limit "0": use a number from 1 to 1000/,
      ],
      [['user', 'security-log', 'bob@sealpost.test', '--limit', 'lots'], 2, /--limit/],
      [['user', 'sessions', 'not-an-address'], 2, /not a valid address/],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal((await a.req('GET', '/api/auth/session')).status, 200, "alice's session lives");
    assert.deepEqual(await auditActions(), before, 'nothing audited');
  });
});
