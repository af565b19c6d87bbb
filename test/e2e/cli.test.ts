// The `sealpost` command as an admin uses it: every command, its errors and exit
// codes, --json output, the audit trail it leaves, and `audit verify` catching an
// edited, removed or reordered entry.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/server.ts';

describe('sealpost CLI', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], input?: string) => runCli({ env }, args, input);

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sealpost-cli-'));
    env = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      SEALPOST_CONFIG: path.join(dir, 'sealpost.toml'),
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('init writes config, master key (0600) and a development certificate, and never overwrites', async () => {
    const r = await cli(['init', '--hostname', 'mail.example.com', '--mx-port', '2525']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created .*sealpost\.toml/);
    assert.equal(statSync(path.join(dir, 'master.key')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(dir, 'tls/key.pem')).mode & 0o777, 0o600);
    assert.match(readFileSync(path.join(dir, 'sealpost.toml'), 'utf8'), /hostname = "mail\.example\.com"/);
    const again = await cli(['init']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /kept .*master\.key/);
  });

  it('manages domains, users and aliases, with --json', async () => {
    assert.equal((await cli(['domain', 'add', 'Example.COM'])).code, 0);
    const dup = await cli(['domain', 'add', 'example.com']);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /exists|already/i);
    const add = await cli(['user', 'add', 'Alice@example.com', '--json'], 'a long enough passphrase\n');
    assert.equal(add.code, 0, add.stderr);
    assert.equal(JSON.parse(add.stdout).address, 'alice@example.com');
    const gen = await cli(['user', 'add', 'bob@example.com', '--generate']);
    assert.match(gen.stdout, /password: [a-z2-9]{5}(-[a-z2-9]{5}){3}/);
    const list = JSON.parse((await cli(['user', 'list', '--json'])).stdout) as { address: string }[];
    assert.deepEqual(list.map((u) => u.address).sort(), ['alice@example.com', 'bob@example.com']);
    assert.equal((await cli(['alias', 'add', 'sales@example.com', 'alice@example.com'])).code, 0);
    assert.equal((await cli(['alias', 'add', '@example.com', 'bob@example.com'])).code, 0);
    assert.match((await cli(['alias', 'list'])).stdout, /@example\.com -> bob@example\.com/);
    assert.equal((await cli(['user', 'disable', 'bob@example.com'])).code, 0);
    assert.equal((await cli(['user', 'quota', 'alice@example.com', '1GiB'])).code, 0);
    assert.equal((await cli(['user', 'passwd', 'alice@example.com'], 'another long passphrase\n')).code, 0);
    const regen = await cli(['user', 'passwd', 'bob@example.com', '--generate']);
    assert.equal(regen.code, 0, regen.stderr);
    assert.match(regen.stdout, /password: [a-z2-9]{5}(-[a-z2-9]{5}){3}/);
    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    assert.equal(status.users, 2);
    assert.equal(status.aliases, 2);
    assert.equal(status.server, 'stopped');
    assert.match(status.imap, /:\d+ \(TLS\)$/);
    assert.match(status.submission, /:\d+ \(implicit TLS\)/);
    assert.equal(status.delivery, 'on, 0 message(s) queued');
    assert.match(status.pop3, /:\d+ \(TLS\)$/);
  });

  it('refuses bad input and conflicts with a clear message and exit code 2 or 1, changing nothing', async () => {
    // [args, message, stdin]: input errors exit 2, conflicts with existing state exit 1.
    const cases: [string[], RegExp, string?][] = [
      [['user', 'add', 'not-an-address'], /not a valid address/, 'violet anchor mosaic thunder\n'],
      [['user', 'add', 'carol@nothosted.example'], /not hosted here/, 'violet anchor mosaic thunder\n'],
      [['user', 'add', 'carol@example.com'], /too short: use at least 12 characters/, 'short\n'],
      [['user', 'add', 'carol@example.com'], /too easy to guess.*Fix: .*passphrase/, 'Password123!\n'],
      [['user', 'add', 'carol@example.com'], /built around the account's name.*Fix: /, 'carol2026carol\n'],
      [['user', 'passwd', 'alice@example.com'], /too easy to guess/, 'qwertyuiop12\n'],
      [['user', 'passwd', 'alice@example.com'], /used recently/, 'another long passphrase\n'],
      [['domain', 'add', '../etc'], /not a valid domain/],
      [['user', 'delete', 'alice@example.com'], /--yes/],
      [['frobnicate'], /unknown command/],
      [
        ['user', 'add', 'alice@example.com'],
        /user alice@example\.com already exists/,
        'a long enough passphrase\n',
      ],
      [['alias', 'add', 'sales@example.com', 'bob@example.com'], /alias sales@example\.com already exists/],
      [['alias', 'remove', 'nobody@example.com'], /no alias nobody@example\.com/],
      [['domain', 'remove', 'example.com'], /still has 2 user\(s\) and 2 alias\(es\)/],
      [['user', 'add'], /missing address/],
    ];
    const conflicts = /already exists|no alias|still has|not hosted/;
    for (const [args, message, input] of cases) {
      const r = await cli(args, input);
      assert.equal(r.code, conflicts.test(message.source) ? 1 : 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const list = JSON.parse((await cli(['user', 'list', '--json'])).stdout) as unknown[];
    assert.equal(list.length, 2, 'no user was added');
  });

  it('refuses a config error with the key, the value and the fix', async () => {
    const r = await runCli({ env: { ...env, SEALPOST_MX_PORT: '70000' } }, ['status']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mx\.port = 70000 \(from environment variable SEALPOST_MX_PORT\).*Fix: /);
  });

  it('refuses a master key file that others can read', async () => {
    const key = path.join(dir, 'master.key');
    chmodSync(key, 0o644);
    const r = await cli(['status']);
    chmodSync(key, 0o600);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /chmod 600/);
  });

  it('rotates the master key; existing accounts still open', async () => {
    const r = await cli(['keys', 'rotate', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { version: 2, accounts: 2 });
    assert.match(readFileSync(path.join(dir, 'master.key'), 'utf8'), /v2 /);
    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    assert.deepEqual(status.masterKeyVersions, [1, 2]);
  });

  it('writes every admin action to the audit log, and verify passes', async () => {
    const rows = JSON.parse((await cli(['audit', 'list', '--json'])).stdout) as {
      action: string;
      actor: string;
    }[];
    const actions = rows.map((r) => r.action);
    for (const a of [
      'domain.add',
      'user.add',
      'alias.add',
      'user.disable',
      'user.quota',
      'user.passwd',
      'keys.rotate',
    ]) {
      assert.ok(actions.includes(a), `audited: ${a}`);
    }
    assert.ok(rows.every((r) => r.actor.startsWith('cli:')));
    const v = await cli(['audit', 'verify']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /intact/);
  });

  function tamper(sql: string, ...params: (string | number)[]) {
    const db = new DatabaseSync(path.join(dir, 'sealpost.db'));
    for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {
      name: string;
    }[]) {
      db.exec(`DROP TRIGGER ${t.name}`); // an attacker with the file can drop guards
    }
    db.prepare(sql).run(...params);
    db.close();
  }

  it('audit verify names an edited entry', async () => {
    tamper("UPDATE audit_log SET target = 'mallory@example.com' WHERE seq = 3");
    const r = await cli(['audit', 'verify']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /entry 3 was modified/);
  });

  it('audit verify names a removed entry and a reordered one', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'sealpost-audit-'));
    try {
      const e = {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        SEALPOST_CONFIG: path.join(fresh, 'sealpost.toml'),
      };
      const c = (args: string[], input?: string) => runCli({ env: e }, args, input);
      await c(['init']);
      for (const d of ['a.example', 'b.example', 'c.example', 'd.example']) await c(['domain', 'add', d]);
      assert.equal((await c(['audit', 'verify'])).code, 0);
      const edit = (sql: string) => {
        const db = new DatabaseSync(path.join(fresh, 'sealpost.db'));
        for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {
          name: string;
        }[]) {
          db.exec(`DROP TRIGGER ${t.name}`);
        }
        db.exec(sql);
        db.close();
      };
      // Reorder: swap the contents of entries 2 and 3 (keeping seq numbers).
      edit(
        `UPDATE audit_log SET seq = -2 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -2;`,
      );
      const reordered = await c(['audit', 'verify']);
      assert.equal(reordered.code, 1);
      assert.match(reordered.stderr, /entry 2 does not follow/);
      edit(
        `UPDATE audit_log SET seq = -2 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -2;`,
      );
      assert.equal((await c(['audit', 'verify'])).code, 0, 'restored order verifies again');
      // Remove an entry in the middle, then the last one.
      edit('DELETE FROM audit_log WHERE seq = 2');
      const removed = await c(['audit', 'verify']);
      assert.equal(removed.code, 1);
      assert.match(removed.stderr, /entry 2 is missing/);
      edit('DELETE FROM audit_log');
      const emptied = await c(['audit', 'verify']);
      assert.equal(emptied.code, 1);
      assert.match(emptied.stderr, /written but the log ends/);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
