// The AUTHORIZATION state (RFC 1939 §4, §7): STLS (RFC 2595 §4), USER/PASS, AUTH PLAIN
// (RFC 5034 §4, RFC 4616), and taking the maildrop lock (RFC 1939 §8).
//
// Invariants:
// - No credential is accepted before TLS (DESIGN invariant 1): on the cleartext
//   port USER, PASS and AUTH answer `-ERR [AUTH]` until STLS succeeded, and CAPA
//   offers neither USER nor SASL there.
// - Every credential check goes through the one login function
//   (auth/password-login.ts): unknown user and wrong password get the same
//   `-ERR [AUTH] Invalid credentials` after the same work. USER always says +OK,
//   so it reveals nothing either.
// - A maildrop locked by another session gives `-ERR [IN-USE]` (RFC 2449 §8.1.2)
//   and the session stays in AUTHORIZATION.
// - Neither the password nor the SASL response is ever logged.

import type { Pop3Connection } from './connection.ts';
import type { Handlers } from './dispatcher.ts';
import { decodeBase64, parsePlain } from './grammar.ts';
import { MAX_AUTH_LINE } from './limits.ts';
import { MaildropLock } from './lock.ts';
import { Maildrop } from './maildrop.ts';
import { AUTHORIZATION } from './session.ts';

const TLS_FIRST = '-ERR [AUTH] Use STLS before logging in';

async function login(conn: Pop3Connection, username: string, password: string): Promise<void> {
  const { store } = conn.server;
  const result = await conn.server.login.login({
    username,
    password,
    protocol: 'pop3',
    address: conn.remoteAddress,
  });
  if (conn.closed) return;
  if (!result.ok) {
    conn.reply('-ERR [AUTH] Invalid credentials');
    return;
  }
  const account = result.account;
  const inbox = await store.getMailbox(account.id, 'INBOX');
  if (inbox === null) {
    conn.log.error({ user: account.address }, 'pop3: account has no INBOX');
    conn.reply('-ERR [SYS/PERM] Maildrop not available');
    return;
  }
  const lock = await MaildropLock.acquire(store, account.id, conn.id, conn.log, () => conn.lockLost());
  if (lock === null) {
    conn.reply('-ERR [IN-USE] Maildrop already locked');
    return;
  }
  try {
    const maildrop = new Maildrop(inbox, await store.listEntries(inbox.id));
    if (conn.closed) throw new Error('closed during login');
    conn.enterTransaction({ kind: 'transaction', account, maildrop, lock });
    const { count, octets } = maildrop.stat();
    conn.log.info({ user: account.address, messages: count }, 'pop3: logged in');
    conn.reply(`+OK Maildrop locked and ready, ${count} messages (${octets} octets)`);
  } catch (e) {
    await lock.release();
    if (!conn.closed) throw e;
  }
}

/** AUTH PLAIN without an initial response: one `+ ` continuation (RFC 5034 §4). */
async function continuation(conn: Pop3Connection): Promise<Buffer | string | null> {
  conn.reply('+ ');
  const event = await conn.nextLine(MAX_AUTH_LINE);
  if (event === null) return null;
  if (event.kind !== 'line') {
    conn.reply('-ERR Line too long');
    if (event.kind === 'flood') conn.end();
    return null;
  }
  const line = event.line.toString('latin1');
  if (line === '*') return '-ERR Authentication cancelled';
  return decodeBase64(line) ?? '-ERR Invalid base64';
}

export const AUTH_HANDLERS: Handlers<'STLS' | 'USER' | 'PASS' | 'AUTH'> = {
  STLS: {
    states: AUTHORIZATION,
    async run(conn) {
      if (conn.secure) {
        conn.reply('-ERR TLS is already active');
        return;
      }
      conn.state = { kind: 'authorization', user: null };
      conn.reply('+OK Begin TLS negotiation');
      conn.startTls();
    },
  },
  USER: {
    states: AUTHORIZATION,
    async run(conn, c) {
      if (!conn.secure) return conn.reply(TLS_FIRST);
      conn.state = { kind: 'authorization', user: c.user };
      conn.reply('+OK Send PASS');
    },
  },
  PASS: {
    states: AUTHORIZATION,
    async run(conn, c) {
      if (!conn.secure) return conn.reply(TLS_FIRST);
      const s = conn.state;
      if (s.kind !== 'authorization' || s.user === null) return conn.reply('-ERR Send USER first');
      conn.state = { kind: 'authorization', user: null };
      await login(conn, s.user, c.password);
    },
  },
  AUTH: {
    states: AUTHORIZATION,
    async run(conn, c) {
      if (!conn.secure) return conn.reply(TLS_FIRST);
      conn.state = { kind: 'authorization', user: null };
      if (c.mechanism === undefined) {
        // The mechanism list some clients ask for with a bare AUTH (as RFC 1734 servers did).
        conn.write('+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n');
        return;
      }
      if (c.mechanism !== 'PLAIN') return conn.reply('-ERR Unsupported mechanism; use PLAIN');
      let data: Buffer | string | null;
      if (c.initialResponse === undefined) data = await continuation(conn);
      else data = decodeBase64(c.initialResponse) ?? '-ERR Invalid base64';
      if (data === null || conn.closed) return;
      if (typeof data === 'string') return conn.reply(data);
      const creds = parsePlain(data);
      if (creds === null) return conn.reply('-ERR Malformed PLAIN response');
      await login(conn, creds.user, creds.password);
    },
  },
};
