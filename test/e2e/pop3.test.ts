// POP3 end to end with real clients: Python's poplib over implicit TLS (995) and over
// STLS on the cleartext port, and curl. Mail goes in over SMTP to the real MX; what
// the clients read is compared with what the store holds.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type ReadMessage, readMailbox } from '../support/mailbox.ts';
import {
  freePort,
  type InProcess,
  type Installation,
  install,
  PASSWORD,
  startInProcess,
} from '../support/server.ts';
import { message, RawSmtp } from '../support/smtp-raw.ts';

const run = promisify(execFile);

const PRELUDE = `
import json, poplib, ssl, sys
HOST = '127.0.0.1'
PORT, STLS_PORT, USER, PASS = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
CTX = ssl._create_unverified_context()
def connect():
    return poplib.POP3_SSL(HOST, PORT, context=CTX, timeout=20)
def login(user=None, password=None):
    p = connect()
    p.user(user or USER)
    p.pass_(password or PASS)
    return p
def text(b):
    return b.decode('latin1')
def err(f):
    try:
        f()
        return None
    except poplib.error_proto as e:
        return text(e.args[0])
out = {}
`;

/** Run a poplib script; it fills the dict `out`, which comes back parsed. */
async function python(
  ports: { tls: number; stls: number },
  user: string,
  body: string,
  password = PASSWORD,
): Promise<Record<string, unknown>> {
  const script = `${PRELUDE}\n${body}\nprint(json.dumps(out))\n`;
  const args = ['-c', script, String(ports.tls), String(ports.stls), user, password];
  const { stdout } = await run('python3', args, { timeout: 60_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

async function deliver(port: number, to: string, subject: string, body: string): Promise<void> {
  const { client } = await RawSmtp.connect(port);
  try {
    await client.cmd('EHLO client.example.org');
    assert.equal((await client.cmd('MAIL FROM:<sender@example.org>')).code, 250);
    assert.equal((await client.cmd(`RCPT TO:<${to}>`)).code, 250);
    assert.equal((await client.cmd('DATA')).code, 354);
    const stuffed = message({ to, subject, body }).replace(/^\./gm, '..');
    assert.equal((await client.cmd(`${stuffed}.`)).code, 250);
  } finally {
    client.close();
  }
}

const uidl = (inbox: readonly ReadMessage[], uidValidity: number) =>
  inbox.map((m, i) => `${i + 1} ${uidValidity}.${m.stored.uid}`);

describe('POP3 with real clients', () => {
  let inst: Installation;
  let srv: InProcess;
  let ports: { tls: number; stls: number };
  let uidValidity: number;

  before(async () => {
    const stls = await freePort();
    inst = await install({
      users: ['alice@sealpost.test', 'bob@sealpost.test', 'carol@sealpost.test'],
      env: { SEALPOST_POP3_STARTTLS_PORT: String(stls) },
    });
    srv = await startInProcess(inst);
    const tls = srv.server.listening.find((l) => l.role === 'pop3' && l.security === 'tls');
    assert.ok(tls, 'pop3 listens with implicit TLS');
    ports = { tls: tls.port, stls };
    for (const user of ['alice', 'bob', 'carol']) {
      await deliver(
        srv.mxPort,
        `${user}@sealpost.test`,
        'first',
        'Hello.\r\n.A line that starts with a dot\r\n..two',
      );
      await deliver(srv.mxPort, `${user}@sealpost.test`, 'second', 'line 1\r\nline 2\r\nline 3\r\nline 4');
      await deliver(srv.mxPort, `${user}@sealpost.test`, 'third', `${'x'.repeat(76)}\r\n`.repeat(3000));
    }
    uidValidity = await validityOf('alice@sealpost.test');
  });

  async function validityOf(address: string): Promise<number> {
    const store = srv.server.runtime.store;
    const account = await store.getAccountByAddress(address);
    const inbox = await store.getMailbox(account!.id, 'INBOX');
    return inbox!.uidValidity;
  }

  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('logs in over implicit TLS and answers STAT, LIST, UIDL, RETR and TOP from the store', async () => {
    const inbox = await readMailbox(inst, 'alice@sealpost.test');
    assert.equal(inbox.length, 3);
    const out = await python(
      ports,
      'alice@sealpost.test',
      `
p = connect()
out['capa_login'] = p.capa()
p.user(USER)
p.pass_(PASS)
out['stat'] = list(p.stat())
resp, lines, _ = p.list()
out['list_resp'] = text(resp)
out['list'] = [text(l) for l in lines]
out['list2'] = text(p.list(2))
out['uidl'] = [text(l) for l in p.uidl()[1]]
out['uidl3'] = text(p.uidl(3))
msgs = []
for n in (1, 2, 3):
    resp, lines, octets = p.retr(n)
    msgs.append({'resp': text(resp), 'raw': '\\r\\n'.join(text(l) for l in lines) + '\\r\\n', 'octets': octets})
out['retr'] = msgs
out['top0'] = [text(l) for l in p.top(2, 0)[1]]
out['top2'] = [text(l) for l in p.top(2, 2)[1]]
out['capa'] = p.capa()
out['quit'] = text(p.quit())
`,
    );
    const sizes = inbox.map((m) => m.stored.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.deepEqual(out['stat'], [3, total]);
    assert.equal(out['list_resp'], `+OK 3 messages (${total} octets)`);
    assert.deepEqual(
      out['list'],
      sizes.map((s, i) => `${i + 1} ${s}`),
    );
    assert.equal(out['list2'], `+OK 2 ${sizes[1]}`);
    assert.deepEqual(out['uidl'], uidl(inbox, uidValidity));
    assert.equal(out['uidl3'], `+OK 3 ${uidValidity}.${inbox[2]!.stored.uid}`);
    const retr = out['retr'] as { resp: string; raw: string }[];
    for (const [i, m] of inbox.entries()) {
      assert.equal(retr[i]!.resp, `+OK ${m.stored.size} octets`);
      assert.equal(retr[i]!.raw, m.raw, `message ${i + 1} comes back byte for byte`);
    }
    assert.match(retr[0]!.raw, /\r\n\.A line that starts with a dot\r\n\.\.two\r\n$/);
    const top0 = out['top0'] as string[];
    assert.equal(top0.at(-1), '');
    assert.ok(top0.includes('Subject: second'));
    assert.deepEqual((out['top2'] as string[]).slice(top0.length), ['line 1', 'line 2']);
    const capa = {
      TOP: [],
      UIDL: [],
      'RESP-CODES': [],
      'AUTH-RESP-CODE': [],
      PIPELINING: [],
      EXPIRE: ['NEVER'],
      'LOGIN-DELAY': ['0'],
      USER: [],
      SASL: ['PLAIN'],
    };
    assert.deepEqual(out['capa_login'], capa, 'no STLS and no IMPLEMENTATION over TLS');
    assert.deepEqual(out['capa'], capa);
    assert.match(out['quit'] as string, /^\+OK .*\(3 messages left\)/);
    const after = await readMailbox(inst, 'alice@sealpost.test');
    assert.ok(
      after.every((m) => m.stored.flags.includes('\\Seen')),
      'RETR marks messages \\Seen',
    );
  });

  it('keeps the same unique ids across sessions', async () => {
    const script = `
p = login()
out['a'] = [text(l) for l in p.uidl()[1]]
p.quit()
p = login()
out['b'] = [text(l) for l in p.uidl()[1]]
p.quit()
`;
    const first = await python(ports, 'alice@sealpost.test', script);
    const second = await python(ports, 'alice@sealpost.test', script);
    assert.deepEqual(first['a'], first['b']);
    assert.deepEqual(first['a'], second['a']);
    assert.equal((first['a'] as string[]).length, 3);
  });

  it('commits DELE only at QUIT: a dropped connection and RSET delete nothing', async () => {
    const before = await readMailbox(inst, 'bob@sealpost.test');
    const out = await python(
      ports,
      'bob@sealpost.test',
      `
p = login()
out['dele'] = text(p.dele(1))
out['again'] = err(lambda: p.dele(1))
out['retr'] = err(lambda: p.retr(1))
out['top'] = err(lambda: p.top(1, 0))
out['list'] = err(lambda: p.list(1))
out['uidl'] = err(lambda: p.uidl(1))
out['stat'] = list(p.stat())
p.sock.close()
`,
    );
    assert.equal(out['dele'], '+OK Message 1 deleted');
    for (const k of ['again', 'retr', 'top', 'list', 'uidl'])
      assert.equal(out[k], '-ERR Message 1 already deleted', k);
    assert.equal((out['stat'] as number[])[0], 2);
    assert.equal(
      (await readMailbox(inst, 'bob@sealpost.test')).length,
      3,
      'a dropped session deletes nothing',
    );

    const rset = await python(
      ports,
      'bob@sealpost.test',
      `
p = login()
p.dele(1)
p.dele(3)
out['rset'] = text(p.rset())
out['stat'] = list(p.stat())
out['quit'] = text(p.quit())
`,
    );
    assert.match(rset['rset'] as string, /^\+OK Maildrop has 3 messages/);
    assert.equal((rset['stat'] as number[])[0], 3);
    assert.equal((await readMailbox(inst, 'bob@sealpost.test')).length, 3, 'RSET undeletes');

    const quit = await python(
      ports,
      'bob@sealpost.test',
      `
p = login()
p.dele(1)
p.dele(3)
out['quit'] = text(p.quit())
p = login()
out['uidl'] = [text(l) for l in p.uidl()[1]]
p.quit()
`,
    );
    assert.match(quit['quit'] as string, /^\+OK .*\(1 messages left\)/);
    const left = await readMailbox(inst, 'bob@sealpost.test');
    assert.deepEqual(
      left.map((m) => m.stored.uid),
      [before[1]!.stored.uid],
    );
    assert.deepEqual(quit['uidl'], [`1 ${await validityOf('bob@sealpost.test')}.${left[0]!.stored.uid}`]);
  });

  it('refuses a second session with [IN-USE] while the first holds the maildrop, and allows it after QUIT', async () => {
    const out = await python(
      ports,
      'carol@sealpost.test',
      `
a = login()
b = connect()
b.user(USER)
out['second'] = err(lambda: b.pass_(PASS))
out['still'] = text(b.user(USER))
out['a_stat'] = list(a.stat())
a.quit()
out['retry'] = text(b.pass_(PASS))
out['b_stat'] = list(b.stat())
b.quit()
`,
    );
    assert.equal(out['second'], '-ERR [IN-USE] Maildrop already locked');
    assert.equal(out['still'], '+OK Send PASS', 'the refused session stays in AUTHORIZATION');
    assert.equal((out['a_stat'] as number[])[0], 3);
    assert.match(out['retry'] as string, /^\+OK Maildrop locked and ready, 3 messages/);
    assert.deepEqual(out['b_stat'], out['a_stat']);
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const out = await python(
      ports,
      'alice@sealpost.test',
      `
p = connect()
p.user('alice@sealpost.test')
out['wrong'] = err(lambda: p.pass_('not the password'))
p.user('nobody@sealpost.test')
out['unknown'] = err(lambda: p.pass_('not the password'))
p.user('nobody@elsewhere.test')
out['foreign'] = err(lambda: p.pass_(PASS))
p.quit()
`,
    );
    assert.equal(out['wrong'], '-ERR [AUTH] Invalid credentials');
    assert.equal(out['unknown'], out['wrong']);
    assert.equal(out['foreign'], out['wrong']);
  });

  it('offers STLS on the cleartext port and logs in only after it', async () => {
    const out = await python(
      ports,
      'alice@sealpost.test',
      `
p = poplib.POP3(HOST, STLS_PORT, timeout=20)
out['greeting'] = text(p.getwelcome())
out['capa_before'] = sorted(p.capa().keys())
out['user_before'] = err(lambda: p.user(USER))
out['stls'] = text(p.stls(context=CTX))
out['capa_after'] = sorted(p.capa().keys())
p.user(USER)
out['pass'] = text(p.pass_(PASS))
out['stat'] = list(p.stat())
p.quit()
`,
    );
    assert.equal(out['greeting'], '+OK Sealpost POP3 ready');
    assert.ok((out['capa_before'] as string[]).includes('STLS'));
    assert.ok(!(out['capa_before'] as string[]).includes('USER'));
    assert.ok(!(out['capa_before'] as string[]).includes('SASL'));
    assert.match(out['user_before'] as string, /^-ERR \[AUTH\] /);
    assert.equal(out['stls'], '+OK Begin TLS negotiation');
    assert.ok(!(out['capa_after'] as string[]).includes('STLS'));
    assert.ok((out['capa_after'] as string[]).includes('USER'));
    assert.ok((out['capa_after'] as string[]).includes('SASL'));
    assert.match(out['pass'] as string, /^\+OK Maildrop locked and ready/);
    assert.equal((out['stat'] as number[])[0], 3);
  });

  it('serves curl (SASL PLAIN over implicit TLS)', async (t) => {
    try {
      await run('curl', ['--version']);
    } catch {
      t.skip('curl is not installed');
      return;
    }
    const inbox = await readMailbox(inst, 'alice@sealpost.test');
    const { stdout } = await run(
      'curl',
      [
        '-sS',
        '-k',
        '--max-time',
        '20',
        `pop3s://127.0.0.1:${ports.tls}/2`,
        '-u',
        `alice@sealpost.test:${PASSWORD}`,
      ],
      { encoding: 'buffer' },
    );
    assert.equal(stdout.toString('latin1'), inbox[1]!.raw);
  });
});
