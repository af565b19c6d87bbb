// The account owner's /api/account endpoints over real HTTPS (issue 4 items 1, 3, 7):
// password change (checked against IMAP, other sessions ended, no recent reuse), app
// passwords made and revoked over HTTP and used on IMAP within their scopes, the
// owner's security log, CSRF on every state change, and pending sessions refused.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addTotp } from '../support/factors.ts';
import { imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, PASSWORD, startInProcess } from '../support/server.ts';
import { Browser, type Json, webAddresses } from '../support/web.ts';

process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';

const ALICE = 'alice@sealpost.test';
const BOB = 'bob@sealpost.test';
const CAROL = 'carol@sealpost.test';
const NEW_PASSWORD = 'quiet otter drums glacier 1987';
const NO_CSRF = { 'x-csrf-token': '' };

async function loginOk(b: Browser, username: string) {
  const r = await b.login(username);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r;
}

describe('web role: the account owner API', () => {
  let inst: Installation;
  let srv: InProcess;
  let base: string;
  let origin: string;
  let imap: number;
  let alice: Browser;
  const browser = (ua = 'AliceAgent/1.0') => new Browser(base, origin, ua);

  async function imapLogin(user: string, password: string): Promise<string> {
    const c = await RawImap.connect(imap);
    try {
      return (await c.command('a', `LOGIN ${user} "${password}"`)).at(-1)!;
    } finally {
      c.close();
    }
  }
  async function imapSelect(user: string, password: string): Promise<{ login: string; select: string }> {
    const c = await RawImap.connect(imap);
    try {
      const login = (await c.command('a', `LOGIN ${user} "${password}"`)).at(-1)!;
      const select = (await c.command('b', 'SELECT INBOX')).at(-1)!;
      return { login, select };
    } finally {
      c.close();
    }
  }

  before(async () => {
    inst = await install({ users: [ALICE, BOB, CAROL] });
    srv = await startInProcess(inst);
    ({ base, origin } = webAddresses(srv.server));
    imap = imapPort(srv.server);
    // Carol has a TOTP factor, so her web login stays pending.
    await addTotp(srv.server.runtime, CAROL);
    alice = browser();
    await loginOk(alice, ALICE);
  });
  after(async () => {
    await srv?.server.stop();
    await inst?.cleanup();
  });

  it('refuses a password change with a wrong current password and changes nothing', async () => {
    const r = await alice.req('POST', '/api/account/password', {
      current: 'not it at all',
      new: NEW_PASSWORD,
    });
    assert.equal(r.status, 403);
    assert.equal(r.json['error'], 'forbidden');
    assert.match(await imapLogin(ALICE, PASSWORD), /^a OK/);
    assert.match(await imapLogin(ALICE, NEW_PASSWORD), /^a NO/);
  });

  it('refuses every state change without the CSRF token, changing nothing', async () => {
    const pw = await alice.req(
      'POST',
      '/api/account/password',
      { current: PASSWORD, new: NEW_PASSWORD },
      NO_CSRF,
    );
    assert.equal(pw.status, 403);
    assert.match(await imapLogin(ALICE, PASSWORD), /^a OK/);
    const made = await alice.req(
      'POST',
      '/api/account/app-passwords',
      { name: 'x', scopes: ['imap'] },
      NO_CSRF,
    );
    assert.equal(made.status, 403);
    const ok = await alice.req('POST', '/api/account/app-passwords', { name: 'Keep', scopes: ['imap'] });
    assert.equal(ok.status, 201);
    const id = ok.json['id'] as string;
    const del = await alice.req('DELETE', `/api/account/app-passwords/${id}`, undefined, NO_CSRF);
    assert.equal(del.status, 403);
    const list = await alice.req('GET', '/api/account/app-passwords');
    const all = list.json['appPasswords'] as Json[];
    assert.deepEqual(
      all.map((a) => [a['name'], a['revokedAt']]),
      [['Keep', null]],
    );
    assert.match(await imapLogin(ALICE, ok.json['password'] as string), /^a OK/);
    assert.equal((await alice.req('DELETE', `/api/account/app-passwords/${id}`)).status, 200);
  });

  it('changes the password: IMAP takes the new one only, other sessions end, recent ones are refused', async () => {
    const other = browser('AliceOtherDevice/2.0');
    await loginOk(other, ALICE);
    assert.equal((await other.req('GET', '/api/auth/session')).status, 200);
    const weak = await alice.req('POST', '/api/account/password', { current: PASSWORD, new: 'short' });
    assert.equal(weak.status, 400);
    const r = await alice.req('POST', '/api/account/password', { current: PASSWORD, new: NEW_PASSWORD });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json['sessionsEnded'], 1);
    assert.match(await imapLogin(ALICE, NEW_PASSWORD), /^a OK/);
    assert.match(await imapLogin(ALICE, PASSWORD), /^a NO/);
    assert.equal((await other.req('GET', '/api/auth/session')).status, 401);
    assert.equal((await alice.req('GET', '/api/auth/session')).status, 200, 'the current session goes on');
    const back = await alice.req('POST', '/api/account/password', { current: NEW_PASSWORD, new: PASSWORD });
    assert.equal(back.status, 400);
    assert.match(String(back.json['message']), /used recently/);
    assert.match(await imapLogin(ALICE, NEW_PASSWORD), /^a OK/);
    const rt = srv.server.runtime;
    const audit = await rt.store.listAudit(1, 1000);
    assert.ok(audit.some((a) => a.action === 'user.passwd' && a.actor === `user:${ALICE}`));
    assert.equal((await rt.audit.verify()).ok, true, 'the audit chain still verifies');
  });

  it('app passwords made over HTTP work on IMAP within their scopes and stop at once when revoked', async () => {
    const imapOne = await alice.req('POST', '/api/account/app-passwords', {
      name: 'Thunderbird',
      scopes: ['imap', 'smtp'],
      expiresInDays: 30,
    });
    assert.equal(imapOne.status, 201, JSON.stringify(imapOne.json));
    const password = imapOne.json['password'] as string;
    assert.match(password, /^[a-z2-7]{4}(-[a-z2-7]{4}){7}$/);
    assert.ok((imapOne.json['expiresAt'] as number) > Date.now() + 29 * 86_400_000);
    const popOnly = await alice.req('POST', '/api/account/app-passwords', {
      name: 'Old POP',
      scopes: ['pop3'],
    });
    assert.equal(popOnly.status, 201);
    const bad = await alice.req('POST', '/api/account/app-passwords', { name: 'x', scopes: ['admin'] });
    assert.equal(bad.status, 400);
    const badNet = await alice.req('POST', '/api/account/app-passwords', {
      name: 'x',
      scopes: ['imap'],
      networks: ['not a network'],
    });
    assert.equal(badNet.status, 400);

    const s = await imapSelect(ALICE, password);
    assert.match(s.login, /^a OK/);
    assert.match(s.select, /^b OK/);
    assert.match(await imapLogin(ALICE, popOnly.json['password'] as string), /^a NO/);

    const list = await alice.req('GET', '/api/account/app-passwords');
    assert.equal(list.status, 200);
    const text = JSON.stringify(list.json);
    assert.doesNotMatch(text, /secretHash|accountId/);
    assert.ok(!text.includes(password.replaceAll('-', '').slice(8)), 'the secret is never listed');
    const listed = (list.json['appPasswords'] as Json[]).find((a) => a['id'] === imapOne.json['id']);
    assert.deepEqual(listed?.['scopes'], ['imap', 'smtp']);

    const open = await RawImap.connect(imap);
    assert.match((await open.command('a', `LOGIN ${ALICE} "${password}"`)).at(-1)!, /^a OK/);
    const del = await alice.req('DELETE', `/api/account/app-passwords/${imapOne.json['id'] as string}`);
    assert.equal(del.status, 200);
    assert.match(await imapLogin(ALICE, password), /^a NO/);
    open.close();
    assert.equal((await alice.req('DELETE', '/api/account/app-passwords/zzzzzzzz')).status, 404);
  });

  it("another account's app password cannot be revoked, and its events never show in the log", async () => {
    const bob = browser('BobAgent/9.9');
    await loginOk(bob, BOB);
    const made = await bob.req('POST', '/api/account/app-passwords', { name: 'Bob phone', scopes: ['imap'] });
    assert.equal(made.status, 201);
    const id = made.json['id'] as string;
    assert.equal((await alice.req('DELETE', `/api/account/app-passwords/${id}`)).status, 404);
    assert.match(await imapLogin(BOB, made.json['password'] as string), /^a OK/);

    const log = await alice.req('GET', '/api/account/security-log');
    assert.equal(log.status, 200);
    const events = log.json['events'] as Json[];
    const text = JSON.stringify(events);
    assert.doesNotMatch(text, /BobAgent|Bob phone/);
    const rt = srv.server.runtime;
    const aliceId = (await rt.store.getAccountByAddress(ALICE))!.id;
    const own = new Set((await rt.store.listSecurityEvents(aliceId, 1000)).map((e) => e.seq));
    for (const e of events) assert.ok(own.has(e['seq'] as number), `event ${String(e['seq'])} is alice's`);

    const seqs = events.map((e) => e['seq'] as number);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => b - a),
      'newest first',
    );
    const has = (kind: string, pred: (e: Json) => boolean = () => true) =>
      events.some((e) => e['kind'] === kind && pred(e));
    assert.ok(
      has('login', (e) => e['protocol'] === 'web' && e['success'] === true),
      'the web login',
    );
    assert.ok(
      has('password-changed', (e) => e['protocol'] === 'web'),
      'the password change',
    );
    assert.ok(
      has('password-change-failed', (e) => e['success'] === false),
      'the refused change',
    );
    assert.ok(has('app-password-created', (e) => e['detail'] === 'Thunderbird' && e['protocol'] === 'web'));
    assert.ok(has('app-password-revoked', (e) => e['address'] !== null));

    const older = await alice.req('GET', `/api/account/security-log?before=${seqs[2]!}`);
    assert.equal(older.status, 200);
    assert.deepEqual(
      (older.json['events'] as Json[]).map((e) => e['seq']),
      seqs.slice(3),
    );
    assert.equal((await alice.req('GET', '/api/account/security-log?before=x')).status, 400);
  });

  it('a session still waiting for its second factor is refused on every route', async () => {
    const carol = browser('CarolAgent/1.0');
    const r = await loginOk(carol, CAROL);
    assert.equal(r.json['pending'], true);
    const answers = [
      await carol.req('POST', '/api/account/password', { current: PASSWORD, new: NEW_PASSWORD }),
      await carol.req('GET', '/api/account/app-passwords'),
      await carol.req('POST', '/api/account/app-passwords', { name: 'x', scopes: ['imap'] }),
      await carol.req('DELETE', '/api/account/app-passwords/abcdefgh'),
      await carol.req('GET', '/api/account/security-log'),
    ];
    for (const a of answers) assert.ok(a.status === 401 || a.status === 409, String(a.status));
    const rt = srv.server.runtime;
    const account = (await rt.store.getAccountByAddress(CAROL))!;
    assert.deepEqual(await rt.store.listAppPasswords(account.id), []);
    const anonymous = browser('Nobody/0');
    assert.equal((await anonymous.req('GET', '/api/account/security-log')).status, 401);
  });
});
