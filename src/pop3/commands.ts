// The TRANSACTION and UPDATE states (RFC 1939 §5, §6, §7) and the commands of any
// state: CAPA (RFC 2449 §5), NOOP, QUIT, STAT, LIST, UIDL, RETR, TOP, DELE, RSET.
//
// Invariants:
// - Message numbers refer to the snapshot taken at login (maildrop.ts); a message
//   marked deleted is refused by every command that names it.
// - DELE only marks; the marks are committed in ONE store call at QUIT, after the
//   lock is confirmed still ours. A session that ends any other way deletes nothing.
// - RETR (not TOP) sets \Seen, after the message was sent.
// - RETR and TOP output is dot-stuffed and written in chunks, each waiting for the
//   socket to drain, so a large message never piles up in memory twice over.
// - CAPA leaks no version (no IMPLEMENTATION) and offers credentials only over TLS.

import { readRaw } from '../mail/read.ts';
import type { MessageEntry } from '../store/types.ts';
import type { Pop3Connection } from './connection.ts';
import type { Handlers } from './dispatcher.ts';
import type { Maildrop } from './maildrop.ts';
import { dotStuffed, topOf } from './message-output.ts';
import { ANY, TRANSACTION } from './session.ts';

/**
 * RFC 2449 §6: USER and SASL are announced in both states (§6.3, §6.8) but only over
 * TLS; STLS only on a cleartext connection (RFC 2595 §4). No IMPLEMENTATION (§6.9):
 * a version string only helps an attacker.
 */
export function capabilities(conn: Pop3Connection): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER', 'LOGIN-DELAY 0'];
  if (conn.secure) caps.push('USER', 'SASL PLAIN');
  else if (conn.state.kind === 'authorization') caps.push('STLS');
  return caps;
}

function maildropOf(conn: Pop3Connection): Maildrop {
  if (conn.state.kind !== 'transaction') throw new Error('not in TRANSACTION');
  return conn.state.maildrop;
}

/** The live entry numbered n, or null after answering -ERR. */
function lookup(conn: Pop3Connection, n: number): MessageEntry | null {
  const found = maildropOf(conn).get(n);
  if (found.ok) return found.entry;
  conn.reply(`-ERR ${found.error}`);
  return null;
}

/** The message's bytes, or null after answering -ERR (it was expunged elsewhere). */
async function messageBytes(conn: Pop3Connection, n: number, entry: MessageEntry): Promise<Buffer | null> {
  const { store, accountKeys } = conn.server;
  const [row] = await store.getMessages(maildropOf(conn).mailboxId, [entry.uid]);
  if (row === undefined) {
    conn.reply(`-ERR Message ${n} was removed by another session`);
    return null;
  }
  return readRaw({ store, accountKeys }, row);
}

/** Send a multi-line body: dot-stuffed chunks with back-pressure, then the terminator. */
async function sendBody(conn: Pop3Connection, bytes: Buffer): Promise<void> {
  for (const chunk of dotStuffed(bytes)) {
    if (!conn.write(chunk)) await conn.drain();
    if (conn.closed) return;
  }
  conn.write('.\r\n');
}

async function markSeen(conn: Pop3Connection, entry: MessageEntry): Promise<void> {
  const drop = maildropOf(conn);
  if (drop.isSeen(entry)) return;
  try {
    await conn.server.store.storeFlags(drop.mailboxId, [entry.uid], ['\\Seen'], 'add');
    drop.markSeen(entry);
  } catch (e) {
    conn.log.warn({ err: e }, 'pop3: could not set \\Seen');
  }
}

/** QUIT in TRANSACTION: the UPDATE state (RFC 1939 §6). */
async function update(conn: Pop3Connection): Promise<void> {
  const s = conn.state;
  if (s.kind !== 'transaction') return;
  conn.state = { kind: 'update' };
  const { maildrop, lock } = s;
  let answer: string;
  try {
    const uids = maildrop.deletedUids();
    const left = maildrop.stat().count;
    answer = `+OK Sealpost POP3 server signing off (${left} messages left)`;
    if (uids.length > 0) {
      if (!(await lock.confirm())) answer = '-ERR [SYS/TEMP] Maildrop lock lost; nothing deleted';
      else {
        try {
          await conn.server.store.expunge(maildrop.mailboxId, uids);
          conn.log.info({ deleted: uids.length }, 'pop3: deleted messages');
        } catch (e) {
          conn.log.error({ err: e }, 'pop3: expunge at QUIT failed');
          answer = '-ERR [SYS/TEMP] Some deleted messages not removed';
        }
      }
    }
  } finally {
    await lock.release();
    conn.updateDone();
  }
  conn.reply(answer);
  conn.end();
}

export const TRANSACTION_HANDLERS: Handlers<
  'CAPA' | 'QUIT' | 'NOOP' | 'STAT' | 'LIST' | 'UIDL' | 'RETR' | 'TOP' | 'DELE' | 'RSET'
> = {
  CAPA: {
    states: ANY,
    async run(conn) {
      conn.write(`+OK Capability list follows\r\n${capabilities(conn).join('\r\n')}\r\n.\r\n`);
    },
  },
  NOOP: { states: TRANSACTION, run: async (conn) => conn.reply('+OK') },
  QUIT: {
    states: ANY,
    async run(conn) {
      if (conn.state.kind === 'transaction') return update(conn);
      conn.reply('+OK Sealpost POP3 server signing off');
      conn.end();
    },
  },
  STAT: {
    states: TRANSACTION,
    async run(conn) {
      const { count, octets } = maildropOf(conn).stat();
      conn.reply(`+OK ${count} ${octets}`);
    },
  },
  LIST: {
    states: TRANSACTION,
    async run(conn, c) {
      const drop = maildropOf(conn);
      if (c.msg !== undefined) {
        const entry = lookup(conn, c.msg);
        if (entry !== null) conn.reply(`+OK ${c.msg} ${entry.size}`);
        return;
      }
      const { count, octets } = drop.stat();
      const lines = [`+OK ${count} messages (${octets} octets)`];
      for (const [n, e] of drop.live()) lines.push(`${n} ${e.size}`);
      await sendLines(conn, lines);
    },
  },
  UIDL: {
    states: TRANSACTION,
    async run(conn, c) {
      const drop = maildropOf(conn);
      if (c.msg !== undefined) {
        const entry = lookup(conn, c.msg);
        if (entry !== null) conn.reply(`+OK ${c.msg} ${drop.uidl(entry)}`);
        return;
      }
      const lines = ['+OK Unique-id listing follows'];
      for (const [n, e] of drop.live()) lines.push(`${n} ${drop.uidl(e)}`);
      await sendLines(conn, lines);
    },
  },
  RETR: {
    states: TRANSACTION,
    async run(conn, c) {
      const entry = lookup(conn, c.msg);
      const bytes = entry === null ? null : await messageBytes(conn, c.msg, entry);
      if (entry === null || bytes === null) return;
      conn.reply(`+OK ${entry.size} octets`);
      await sendBody(conn, bytes);
      if (!conn.closed) await markSeen(conn, entry);
    },
  },
  TOP: {
    states: TRANSACTION,
    async run(conn, c) {
      const entry = lookup(conn, c.msg);
      const bytes = entry === null ? null : await messageBytes(conn, c.msg, entry);
      if (bytes === null) return;
      conn.reply('+OK Top of message follows');
      await sendBody(conn, topOf(bytes, c.lines));
    },
  },
  DELE: {
    states: TRANSACTION,
    async run(conn, c) {
      const entry = lookup(conn, c.msg);
      if (entry === null) return;
      maildropOf(conn).delete(entry);
      conn.reply(`+OK Message ${c.msg} deleted`);
    },
  },
  RSET: {
    states: TRANSACTION,
    async run(conn) {
      const drop = maildropOf(conn);
      drop.reset();
      const { count, octets } = drop.stat();
      conn.reply(`+OK Maildrop has ${count} messages (${octets} octets)`);
    },
  },
};

const LISTING_CHUNK_LINES = 1000;

/** A multi-line listing (LIST, UIDL), written in chunks with back-pressure. */
async function sendLines(conn: Pop3Connection, lines: readonly string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += LISTING_CHUNK_LINES) {
    if (!conn.write(`${lines.slice(i, i + LISTING_CHUNK_LINES).join('\r\n')}\r\n`)) await conn.drain();
    if (conn.closed) return;
  }
  conn.write('.\r\n');
}
