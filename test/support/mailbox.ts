// Read what an account's mailbox holds, through the same read path IMAP will use.

import { AccountKeys } from '../../src/mail/account-keys.ts';
import { readRaw, readSummary } from '../../src/mail/read.ts';
import type { MessageSummary } from '../../src/mime/summary.ts';
import type { StoredMessage } from '../../src/store/types.ts';
import { type Installation, openStore } from './server.ts';

export interface ReadMessage {
  readonly stored: StoredMessage;
  readonly raw: string;
  readonly summary: MessageSummary;
}

export async function readMailbox(
  inst: Installation,
  address: string,
  mailbox = 'INBOX',
): Promise<ReadMessage[]> {
  const rt = await openStore(inst);
  try {
    const account = await rt.store.getAccountByAddress(address);
    if (account === null) throw new Error(`no account ${address}`);
    const mbx = await rt.store.getMailbox(account.id, mailbox);
    if (mbx === null) throw new Error(`no mailbox ${mailbox}`);
    const deps = { store: rt.store, accountKeys: new AccountKeys(rt.store, rt.keys, async () => rt.keys) };
    const out: ReadMessage[] = [];
    for (const stored of await rt.store.listMessages(mbx.id)) {
      out.push({
        stored,
        raw: (await readRaw(deps, stored)).toString('utf8'),
        summary: await readSummary(deps, stored),
      });
    }
    return out;
  } finally {
    await rt.close();
  }
}

export async function countAll(inst: Installation, address: string): Promise<number> {
  const rt = await openStore(inst);
  try {
    const account = await rt.store.getAccountByAddress(address);
    if (account === null) throw new Error(`no account ${address}`);
    let n = 0;
    for (const m of await rt.store.listMailboxes(account.id)) n += m.messageCount;
    return n;
  } finally {
    await rt.close();
  }
}
