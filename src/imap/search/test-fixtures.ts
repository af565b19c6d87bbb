// Test fixtures for the search modules: a selected mailbox built by hand from raw
// messages, with the real MIME parsing, summary and tokenizer behind it. The blind
// index is the same token sets the delivery path hashes, kept here as plain
// strings (hashing is deliver.ts's concern and has its own tests).

import { parseStructure } from '../../mime/structure.ts';
import { summarise } from '../../mime/summary.ts';
import { extractText, tokenize } from '../../mime/text.ts';
import type { Command } from '../protocol/index.ts';
import { parsed } from '../protocol/test-helpers.ts';
import { SelectedMailbox } from '../selected.ts';
import type { SearchEnv } from './evaluate.ts';
import type { MessageSource } from './message-text.ts';

export interface FixtureMessage {
  readonly uid: number;
  readonly raw: string;
  readonly flags?: readonly string[];
  readonly internalDate?: string;
  readonly modseq?: number;
  readonly threadId?: string;
}

export interface Fixture {
  readonly view: SelectedMailbox;
  readonly env: SearchEnv;
  /** UIDs loaded (decrypted, in production) so far. */
  readonly loaded: number[];
  /** Token lists the index was asked about. */
  readonly indexQueries: string[][];
}

export const crlf = (lines: readonly string[]): string => `${lines.join('\r\n')}\r\n`;

export function fixture(
  messages: readonly FixtureMessage[],
  now = Date.parse('2025-08-01T00:00:00Z'),
): Fixture {
  const byUid = new Map(messages.map((m) => [m.uid, Buffer.from(m.raw, 'utf8')]));
  const entries = messages.map((m) => ({
    uid: m.uid,
    modseq: m.modseq ?? m.uid,
    flags: [...(m.flags ?? [])].sort(),
    size: Buffer.byteLength(m.raw),
    internalDate: Date.parse(m.internalDate ?? '2025-07-15T12:00:00Z'),
    messageId: `msg${m.uid}`,
    threadId: m.threadId ?? `thr${m.uid}`,
  }));
  const view = new SelectedMailbox(
    {
      id: 'mbx1',
      accountId: 'acc1',
      name: 'INBOX',
      specialUse: null,
      uidValidity: 1,
      uidNext: Math.max(0, ...messages.map((m) => m.uid)) + 1,
      highestModseq: Math.max(0, ...entries.map((e) => e.modseq)),
      subscribed: true,
      messageCount: messages.length,
      unseenCount: 0,
      totalBytes: 0,
      createdAt: 0,
    },
    entries,
    false,
  );
  const loaded: number[] = [];
  const indexQueries: string[][] = [];
  const source = (raw: Buffer): MessageSource => ({
    meta: async () => {
      const structure = parseStructure(raw);
      return { ...summarise(raw, structure), structure };
    },
    raw: async () => raw,
    structure: async () => parseStructure(raw),
  });
  const env: SearchEnv = {
    view,
    now,
    async *load(uids) {
      for (let i = 0; i < uids.length; i += 2) {
        const batch = new Map<number, MessageSource>();
        for (const uid of uids.slice(i, i + 2)) {
          const raw = byUid.get(uid);
          if (raw === undefined) continue;
          loaded.push(uid);
          batch.set(uid, source(raw));
        }
        yield batch;
      }
    },
    async indexed(tokens) {
      indexQueries.push([...tokens]);
      const out = new Set<string>();
      for (const [uid, raw] of byUid) {
        const have = new Set(tokenize(extractText(raw, parseStructure(raw))));
        if (tokens.every((t) => have.has(t))) out.add(`msg${uid}`);
      }
      return out;
    },
  };
  return { view, env, loaded, indexQueries };
}

type Named<N extends string, C = Command> = C extends { readonly name: infer M }
  ? N extends M
    ? C
    : never
  : never;

/** The parsed form of a command line (UTF8=ACCEPT), narrowed to the command named. */
export function command<N extends Command['name']>(line: string, name: N): Named<N> {
  const c = parsed(line, true);
  if (c.name !== name) throw new Error(`expected ${name}, got ${c.name}`);
  return c as Named<N>;
}
