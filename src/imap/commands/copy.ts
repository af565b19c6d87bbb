// COPY / UID COPY (RFC 9051 §6.4.7), MOVE / UID MOVE (RFC 6851), EXPUNGE
// (§6.4.3), UID EXPUNGE (RFC 4315), with UIDPLUS COPYUID (RFC 4315 §3).
//
// Invariants:
// - A copy shares the stored message (same sealed body and data key): no blob is
//   duplicated, and the body goes only when its last entry is expunged.
// - MOVE is atomic in the store; the client sees COPYUID, then the expunges of
//   the moved messages, then the tagged OK (RFC 6851 §4.3).
// - Nothing is copied over the account's quota (NO [OVERQUOTA], nothing changes).

import { accountOf, mailboxNamed, selectedOf } from '../account.ts';
import type { ImapConnection } from '../connection.ts';
import { ImapNo } from '../errors.ts';
import { define, ok } from '../handler.ts';
import { canonicalName } from '../mailbox-names.ts';
import { compactSet } from '../selected.ts';
import { SELECTED } from '../session.ts';

function reportExpunged(conn: ImapConnection, uids: readonly number[]): void {
  const view = selectedOf(conn);
  const seqs = view.removeExpunged(uids);
  if (seqs.length === 0) return;
  if (conn.enabled.has('QRESYNC')) conn.untagged(`VANISHED ${compactSet([...uids].sort((a, b) => a - b))}`);
  else for (const s of seqs) conn.untagged(`${s} EXPUNGE`);
}

async function checkQuota(conn: ImapConnection, uids: readonly number[]): Promise<void> {
  const account = await conn.server.store.getAccount(accountOf(conn).id);
  if (account === null || account.quotaBytes === 0) return;
  const view = selectedOf(conn);
  const bytes = uids.reduce((n, u) => n + (view.entries.get(u)?.size ?? 0), 0);
  if (account.usedBytes + bytes > account.quotaBytes) throw new ImapNo('OVERQUOTA', 'Quota exceeded');
}

async function expungeDeleted(conn: ImapConnection, within: readonly number[] | null): Promise<void> {
  const view = selectedOf(conn);
  if (view.readOnly) throw new ImapNo('READ-ONLY', 'Mailbox is read-only');
  // The shared picture is current: the dispatcher synced it just before this command.
  const uids = (within ?? view.uids).filter((u) => {
    const e = view.entries.get(u);
    return e !== undefined && !view.pendingExpunge.has(u) && e.flags.includes('\\Deleted');
  });
  if (uids.length === 0) return;
  await conn.server.store.expunge(view.id, uids);
  reportExpunged(conn, uids);
}

export const COPY_HANDLERS = [
  ...define(['COPY', 'UID COPY', 'MOVE', 'UID MOVE'], {
    states: SELECTED,
    async run(conn, c) {
      const view = selectedOf(conn);
      const byUid = c.name.startsWith('UID ');
      const move = c.name.endsWith('MOVE');
      if (move && view.readOnly) throw new ImapNo('READ-ONLY', 'Mailbox is read-only');
      const uids = view.resolve(c.set, byUid);
      const target = await mailboxNamed(conn, canonicalName(c.mailbox), true);
      if (uids.length === 0) return ok('No messages matched');
      if (!move) await checkQuota(conn, uids);
      const store = conn.server.store;
      const r = move
        ? await store.moveMessages(view.id, uids, target.id)
        : await store.copyMessages(view.id, uids, target.id);
      const code =
        r.pairs.length > 0
          ? `COPYUID ${r.uidValidity} ${compactSet(r.pairs.map((p) => p[0]))} ${r.pairs.map((p) => p[1]).join(',')}`
          : undefined;
      if (!move) return ok(`${c.name} completed`, code);
      if (code !== undefined) conn.untagged(`OK [${code}] Moved`);
      reportExpunged(
        conn,
        r.pairs.map((p) => p[0]),
      );
      return ok(`${c.name} completed`);
    },
  }),
  ...define('EXPUNGE', {
    states: SELECTED,
    async run(conn) {
      await expungeDeleted(conn, null);
      return ok('EXPUNGE completed');
    },
  }),
  ...define('UID EXPUNGE', {
    states: SELECTED,
    async run(conn, c) {
      const view = selectedOf(conn);
      await expungeDeleted(conn, view.resolve(c.uids, true));
      return ok('UID EXPUNGE completed');
    },
  }),
];
