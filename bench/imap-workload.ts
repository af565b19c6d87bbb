// The operations of the IMAP benchmark (bench/imap.ts) and the fixed mix a client loops over.
// One Worker holds one logged-in session with INBOX selected and runs one operation at a
// time; what it appends it later expunges (UID EXPUNGE, RFC 9051 §6.4.9 / RFC 4315), so the
// mailbox keeps the seeded count. Messages are picked among the seeded UIDs, which no
// operation removes; FETCH windows lie within the seeded count of sequence numbers.
// Invariant: an operation is counted only when every command in it ended with OK.

import { ImapClient, type ImapConnectOptions, ImapError, type ImapResult } from './imap-client.ts';
import { benchMessage, SUBJECT_WORDS } from './imap-messages.ts';

export type OpName =
  | 'select'
  | 'fetch_flags'
  | 'fetch_body'
  | 'search_unseen'
  | 'search_subject'
  | 'store'
  | 'append'
  | 'expunge';

/**
 * The mix: a cycle of 20 operations (weights in per cent: select 5, fetch_flags 20,
 * fetch_body 35, search 10, store 20, append 5, expunge 5). Each client starts at its own
 * offset so that clients are not in step.
 */
export const MIX: readonly OpName[] = [
  'select',
  'fetch_flags',
  'fetch_body',
  'store',
  'fetch_body',
  'search_unseen',
  'fetch_body',
  'fetch_flags',
  'store',
  'append',
  'fetch_body',
  'fetch_flags',
  'fetch_body',
  'store',
  'search_subject',
  'fetch_body',
  'fetch_flags',
  'store',
  'fetch_body',
  'expunge',
];

/** Messages FETCH FLAGS asks for at a time. */
export const FLAGS_WINDOW = 100;

export interface WorkerOptions {
  readonly connect: ImapConnectOptions;
  readonly user: string;
  readonly pass: string;
  /** The seeded message count (sequence numbers 1..messages always exist). */
  readonly messages: number;
  /** UIDs of the seeded messages. */
  readonly uids: readonly number[];
  /** This worker's number; also makes its appended messages distinct. */
  readonly id: number;
}

/** Durations in ms per operation, and failures. */
export class Recorder {
  readonly times = new Map<OpName, number[]>();
  readonly errors: string[] = [];
  errorCount = 0;

  record(op: OpName, ms: number): void {
    const list = this.times.get(op);
    if (list === undefined) this.times.set(op, [ms]);
    else list.push(ms);
  }

  fail(op: OpName, e: unknown): void {
    this.errorCount++;
    if (this.errors.length < 5) this.errors.push(`${op}: ${e instanceof Error ? e.message : String(e)}`);
  }

  get ops(): number {
    let n = 0;
    for (const list of this.times.values()) n += list.length;
    return n;
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A compact UID set ("1:5,9,12:14") of ascending numbers. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...uids].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function appendUid(r: ImapResult): number {
  const m = /^APPENDUID \d+ (\d+)$/i.exec(r.code ?? '');
  if (m === null) throw new ImapError(`APPEND gave no APPENDUID (UIDPLUS is needed): ${r.text}`);
  return Number(m[1]);
}

export class Worker {
  /** UIDs this worker appended and has not expunged yet, oldest first. */
  readonly appended: number[] = [];
  private appendCount = 0;
  private stores = 0;
  private searches = 0;
  private readonly o: WorkerOptions;
  private readonly client: ImapClient;

  private constructor(o: WorkerOptions, client: ImapClient) {
    this.o = o;
    this.client = client;
  }

  static async open(o: WorkerOptions): Promise<Worker> {
    const client = await ImapClient.connect(o.connect);
    await client.login(o.user, o.pass);
    await client.ok('SELECT INBOX');
    return new Worker(o, client);
  }

  private randomUid(): number {
    return this.o.uids[Math.floor(Math.random() * this.o.uids.length)]!;
  }

  /** Runs one operation; an operation with nothing to do (expunge, none appended) is null. */
  async run(op: OpName): Promise<boolean> {
    const c = this.client;
    switch (op) {
      case 'select':
        await c.ok('SELECT INBOX');
        return true;
      case 'fetch_flags': {
        const top = Math.max(1, this.o.messages - FLAGS_WINDOW + 1);
        const first = 1 + Math.floor(Math.random() * top);
        const last = Math.min(this.o.messages, first + FLAGS_WINDOW - 1);
        const r = await c.ok(`FETCH ${first}:${last} (FLAGS)`);
        if (r.fetches < last - first + 1)
          throw new ImapError(`FETCH FLAGS: ${r.fetches} of ${last - first + 1}`);
        return true;
      }
      case 'fetch_body': {
        const r = await c.ok(`UID FETCH ${this.randomUid()} (BODY.PEEK[])`);
        if (r.fetches < 1 || r.literalBytes < 1000) throw new ImapError('UID FETCH BODY.PEEK[]: no body');
        return true;
      }
      case 'search_unseen': {
        const r = await c.ok('SEARCH UNSEEN');
        if (r.search === null) throw new ImapError('SEARCH UNSEEN: no SEARCH response');
        return true;
      }
      case 'search_subject': {
        const word = SUBJECT_WORDS[(this.o.id + this.searches++) % SUBJECT_WORDS.length]!;
        const r = await c.ok(`SEARCH SUBJECT ${word}`);
        if ((r.search?.length ?? 0) === 0) throw new ImapError(`SEARCH SUBJECT ${word}: nothing found`);
        return true;
      }
      case 'store':
        await c.ok(`UID STORE ${this.randomUid()} ${this.stores++ % 2 === 0 ? '+' : '-'}FLAGS (\\Seen)`);
        return true;
      case 'append':
        this.appended.push(await this.append());
        return true;
      case 'expunge': {
        const uid = this.appended.shift();
        if (uid === undefined) return false;
        await this.expunge([uid]);
        return true;
      }
    }
  }

  /** APPENDs one new message (2–20 KB); returns its UID. */
  async append(): Promise<number> {
    const message = benchMessage(this.o.id * 1_000_000 + this.appendCount++, 'append');
    return appendUid(await this.client.ok('APPEND INBOX ', message));
  }

  /** Flags `uids` \Deleted and expunges exactly those (UID EXPUNGE). */
  async expunge(uids: readonly number[]): Promise<void> {
    for (let i = 0; i < uids.length; i += 500) {
      const set = uidSet(uids.slice(i, i + 500));
      await this.client.ok(`UID STORE ${set} +FLAGS.SILENT (\\Deleted)`);
      await this.client.ok(`UID EXPUNGE ${set}`);
    }
  }

  /** Loops over MIX from this worker's offset until `deadline` (performance.now() ms). */
  async loop(deadline: number, rec: Recorder): Promise<void> {
    let k = (this.o.id * 7) % MIX.length;
    while (performance.now() < deadline) {
      const op = MIX[k++ % MIX.length]!;
      const t0 = performance.now();
      try {
        if (await this.run(op)) rec.record(op, performance.now() - t0);
      } catch (e) {
        rec.fail(op, e);
        if (this.client.broken) return;
      }
    }
  }

  /** APPENDs until `deadline`; the UIDs go to `appended`. */
  async appendLoop(deadline: number, rec: Recorder): Promise<void> {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        this.appended.push(await this.append());
        rec.record('append', performance.now() - t0);
      } catch (e) {
        rec.fail('append', e);
        if (this.client.broken) return;
      }
    }
  }

  /** Expunges what this worker appended and has not expunged yet. */
  async cleanup(): Promise<void> {
    if (!this.client.broken) await this.expunge(this.appended.splice(0));
  }

  /** cleanup(), then LOGOUT. */
  async finish(): Promise<void> {
    await this.cleanup();
    if (!this.client.broken) await this.client.logout();
  }
}
