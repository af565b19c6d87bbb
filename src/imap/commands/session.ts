// Commands of any state and the login commands: CAPABILITY, NOOP, CHECK, LOGOUT,
// ID (RFC 2971), ENABLE (RFC 5161), STARTTLS (RFC 9051 §6.2.1), LOGIN (§6.2.3),
// AUTHENTICATE PLAIN (§6.2.2, RFC 4616, SASL-IR RFC 4959), COMPRESS (RFC 4978).
//
// Invariants:
// - No credential is accepted before TLS (DESIGN invariant 1): LOGIN and
//   AUTHENTICATE answer NO [PRIVACYREQUIRED] on a cleartext connection, which
//   advertises LOGINDISABLED and no AUTH= mechanism.
// - Every failed login gets the same text and the same work (auth/password-login.ts).

import { decodeBase64, parsePlain } from '../../auth/sasl-plain.ts';
import type { ImapConnection } from '../connection.ts';
import { ImapNo } from '../errors.ts';
import { define, ok } from '../handler.ts';
import { ANY, AUTHENTICATED, NOT_AUTHENTICATED, SELECTED } from '../session.ts';

const FAILED = { status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'Invalid credentials' } as const;

async function login(conn: ImapConnection, username: string, password: string) {
  if (!conn.secure) throw new ImapNo('PRIVACYREQUIRED', 'Use TLS before logging in');
  const result = await conn.server.login.login({
    username,
    password,
    protocol: 'imap',
    address: conn.remoteAddress,
  });
  if (!result.ok) return FAILED;
  conn.state = { kind: 'authenticated', account: result.account };
  conn.stateChanged();
  conn.log.info({ user: result.account.address }, 'imap: logged in');
  return ok('Logged in', `CAPABILITY ${conn.server.capabilities(conn).join(' ')}`);
}

export const SESSION_HANDLERS = [
  ...define('CAPABILITY', {
    states: ANY,
    async run(conn) {
      conn.untagged(`CAPABILITY ${conn.server.capabilities(conn).join(' ')}`);
      return ok('Capability completed');
    },
  }),
  ...define('NOOP', { states: ANY, run: async () => ok('NOOP completed') }),
  ...define('LOGOUT', {
    states: ANY,
    sync: 'none',
    async run(conn, _c, tag) {
      conn.untagged('BYE Logging out');
      conn.write(`${tag} OK Logout completed\r\n`);
      conn.state = { kind: 'logout' };
      conn.end();
      return { text: '', tagged: false };
    },
  }),
  ...define('ID', {
    states: ANY,
    async run(conn) {
      // RFC 2971 §3.3: no version or build details (they only help an attacker).
      conn.untagged('ID ("name" "Sealpost")');
      return ok('ID completed');
    },
  }),
  ...define('ENABLE', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const done: string[] = [];
      for (const cap of c.capabilities) {
        const u = cap.toUpperCase();
        if (u !== 'CONDSTORE' && u !== 'QRESYNC' && u !== 'IMAP4REV2') continue;
        if (!conn.enabled.has(u)) done.push(u);
        conn.enabled.add(u);
        if (u === 'CONDSTORE' || u === 'QRESYNC') conn.condstore = true;
      }
      conn.untagged(`ENABLED${done.map((d) => ` ${d}`).join('')}`);
      return ok('ENABLE completed');
    },
  }),
  ...define('STARTTLS', {
    states: NOT_AUTHENTICATED,
    sync: 'none',
    async run(conn, _c, tag) {
      if (conn.secure) return { status: 'BAD', text: 'TLS is already active' };
      conn.write(`${tag} OK Begin TLS negotiation now\r\n`);
      conn.startTls();
      return { text: '', tagged: false };
    },
  }),
  ...define('LOGIN', {
    states: NOT_AUTHENTICATED,
    run: (conn, c) => login(conn, c.user, c.password),
  }),
  ...define('AUTHENTICATE', {
    states: NOT_AUTHENTICATED,
    async run(conn, c) {
      if (!conn.secure) throw new ImapNo('PRIVACYREQUIRED', 'Use TLS before logging in');
      if (c.mechanism !== 'PLAIN') throw new ImapNo('CANNOT', 'Unsupported mechanism; use PLAIN');
      let data = c.initialResponse;
      if (data === undefined) {
        const line = await conn.continuation('');
        if (line === null || line === '*') return { status: 'BAD', text: 'Authentication cancelled' };
        const decoded = decodeBase64(line);
        if (decoded === null) return { status: 'BAD', text: 'Invalid base64' };
        data = decoded;
      }
      const creds = parsePlain(data);
      if (creds === null) return { status: 'BAD', text: 'Malformed PLAIN credentials' };
      return login(conn, creds.user, creds.password);
    },
  }),
  ...define('COMPRESS', {
    states: AUTHENTICATED,
    sync: 'none',
    async run(conn, _c, tag) {
      if (conn.compressed) throw new ImapNo('COMPRESSIONACTIVE', 'Compression is already active');
      conn.write(`${tag} OK DEFLATE active\r\n`);
      conn.startCompression();
      return { text: '', tagged: false };
    },
  }),
  ...define('CHECK', { states: SELECTED, run: async () => ok('CHECK completed') }),
];
