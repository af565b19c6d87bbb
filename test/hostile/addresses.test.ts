// Address parsing under hostile input (issue 6 item 4): the address the policy checks
// must be the address mail is routed to. Three parsers meet here: the SMTP path parser
// (core/address.ts, behind smtp-server), the From/Sender header parser of the sender
// policy (smtp/sender-policy.ts singleHeaderAddress, on mime/envelope.ts), and the
// router (mail/recipients.ts resolveRecipient). For each hostile string they give the
// same address or a refusal, never two different addresses; then the same strings go
// over the wire to submission and the MX. Sources: RFC 5321 §4.1.2 (Mailbox, quoted
// local parts), §C and RFC 5322 §4.4 (source routes, obs-route), RFC 1123 §5.2.16
// (the % hack), RFC 5322 §3.2.2 and §4.2 (comments, obs-FWS folding), RFC 2047 §5
// (encoded words never inside an addr-spec), RFC 3492/UTS #39 (punycode homographs),
// RFC 5233 (sub-addressing).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseAddress } from '../../src/core/address.ts';
import { resolveRecipient } from '../../src/mail/recipients.ts';
import { ownsAddress, singleHeaderAddress } from '../../src/smtp/sender-policy.ts';
import { readMailbox } from '../support/mailbox.ts';
import { saslPlain, waitFor } from '../support/outbound.ts';
import {
  type InProcess,
  type Installation,
  install,
  openStore,
  PASSWORD,
  runCli,
  startInProcess,
} from '../support/server.ts';
import { RawSmtp } from '../support/smtp-raw.ts';
import { useWatchdog } from '../support/watchdog.ts';

const ALICE = 'alice@sealpost.test';
const BOB = 'bob@sealpost.test';

/**
 * Hostile spellings. `routes`: the account the checked address reaches, or null (refused
 * or nobody). `path: false`: legal only in a header (comments, CFWS), so the SMTP path
 * form is refused even though the header form reaches alice.
 */
const DIFFERENTIALS: readonly { s: string; routes: string | null; why: string; path?: false }[] = [
  { s: 'alice@sealpost.test', routes: ALICE, why: 'baseline' },
  { s: 'ALICE@SEALPOST.TEST', routes: ALICE, why: 'case folding' },
  { s: '"alice"@sealpost.test', routes: ALICE, why: 'quoted dot-string is the same mailbox' },
  { s: '"al ice"@sealpost.test', routes: null, why: 'quoted local part with specials' },
  { s: '"alice@sealpost.test"@evil.example', routes: null, why: 'quoted @ in the local part' },
  {
    s: 'alice(bob@evil.example)@sealpost.test',
    routes: ALICE,
    why: 'comment in the local part',
    path: false,
  },
  {
    s: 'alice@sealpost.test (bob@sealpost.test)',
    routes: ALICE,
    why: 'trailing comment naming another',
    path: false,
  },
  { s: '@relay.example,@evil.example:alice@sealpost.test', routes: ALICE, why: 'source route' },
  { s: 'alice%evil.example@sealpost.test', routes: null, why: '% hack' },
  { s: 'alice@sealpost.test@evil.example', routes: null, why: 'two @' },
  { s: 'bob@evil.example@sealpost.test', routes: null, why: 'two @, the last local' },
  { s: 'alice@@sealpost.test', routes: null, why: 'doubled @' },
  { s: 'alice\\@evil.example@sealpost.test', routes: null, why: 'escaped @' },
  {
    s: 'alice@sealpost.test.',
    routes: ALICE,
    why: 'trailing root dot (smtp-server refuses it in a path)',
    path: false,
  },
  { s: 'alice.@sealpost.test', routes: null, why: 'trailing dot in the local part' },
  { s: 'alice@sealpost..test', routes: null, why: 'empty label' },
  { s: 'alice@xn--ealpost-iog.test', routes: null, why: 'punycode homograph (Cyrillic s)' },
  { s: 'alice@\u0455ealpost.test', routes: null, why: 'U-label homograph (Cyrillic s)' },
  { s: 'alice@SEALPOST.TEST', routes: ALICE, why: 'upper-case domain' },
  { s: 'alice@[127.0.0.1]', routes: null, why: 'address literal' },
  { s: 'alice\u0000@sealpost.test', routes: null, why: 'NUL' },
  { s: 'alice\r@sealpost.test', routes: ALICE, why: 'bare CR (white space to a header parser)', path: false },
  { s: 'alice+news@sealpost.test', routes: ALICE, why: 'sub-address' },
  { s: 'alice+@sealpost.test', routes: ALICE, why: 'empty sub-address' },
  { s: '+alice@sealpost.test', routes: null, why: 'separator first' },
  { s: '=?utf-8?q?alice?=@sealpost.test', routes: null, why: 'encoded word as local part' },
  { s: 'alice@=?utf-8?q?sealpost.test?=', routes: null, why: 'encoded word as domain' },
  { s: 'alice=40sealpost.test@evil.example', routes: null, why: "Q-encoded '@'" },
  { s: `${'a'.repeat(65)}@sealpost.test`, routes: null, why: 'local part over 64 octets' },
];

describe('address-parser differentials and hostile addresses', () => {
  let inst: Installation;
  let srv: InProcess;
  let tlsPort: number;

  before(async () => {
    inst = await install({ users: [ALICE, BOB] });
    const alias = await runCli(inst, ['alias', 'add', 'sales@sealpost.test', ALICE]);
    assert.equal(alias.code, 0, alias.stderr);
    srv = await startInProcess(inst);
    tlsPort = srv.server.listening.find((l) => l.role === 'submission' && l.security === 'tls')!.port;
  });
  useWatchdog('addresses');
  after(async () => {
    await srv.server.stop();
    await inst.cleanup();
  });

  it('envelope, From header and router agree: one address or a refusal, and the policy owns what routes to it', async () => {
    const rt = await openStore(inst);
    try {
      const alice = (await rt.store.getAccountByAddress(ALICE))!;
      for (const { s, routes, why } of DIFFERENTIALS) {
        const env = parseAddress(s, { utf8: true });
        const seen = new Set<string>();
        if (env.ok) seen.add(env.value.address);
        for (const header of [s, `<${s}>`, `Someone <${s}>`]) {
          const h = singleHeaderAddress(header);
          if (h.ok) seen.add(h.address.address);
        }
        assert.ok(seen.size <= 1, `${why}: ${JSON.stringify(s)} parsed as ${[...seen].join(' and ')}`);
        const address = env.ok ? env.value : null;
        const header = singleHeaderAddress(`<${s}>`);
        const checked = header.ok ? header.address : address;
        let routedTo: string | null = null;
        if (checked !== null) {
          const r = await resolveRecipient(rt.store, checked);
          if (r.kind === 'local') routedTo = r.accounts.map((a) => a.address).join(',');
          // The sender policy's "alice owns it" is exactly "it is routed to alice".
          assert.equal(
            await ownsAddress(rt.store, alice, checked),
            routedTo === ALICE,
            `${why}: policy and router disagree on ${JSON.stringify(s)}`,
          );
        }
        assert.equal(routedTo, routes, `${why}: ${JSON.stringify(s)}`);
      }
    } finally {
      await rt.close();
    }
  });

  async function submission(): Promise<RawSmtp> {
    const { client } = await RawSmtp.connectTls(tlsPort);
    await client.cmd('EHLO client.example');
    assert.equal((await client.cmd(`AUTH PLAIN ${saslPlain(ALICE, PASSWORD)}`)).code, 235);
    return client;
  }

  it('submission MAIL FROM: only spellings that route to alice are accepted', async () => {
    const c = await submission();
    try {
      for (const { s, routes, why, path } of DIFFERENTIALS) {
        if (/[\r\0]/.test(s)) continue; // a line with a bare CR or NUL is a wire case (MX hostile)
        const r = await c.cmd(`MAIL FROM:<${s}> SMTPUTF8`);
        if (routes === ALICE && path !== false)
          assert.equal(r.code, 250, `${why}: ${s}: ${r.code} ${r.text}`);
        else assert.ok(r.code >= 500, `${why}: ${s} accepted with ${r.code}`);
        if (r.code === 250) assert.equal((await c.cmd('RSET')).code, 250);
      }
    } finally {
      c.close();
    }
  });

  /** Submit raw header lines from alice to bob; returns the reply code. */
  async function submitWithHeader(header: string, tag: string): Promise<number> {
    const c = await submission();
    assert.equal((await c.cmd(`MAIL FROM:<${ALICE}>`)).code, 250);
    assert.equal((await c.cmd(`RCPT TO:<${BOB}>`)).code, 250);
    assert.equal((await c.cmd('DATA')).code, 354);
    c.write(`${header}\r\nTo: ${BOB}\r\nSubject: ${tag}\r\n\r\nbody\r\n.\r\n`);
    try {
      return (await c.read())?.code ?? 0;
    } finally {
      c.close();
    }
  }

  const FOLDING: readonly [string, string][] = [
    ['folded between two addresses', `From: ${ALICE}\r\n <${BOB}>`],
    ['obs-fold inside the angle-addr', `From: <alice\r\n @sealpost.test>`],
    ['folded so the display name looks like the address', `From: "${ALICE}"\r\n\t<${BOB}>`],
    ['CRLF-space inside the domain', `From: <alice@sealpost\r\n .test>`],
    ['an empty folded line before the address', `From:\r\n \r\n <${BOB}>`],
    ['a second mailbox on a continuation line', `From: <${ALICE}>,\r\n <${BOB}>`],
    ['a comment hiding another address', `From: <${BOB}> (${ALICE})`],
    ['two @ where display parsers differ', `From: <bob@evil.example@sealpost.test>`],
  ];

  for (const [what, header] of FOLDING) {
    it(`header folding in From (${what}): refused, or the checked address is alice's and bob's ENVELOPE says so`, async () => {
      const tag = `fold-${what}`;
      const code = await submitWithHeader(header, tag);
      if (code !== 250) {
        assert.equal(code, 550, `${what}: ${code}`);
        return;
      }
      // 250 means queued; the delivery role puts it in the mailbox a moment later.
      const got = await waitFor(
        'delivery',
        async () => (await readMailbox(inst, BOB)).find((m) => m.summary.subject === tag) ?? null,
      );
      const from = singleHeaderAddress(/^From:(.*)$/m.exec(got.raw.replace(/\r\n[ \t]/g, ' '))![1]!);
      assert.ok(
        from.ok && from.address.address === ALICE,
        `${what}: delivered From is ${JSON.stringify(from)}`,
      );
    });
  }

  const ENCODED: readonly [string, string][] = [
    ['an encoded word as the whole angle-addr', 'From: <=?utf-8?q?alice=40sealpost=2Etest?=>'],
    ['an encoded word as the local part', 'From: <=?utf-8?q?alice?=@sealpost.test>'],
    ['an encoded word as the domain', 'From: <alice@=?utf-8?q?sealpost=2Etest?=>'],
    ['an encoded @ in a bare addr-spec', 'From: =?utf-8?b?YWxpY2VAc2VhbHBvc3QudGVzdA==?='],
    ['a display name encoding alice, address bob', `From: =?utf-8?q?alice=40sealpost=2Etest?= <${BOB}>`],
    ['an encoded word hiding a comma', `From: =?utf-8?q?x=2C?= <${BOB}>`],
  ];

  for (const [what, header] of ENCODED) {
    it(`encoded-word abuse in From (${what}) is refused with 550 5.7.1`, async () => {
      assert.equal(await submitWithHeader(header, `ew-${what}`), 550);
    });
  }

  it('MX RCPT TO: hostile spellings reach alice only when the router says so', async () => {
    const { client } = await RawSmtp.connect(srv.mxPort);
    try {
      await client.cmd('EHLO client.example');
      assert.equal((await client.cmd('MAIL FROM:<x@example.org> SMTPUTF8')).code, 250);
      for (const { s, routes, why, path } of DIFFERENTIALS) {
        if (/[\r\0]/.test(s)) continue;
        const r = await client.cmd(`RCPT TO:<${s}>`);
        if (routes !== null && path !== false) assert.equal(r.code, 250, `${why}: ${s}: ${r.code} ${r.text}`);
        else assert.ok(r.code >= 500, `${why}: ${s} accepted with ${r.code}`);
      }
    } finally {
      client.close();
    }
  });
});
