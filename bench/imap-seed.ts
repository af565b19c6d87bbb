// Preparing the IMAP benchmark's mailbox: INBOX brought to exactly N messages (APPENDed
// over a few sessions in parallel, or the surplus expunged), then its flags reset — every
// fifth message (by sequence number) unseen, the others \Seen, nothing else — so that each
// run starts from the same state whatever the previous run's STOREs did.
// Invariant: on success INBOX holds exactly N messages and `uids` lists them all.

import { performance } from 'node:perf_hooks';
import { ImapClient, type ImapConnectOptions, ImapError } from './imap-client.ts';
import { benchMessage } from './imap-messages.ts';

export interface SeedOptions {
  readonly connect: ImapConnectOptions;
  readonly user: string;
  readonly pass: string;
  readonly messages: number;
  /** Sessions that APPEND in parallel. */
  readonly connections: number;
  readonly log: (line: string) => void;
  /** Only count the messages (no APPEND, no trimming, no flag reset). */
  readonly checkOnly?: boolean;
}

export interface SeedResult {
  /** Messages in INBOX now. */
  readonly count: number;
  /** Their UIDs (empty with checkOnly). */
  readonly uids: readonly number[];
  /** Messages APPENDed to reach the count. */
  readonly appended: number;
  readonly seconds: number;
}

async function session(o: SeedOptions, select = true): Promise<ImapClient> {
  const c = await ImapClient.connect(o.connect);
  await c.login(o.user, o.pass);
  if (select) await c.ok('SELECT INBOX');
  return c;
}

/**
 * APPENDs messages `from`..`to`-1 of the seed set over o.connections sessions, with no
 * mailbox selected (as a bulk import would: no session has to follow the others' APPENDs).
 */
async function appendRange(o: SeedOptions, from: number, to: number): Promise<void> {
  let next = from;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(o.connections, to - from) }, async () => {
      const c = await session(o, false);
      while (next < to) {
        const i = next++;
        await c.ok('APPEND INBOX ', benchMessage(i, 'seed'));
        if (++done % 1000 === 0) {
          const rate = done / ((performance.now() - started) / 1000);
          o.log(`seed: ${done} of ${to - from} appended (${rate.toFixed(0)}/s)`);
        }
      }
      await c.logout();
    }),
  );
}

/** Sequence sets of the messages that start unseen (every fifth), in short commands. */
function unseenSets(messages: number): string[] {
  const sets: string[] = [];
  let current: number[] = [];
  for (let n = 5; n <= messages; n += 5) {
    current.push(n);
    if (current.length === 400) {
      sets.push(current.join(','));
      current = [];
    }
  }
  if (current.length > 0) sets.push(current.join(','));
  return sets;
}

export async function seedMailbox(o: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const c = await session(o);
  try {
    const have = c.exists;
    if (o.checkOnly === true) return { count: have, uids: [], appended: 0, seconds: 0 };
    let appended = 0;
    if (have > o.messages) {
      o.log(`seed: INBOX holds ${have} messages; expunging ${have - o.messages}`);
      await c.ok(`STORE ${o.messages + 1}:* +FLAGS.SILENT (\\Deleted)`);
      await c.ok('EXPUNGE');
    } else if (have < o.messages) {
      o.log(`seed: INBOX holds ${have} messages; appending ${o.messages - have}`);
      await appendRange(o, have, o.messages);
      appended = o.messages - have;
    } else {
      o.log(`seed: INBOX already holds ${have} messages`);
    }
    await c.ok('NOOP'); // brings the EXISTS of other sessions' APPENDs
    if (c.exists !== o.messages) throw new ImapError(`seed: INBOX holds ${c.exists}, not ${o.messages}`);
    await c.ok('STORE 1:* FLAGS.SILENT (\\Seen)');
    for (const set of unseenSets(o.messages)) await c.ok(`STORE ${set} -FLAGS.SILENT (\\Seen)`);
    const uids = (await c.ok('UID SEARCH ALL')).search ?? [];
    if (uids.length !== o.messages) throw new ImapError(`seed: UID SEARCH ALL gave ${uids.length} UIDs`);
    const seconds = (performance.now() - started) / 1000;
    o.log(`seed: ready in ${seconds.toFixed(1)} s (${appended} appended; flags reset)`);
    return { count: o.messages, uids, appended, seconds };
  } finally {
    await c.logout().catch(() => {});
  }
}
