// FETCH and UID FETCH (RFC 9051 §6.4.5, §7.5.2), CONDSTORE CHANGEDSINCE and
// QRESYNC VANISHED (RFC 7162 §3.1.4, §3.2.6), BINARY (RFC 3516), OBJECTID
// (RFC 8474). Bodies are sliced from the raw message with the structure sealed
// at delivery, never re-parsed per FETCH.
//
// Invariants:
// - A non-PEEK body fetch sets \Seen (unless the mailbox is read-only), and the
//   FLAGS of such a message are included in its response (RFC 9051 §6.4.5).
// - Output is written with back-pressure, one batch at a time: FETCH 1:* BODY[]
//   on a large mailbox never holds the mailbox in memory.

import { selectedOf } from '../account.ts';
import type { ImapConnection } from '../connection.ts';
import { ImapCommandBad, ImapNo } from '../errors.ts';
import { define, ok } from '../handler.ts';
import { type LoadedMessage, loadBatches } from '../message-data.ts';
import type { FetchAttribute } from '../protocol/fetch-types.ts';
import { response, type Section } from '../protocol/index.ts';
import { renderBodyStructure } from '../render/bodystructure.ts';
import { renderEnvelope } from '../render/envelope.ts';
import { applyPartial, extractBinary, extractSection } from '../render/section.ts';
import { compactSet, type ViewEntry } from '../selected.ts';
import { SELECTED } from '../session.ts';
import { flagsWire } from '../wire.ts';

/** RFC 9051 date-time, in UTC: "17-Jul-1996 02:44:25 +0000". */
export const internalDate = (ms: number): string => response.formatDateTime(ms);

function sectionName(s: Section): string {
  const parts = s.part.join('.');
  if (s.text === undefined) return parts;
  const dot = parts === '' ? '' : `${parts}.`;
  switch (s.text.kind) {
    case 'header':
      return `${dot}HEADER`;
    case 'text':
      return `${dot}TEXT`;
    case 'mime':
      return `${dot}MIME`;
    case 'header.fields':
      return `${dot}HEADER.FIELDS${s.text.not ? '.NOT' : ''} (${s.text.fields.map((f) => f.toUpperCase()).join(' ')})`;
  }
}

const needsRaw = (a: FetchAttribute) =>
  a.kind === 'BODY[]' ||
  a.kind === 'BINARY[]' ||
  a.kind === 'BINARY.SIZE[]' ||
  a.kind === 'RFC822' ||
  a.kind === 'RFC822.HEADER' ||
  a.kind === 'RFC822.TEXT';
const needsMeta = (a: FetchAttribute) =>
  a.kind === 'ENVELOPE' || a.kind === 'BODYSTRUCTURE' || a.kind === 'BODY';
const setsSeen = (a: FetchAttribute) =>
  ((a.kind === 'BODY[]' || a.kind === 'BINARY[]') && !a.peek) ||
  a.kind === 'RFC822' ||
  a.kind === 'RFC822.TEXT';

type Piece = string | Buffer;

/**
 * `name {n}` and the octets. A BINARY item with NUL goes as literal8 (RFC 3516 §4.3);
 * any other literal cannot carry NUL (RFC 9051 §9: CHAR8 is %x01-ff), so a NUL is
 * sent as 0x80, as Dovecot does, keeping every size and offset unchanged.
 */
function literal(name: string, data: Buffer, binary = false): Piece[] {
  const nul = data.includes(0);
  if (binary || !nul) return [`${name} ${nul ? '~' : ''}{${data.length}}\r\n`, data];
  const out = Buffer.from(data);
  for (let i = out.indexOf(0); i >= 0; i = out.indexOf(0, i + 1)) out[i] = 0x80;
  return [`${name} {${out.length}}\r\n`, out];
}

async function item(a: FetchAttribute, e: ViewEntry, m: LoadedMessage | undefined): Promise<Piece[]> {
  switch (a.kind) {
    case 'UID':
      return [`UID ${e.uid}`];
    case 'FLAGS':
      return [`FLAGS ${flagsWire(e.flags)}`];
    case 'INTERNALDATE':
      return [`INTERNALDATE ${internalDate(e.internalDate)}`];
    case 'RFC822.SIZE':
      return [`RFC822.SIZE ${e.size}`];
    case 'MODSEQ':
      return [`MODSEQ (${e.modseq})`];
    case 'EMAILID':
      return [`EMAILID (${e.messageId})`];
    case 'THREADID':
      return [`THREADID (${e.threadId})`];
  }
  if (m === undefined) throw new Error('message not loaded');
  switch (a.kind) {
    case 'ENVELOPE':
      return [`ENVELOPE ${renderEnvelope((await m.structure()).envelope)}`];
    case 'BODYSTRUCTURE':
      return [`BODYSTRUCTURE ${renderBodyStructure((await m.structure()).body, true)}`];
    case 'BODY':
      return [`BODY ${renderBodyStructure((await m.structure()).body, false)}`];
    case 'RFC822':
      return literal('RFC822', await m.raw());
    case 'RFC822.HEADER':
    case 'RFC822.TEXT': {
      const text = a.kind === 'RFC822.TEXT' ? 'text' : 'header';
      const data = extractSection(await m.raw(), await m.structure(), { part: [], text: { kind: text } });
      return literal(a.kind, data ?? Buffer.alloc(0));
    }
    case 'BODY[]': {
      const data = extractSection(await m.raw(), await m.structure(), a.section) ?? Buffer.alloc(0);
      const origin = a.partial ? `<${a.partial.offset}>` : '';
      return literal(
        `BODY[${sectionName(a.section)}]${origin}`,
        a.partial ? applyPartial(data, a.partial) : data,
      );
    }
    case 'BINARY[]':
    case 'BINARY.SIZE[]': {
      const data = extractBinary(await m.raw(), await m.structure(), a.part);
      if (data === 'unknown-cte') throw new ImapNo('UNKNOWN-CTE', 'Cannot decode this part');
      const part = a.part.join('.');
      if (a.kind === 'BINARY.SIZE[]') return [`BINARY.SIZE[${part}] ${data.length}`];
      const origin = a.partial ? `<${a.partial.offset}>` : '';
      return literal(`BINARY[${part}]${origin}`, a.partial ? applyPartial(data, a.partial) : data, true);
    }
  }
}

async function markSeen(conn: ImapConnection, uids: readonly number[]): Promise<Set<number>> {
  const view = selectedOf(conn);
  const unseen = uids.filter((u) => !view.entries.get(u)!.flags.includes('\\Seen'));
  if (unseen.length === 0) return new Set();
  const r = await conn.server.store.storeFlags(view.id, unseen, ['\\Seen'], 'add');
  for (const u of r.changed) {
    const e = view.entries.get(u)!;
    view.applyFlags(u, [...e.flags, '\\Seen'], r.modseq);
  }
  return new Set(r.changed);
}

/**
 * The items of a response whose message this FETCH just marked \Seen: FLAGS (RFC 9051
 * §6.4.5), and with CONDSTORE on also UID and MODSEQ (RFC 7162 §3.1).
 */
function withSeenItems(attrs: readonly FetchAttribute[], condstore: boolean): readonly FetchAttribute[] {
  const wanted: ('UID' | 'FLAGS' | 'MODSEQ')[] = condstore ? ['UID', 'FLAGS', 'MODSEQ'] : ['FLAGS'];
  const extra: FetchAttribute[] = wanted
    .filter((k) => !attrs.some((a) => a.kind === k))
    .map((kind) => ({ kind }));
  return extra.length === 0 ? attrs : [...attrs, ...extra];
}

export const FETCH_HANDLERS = [
  ...define(['FETCH', 'UID FETCH'], {
    states: SELECTED,
    async run(conn, c) {
      const view = selectedOf(conn);
      const byUid = c.name === 'UID FETCH';
      let attrs = [...c.attributes];
      if (byUid && !attrs.some((a) => a.kind === 'UID')) attrs.unshift({ kind: 'UID' });
      let uids = view.resolve(c.set, byUid);
      const since = c.modifiers.changedSince;
      if (since !== undefined || attrs.some((a) => a.kind === 'MODSEQ')) conn.condstore = true;
      if (since !== undefined) {
        if (!attrs.some((a) => a.kind === 'MODSEQ')) attrs = [...attrs, { kind: 'MODSEQ' }];
        if (c.modifiers.vanished) {
          if (!conn.enabled.has('QRESYNC')) throw new ImapCommandBad('VANISHED needs ENABLE QRESYNC');
          const set = c.set.kind === 'ranges' ? c.set.ranges : [];
          const gone = (await conn.server.store.expungedSince(view.id, Number(since))).filter((u) =>
            set.some((r) => {
              const a = r.from === '*' ? u : r.from;
              const b = r.to === '*' ? u : r.to;
              return u >= Math.min(a, b) && u <= Math.max(a, b);
            }),
          );
          if (gone.length > 0) conn.untagged(`VANISHED (EARLIER) ${compactSet(gone)}`);
        }
        uids = uids.filter((u) => view.entries.get(u)!.modseq > since);
      }
      const seen = !view.readOnly && attrs.some(setsSeen) ? await markSeen(conn, uids) : new Set<number>();
      const load = attrs.some(needsRaw) || attrs.some(needsMeta);
      // Metadata alone may come from the cache; a body needs the stored rows anyway.
      const entries = attrs.some(needsRaw) ? undefined : view.entries;
      const batches = load ? loadBatches(conn.server, view.id, uids, entries) : undefined;
      let i = 0;
      while (i < uids.length) {
        const loaded = batches ? (await batches.next()).value : undefined;
        const end = Math.min(uids.length, i + 100);
        for (; i < end; i++) {
          const uid = uids[i]!;
          const e = view.entries.get(uid)!;
          const m = loaded?.get(uid);
          if (load && m === undefined) continue; // expunged meanwhile
          const pieces: Piece[] = [];
          const list = seen.has(uid) ? withSeenItems(attrs, conn.condstore) : attrs;
          for (const a of list) {
            if (pieces.length > 0) pieces.push(' ');
            pieces.push(...(await item(a, e, m)));
          }
          conn.write(`* ${view.seqOf(uid)} FETCH (`);
          for (const p of pieces) conn.write(p);
          conn.write(')\r\n');
        }
        await conn.drain();
      }
      return ok(`${c.name} completed`);
    },
  }),
];
