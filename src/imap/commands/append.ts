// APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), UIDPLUS APPENDUID
// (RFC 4315 §3), APPENDLIMIT (RFC 7889, enforced by the framing before the literal
// is read) and BINARY literal8 (RFC 3516 §4.4).
//
// Invariants:
// - The tagged OK is sent only once every message is durable (mail/deliver.ts).
// - All messages of one APPEND are stored in one transaction, or none is.
// - \Recent cannot be set by a client; a message over the quota stores nothing.

import { prepareMessages } from '../../mail/deliver.ts';
import { accountOf, mailboxNamed } from '../account.ts';
import { ImapNo } from '../errors.ts';
import { define, ok } from '../handler.ts';
import { canonicalName } from '../mailbox-names.ts';
import { AUTHENTICATED } from '../session.ts';

export const APPEND_HANDLERS = [
  ...define('APPEND', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const box = await mailboxNamed(conn, canonicalName(c.mailbox), true);
      const store = conn.server.store;
      const account = await store.getAccount(accountOf(conn).id);
      if (account === null) throw new ImapNo(undefined, 'Account no longer exists');
      const total = c.messages.reduce((n, m) => n + m.message.data.length, 0);
      if (account.quotaBytes > 0 && account.usedBytes + total > account.quotaBytes) {
        throw new ImapNo('OVERQUOTA', 'Quota exceeded');
      }
      const inputs = [];
      for (const m of c.messages) {
        if (m.message.data.length === 0) throw new ImapNo(undefined, 'Empty message');
        if (m.flags.some((f) => f.toLowerCase() === '\\recent'))
          throw new ImapNo(undefined, '\\Recent cannot be set');
        const content = await conn.server.analyse(m.message.data);
        inputs.push({
          raw: m.message.data,
          content,
          targets: [{ account, mailbox: box }],
          internalDate: m.date?.time ?? Date.now(),
          flags: m.flags,
        });
      }
      const rows = (await Promise.all(inputs.map((i) => prepareMessages(conn.server, i)))).flat();
      const appended = await store.appendMessages(rows);
      const uids = appended.map((a) => a.uid).join(',');
      return ok('APPEND completed', `APPENDUID ${box.uidValidity} ${uids}`);
    },
  }),
];
