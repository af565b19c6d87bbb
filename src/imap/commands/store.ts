// STORE and UID STORE (RFC 9051 §6.4.6), with CONDSTORE UNCHANGEDSINCE and the
// MODIFIED response code (RFC 7162 §3.1.3).
//
// Invariants: a read-only (EXAMINEd) mailbox refuses STORE and changes nothing;
// the session's view takes the new flags and modseq at once, so the change is not
// reported back to this session a second time; once CONDSTORE is on, every FETCH
// response carries UID and MODSEQ (RFC 7162 §3.1), .SILENT or not.

import { applyFlags } from '../../store/flags.ts';
import { selectedOf } from '../account.ts';
import { ImapNo } from '../errors.ts';
import { define, ok } from '../handler.ts';
import { compactSet } from '../selected.ts';
import { SELECTED } from '../session.ts';
import { flagsWire } from '../wire.ts';

export const STORE_HANDLERS = [
  ...define(['STORE', 'UID STORE'], {
    states: SELECTED,
    async run(conn, c) {
      const view = selectedOf(conn);
      if (view.readOnly) throw new ImapNo('READ-ONLY', 'Mailbox is read-only');
      const byUid = c.name === 'UID STORE';
      const uids = view.resolve(c.set, byUid);
      if (c.unchangedSince !== undefined) conn.condstore = true;
      const since = c.unchangedSince === undefined ? undefined : Number(c.unchangedSince);
      const { mode, flags, silent } = c.action;
      const r = await conn.server.store.storeFlags(view.id, uids, flags, mode, since);
      const changed = new Set(r.changed);
      const conflicts = new Set(r.conflicts);
      for (const uid of uids) {
        const e = view.entries.get(uid);
        if (e === undefined || conflicts.has(uid)) continue;
        if (changed.has(uid)) view.applyFlags(uid, applyFlags(e.flags, flags, mode), r.modseq);
        const seq = view.seqOf(uid);
        // RFC 7162 §3.1: once CONDSTORE is on, every FETCH a STORE causes carries UID and MODSEQ.
        const uidItem = byUid || conn.condstore ? `UID ${uid} ` : '';
        const modseq = conn.condstore ? ` MODSEQ (${e.modseq})` : '';
        if (!silent) conn.untagged(`${seq} FETCH (${uidItem}FLAGS ${flagsWire(e.flags)}${modseq})`);
        else if (conn.condstore && changed.has(uid))
          conn.untagged(`${seq} FETCH (${uidItem}MODSEQ (${e.modseq}))`);
      }
      if (conflicts.size > 0) {
        const list = [...conflicts].sort((a, b) => a - b);
        const ids = byUid ? list : list.map((u) => view.seqOf(u)).sort((a, b) => a - b);
        return ok('Conditional STORE failed for some messages', `MODIFIED ${compactSet(ids)}`);
      }
      return ok(`${c.name} completed`);
    },
  }),
];
