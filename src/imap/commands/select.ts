// SELECT / EXAMINE (RFC 9051 §6.3.2-3, CONDSTORE/QRESYNC RFC 7162 §3.1.8 and
// §3.2.5), CLOSE (§6.4.1), UNSELECT (RFC 3691).
//
// Invariants: a failed SELECT leaves the session authenticated with no mailbox
// selected (RFC 9051 §6.3.2); CLOSE expunges silently and only when read-write.

import { accountOf } from '../account.ts';
import type { ImapConnection } from '../connection.ts';
import { ImapCommandBad, ImapNo } from '../errors.ts';
import { define, ok } from '../handler.ts';
import { canonicalName } from '../mailbox-names.ts';
import type { QresyncParams } from '../protocol/index.ts';
import { inSequenceSet } from '../protocol/index.ts';
import { compactSet, SelectedMailbox } from '../selected.ts';
import { AUTHENTICATED, SELECTED } from '../session.ts';

const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

async function qresyncResponses(
  conn: ImapConnection,
  view: SelectedMailbox,
  q: QresyncParams,
): Promise<void> {
  if (q.uidValidity !== view.uidValidity) return; // RFC 7162 §3.2.5.1: a full resync is needed
  const since = Number(q.modSeq);
  const store = conn.server.store;
  const known = q.knownUids?.kind === 'ranges' ? q.knownUids.ranges : undefined;
  const maxUid = view.uids.length > 0 ? view.uids[view.uids.length - 1]! : 0;
  const vanished = (await store.expungedSince(view.id, since)).filter(
    (u) => known === undefined || inSequenceSet(known, u, Math.max(maxUid, u)),
  );
  if (vanished.length > 0) conn.untagged(`VANISHED (EARLIER) ${compactSet(vanished)}`);
  for (const uid of view.uids) {
    const e = view.entries.get(uid)!;
    if (e.modseq <= since) continue;
    conn.untagged(`${view.seqOf(uid)} FETCH (UID ${uid} FLAGS (${e.flags.join(' ')}) MODSEQ (${e.modseq}))`);
  }
}

export const SELECT_HANDLERS = [
  ...define(['SELECT', 'EXAMINE'], {
    states: AUTHENTICATED,
    sync: 'none',
    async run(conn, c) {
      const account = accountOf(conn);
      const wasSelected = conn.state.kind === 'selected';
      conn.state = { kind: 'authenticated', account };
      if (wasSelected) conn.untagged('OK [CLOSED] Previous mailbox closed');
      if (c.qresync !== undefined && !conn.enabled.has('QRESYNC')) {
        throw new ImapCommandBad('QRESYNC must be enabled first (ENABLE QRESYNC)');
      }
      if (c.condstore || c.qresync !== undefined) conn.condstore = true;
      const store = conn.server.store;
      const box = await store.getMailbox(account.id, canonicalName(c.mailbox));
      if (box === null) throw new ImapNo('NONEXISTENT', 'No such mailbox');
      const cache = await conn.server.mailboxCaches.acquire(store, box);
      const readOnly = c.name === 'EXAMINE';
      const view = new SelectedMailbox(box, [], readOnly, cache);
      const keywords = new Set<string>();
      for (const e of cache.live.values()) for (const f of e.flags) if (!f.startsWith('\\')) keywords.add(f);
      const flags = [...SYSTEM_FLAGS, ...[...keywords].sort()].join(' ');
      conn.untagged(`${view.exists} EXISTS`);
      if (!conn.enabled.has('IMAP4REV2')) {
        conn.untagged('0 RECENT');
        const firstUnseen = view.uids.findIndex((u) => !view.entries.get(u)!.flags.includes('\\Seen'));
        if (firstUnseen >= 0) conn.untagged(`OK [UNSEEN ${firstUnseen + 1}] First unseen`);
      }
      conn.untagged(`OK [UIDVALIDITY ${view.uidValidity}] UIDs valid`);
      conn.untagged(`OK [UIDNEXT ${view.uidNext}] Predicted next UID`);
      conn.untagged(`FLAGS (${flags})`);
      conn.untagged(
        readOnly
          ? 'OK [PERMANENTFLAGS ()] Read-only mailbox'
          : `OK [PERMANENTFLAGS (${flags} \\*)] Flags permitted`,
      );
      conn.untagged(`OK [HIGHESTMODSEQ ${view.modseq}] Highest`);
      conn.untagged(`OK [MAILBOXID (${box.id})] Ok`);
      try {
        if (c.qresync !== undefined) await qresyncResponses(conn, view, c.qresync);
      } catch (e) {
        view.release(conn.server.mailboxCaches);
        throw e;
      }
      conn.state = { kind: 'selected', account, mailbox: view };
      return ok(`${c.name} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
    },
  }),
  ...define('CLOSE', {
    states: SELECTED,
    sync: 'none',
    async run(conn) {
      const s = conn.state;
      if (s.kind !== 'selected') throw new ImapNo(undefined, 'No mailbox selected');
      if (!s.mailbox.readOnly) {
        const deleted = s.mailbox.uids.filter((u) => s.mailbox.entries.get(u)!.flags.includes('\\Deleted'));
        if (deleted.length > 0) await conn.server.store.expunge(s.mailbox.id, deleted);
      }
      conn.state = { kind: 'authenticated', account: s.account };
      return ok('CLOSE completed');
    },
  }),
  ...define('UNSELECT', {
    states: SELECTED,
    sync: 'none',
    async run(conn) {
      conn.state = { kind: 'authenticated', account: accountOf(conn) };
      return ok('UNSELECT completed');
    },
  }),
];
