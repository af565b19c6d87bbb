// Mailbox management: CREATE (RFC 9051 §6.3.4, CREATE-SPECIAL-USE RFC 6154 §3),
// DELETE (§6.3.5), RENAME (§6.3.6, INBOX special case), SUBSCRIBE/UNSUBSCRIBE
// (§6.3.7-8), NAMESPACE (§6.3.10), STATUS (§6.3.11, STATUS=SIZE RFC 8438,
// CONDSTORE HIGHESTMODSEQ, APPENDLIMIT RFC 7889, MAILBOXID RFC 8474) and the
// QUOTA commands (RFC 9208).
//
// Invariants: a refused command changes nothing; INBOX can be neither created,
// deleted nor renamed away (renaming INBOX moves its messages, §6.3.6).

import { newId, newUidValidity } from '../../core/ids.ts';
import type { Mailbox, SpecialUse } from '../../store/types.ts';
import { accountOf, mailboxNamed } from '../account.ts';
import type { ImapConnection } from '../connection.ts';
import { ImapNo } from '../errors.ts';
import { define, ok } from '../handler.ts';
import { ancestors, canonicalName, checkNewName } from '../mailbox-names.ts';
import { AUTHENTICATED } from '../session.ts';
import { imapString, mailboxWire } from '../wire.ts';

const SPECIAL_USES = new Set(['\\Sent', '\\Drafts', '\\Trash', '\\Junk', '\\Archive']);

async function createMailbox(
  conn: ImapConnection,
  name: string,
  specialUse: SpecialUse | null,
): Promise<Mailbox> {
  const account = accountOf(conn);
  return conn.server.store.createMailbox({
    id: newId('mbx'),
    accountId: account.id,
    name,
    specialUse,
    uidValidity: newUidValidity(),
    subscribed: true,
  });
}

/** Create the missing ancestors of `name` (RFC 9051 §6.3.4: the server creates superior names). */
async function createAncestors(conn: ImapConnection, name: string): Promise<void> {
  const store = conn.server.store;
  for (const a of ancestors(name)) {
    if ((await store.getMailbox(accountOf(conn).id, a)) === null) await createMailbox(conn, a, null);
  }
}

function specialUseOf(use: string | undefined): SpecialUse | null {
  if (use === undefined) return null;
  const u = `\\${use
    .replace(/^\\/, '')
    .toLowerCase()
    .replace(/^./, (c) => c.toUpperCase())}`;
  if (!SPECIAL_USES.has(u))
    throw new ImapNo('USEATTR', `Unsupported special-use attribute ${use.slice(0, 20)}`);
  return u as SpecialUse;
}

export async function statusItems(
  conn: ImapConnection,
  box: Mailbox,
  items: readonly string[],
): Promise<string> {
  const out: string[] = [];
  let deleted: number | undefined;
  for (const item of items) {
    switch (item) {
      case 'MESSAGES':
        out.push(`MESSAGES ${box.messageCount}`);
        break;
      case 'RECENT':
        out.push('RECENT 0');
        break;
      case 'UIDNEXT':
        out.push(`UIDNEXT ${box.uidNext}`);
        break;
      case 'UIDVALIDITY':
        out.push(`UIDVALIDITY ${box.uidValidity}`);
        break;
      case 'UNSEEN':
        out.push(`UNSEEN ${box.unseenCount}`);
        break;
      case 'DELETED':
        deleted ??= (await conn.server.store.listEntries(box.id)).filter((e) =>
          e.flags.includes('\\Deleted'),
        ).length;
        out.push(`DELETED ${deleted}`);
        break;
      case 'SIZE':
        out.push(`SIZE ${box.totalBytes}`);
        break;
      case 'HIGHESTMODSEQ':
        conn.condstore = true;
        out.push(`HIGHESTMODSEQ ${box.highestModseq}`);
        break;
      case 'APPENDLIMIT':
        out.push(`APPENDLIMIT ${conn.server.limits.maxLiteralAfterAuth}`);
        break;
      case 'MAILBOXID':
        out.push(`MAILBOXID (${box.id})`);
        break;
    }
  }
  return `STATUS ${mailboxWire(conn, box.name)} (${out.join(' ')})`;
}

export const MAILBOX_HANDLERS = [
  ...define('CREATE', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const name = checkNewName(c.mailbox);
      if (name.toUpperCase() === 'INBOX') throw new ImapNo('ALREADYEXISTS', 'INBOX always exists');
      const store = conn.server.store;
      if ((await store.getMailbox(accountOf(conn).id, name)) !== null) {
        throw new ImapNo('ALREADYEXISTS', 'Mailbox already exists');
      }
      const use = specialUseOf('specialUse' in c ? (c.specialUse as string | undefined) : undefined);
      if (use !== null && (await store.findMailboxBySpecialUse(accountOf(conn).id, use)) !== null) {
        throw new ImapNo('USEATTR', `Another mailbox already has ${use}`);
      }
      await createAncestors(conn, name);
      await createMailbox(conn, name, use);
      return ok('CREATE completed');
    },
  }),
  ...define('DELETE', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const name = canonicalName(c.mailbox);
      if (name === 'INBOX') throw new ImapNo('CANNOT', 'INBOX cannot be deleted');
      const box = await mailboxNamed(conn, name);
      const all = await conn.server.store.listMailboxes(accountOf(conn).id);
      if (all.some((m) => m.name.startsWith(`${name}/`))) {
        // RFC 9051 §6.3.5: a server that refuses "SHOULD include the HASCHILDREN response code".
        throw new ImapNo('HASCHILDREN', 'Mailbox has children; delete them first');
      }
      await conn.server.store.deleteMailbox(box.id);
      if (conn.state.kind === 'selected' && conn.state.mailbox.id === box.id) {
        conn.state = { kind: 'authenticated', account: conn.state.account };
      }
      return ok('DELETE completed');
    },
  }),
  ...define('RENAME', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const store = conn.server.store;
      const from = await mailboxNamed(conn, canonicalName(c.from));
      const to = checkNewName(c.to);
      if (to === 'INBOX' || (await store.getMailbox(accountOf(conn).id, to)) !== null) {
        throw new ImapNo('ALREADYEXISTS', 'Target mailbox already exists');
      }
      if (to.startsWith(`${from.name}/`)) throw new ImapNo('CANNOT', 'Cannot rename a mailbox into itself');
      await createAncestors(conn, to);
      if (from.name === 'INBOX') {
        // RFC 9051 §6.3.6: renaming INBOX moves its messages; INBOX stays, empty.
        const target = await createMailbox(conn, to, null);
        const uids = (await store.listEntries(from.id)).map((e) => e.uid);
        if (uids.length > 0) await store.moveMessages(from.id, uids, target.id);
      } else {
        await store.renameMailbox(from.id, to);
      }
      return ok('RENAME completed');
    },
  }),
  ...define(['SUBSCRIBE', 'UNSUBSCRIBE'], {
    states: AUTHENTICATED,
    async run(conn, c) {
      const box = await mailboxNamed(conn, canonicalName(c.mailbox));
      await conn.server.store.setSubscribed(box.id, c.name === 'SUBSCRIBE');
      return ok(`${c.name} completed`);
    },
  }),
  ...define('NAMESPACE', {
    states: AUTHENTICATED,
    async run(conn) {
      conn.untagged('NAMESPACE (("" "/")) NIL NIL');
      return ok('NAMESPACE completed');
    },
  }),
  ...define('STATUS', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const box = await mailboxNamed(conn, canonicalName(c.mailbox));
      conn.untagged(await statusItems(conn, box, c.items));
      return ok('STATUS completed');
    },
  }),
  ...define('GETQUOTAROOT', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const box = await mailboxNamed(conn, canonicalName(c.mailbox));
      const account = await conn.server.store.getAccount(accountOf(conn).id);
      const limited = account !== null && account.quotaBytes > 0;
      conn.untagged(`QUOTAROOT ${mailboxWire(conn, box.name)}${limited ? ' ""' : ''}`);
      if (limited) conn.untagged(`QUOTA "" (STORAGE ${kib(account.usedBytes)} ${kib(account.quotaBytes)})`);
      return ok('GETQUOTAROOT completed');
    },
  }),
  ...define('GETQUOTA', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const account = await conn.server.store.getAccount(accountOf(conn).id);
      if (c.root !== '' || account === null || account.quotaBytes === 0) {
        throw new ImapNo('NONEXISTENT', 'No such quota root');
      }
      conn.untagged(`QUOTA ${imapString('')} (STORAGE ${kib(account.usedBytes)} ${kib(account.quotaBytes)})`);
      return ok('GETQUOTA completed');
    },
  }),
  ...define('SETQUOTA', {
    states: AUTHENTICATED,
    async run() {
      throw new ImapNo('NOPERM', 'Quotas are set by the administrator');
    },
  }),
];

/** RFC 9208 §5: STORAGE is in units of 1024 octets. */
function kib(bytes: number): number {
  return Math.ceil(bytes / 1024);
}
