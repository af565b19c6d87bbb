// Message analysis off the main thread: SPF/DKIM/DMARC/ARC verification and the
// MIME analysis (summary, structure, search tokens) are pure functions of the message bytes (plus DNS), so a small pool
// of worker threads runs them while the main thread keeps serving SMTP sessions and
// committing to the store. With no spare core (threads = 0) they run inline.
//
// Invariants: a thread never sees a key or touches the store; a task whose thread
// dies is rejected (the client gets a 4xx and retries), and the thread is replaced.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { analyseContent, type MessageContent } from '../mail/content.ts';
import { createDnsResolver, type DnsResolver } from '../net/dns.ts';
import { type AuthVerdict, verifyMessage } from './verify.ts';

export interface AnalysisInput {
  readonly message: Buffer;
  readonly ip: string;
  readonly helo: string;
  readonly mailFrom: string;
  readonly hostname: string;
  readonly verify: boolean;
}

export interface Analysis {
  readonly verdict: AuthVerdict | null;
  readonly content: MessageContent;
}

export interface AnalyserOptions {
  /** Worker threads; 0 runs inline, undefined picks one per spare core. */
  readonly threads?: number;
  readonly dns: { readonly servers: readonly string[]; readonly timeoutMs: number };
}

export interface Analyser {
  analyse(input: AnalysisInput): Promise<Analysis>;
  close(): Promise<void>;
}

/** The work itself, shared by the inline path and the worker threads. */
export async function analyse(input: AnalysisInput, resolver: DnsResolver): Promise<Analysis> {
  const [verdict, content] = await Promise.all([
    input.verify
      ? verifyMessage({
          message: input.message,
          ip: input.ip,
          helo: input.helo,
          mailFrom: input.mailFrom,
          hostname: input.hostname,
          resolver,
        })
      : null,
    analyseContent(input.message),
  ]);
  return { verdict, content };
}

/** Analyses one thread runs at once (see analysis-thread.ts for why not all). */
export const TASKS_PER_THREAD = 4;

export function defaultThreads(): number {
  return Math.max(0, availableParallelism() - 1);
}

export function createAnalyser(options: AnalyserOptions, resolver?: DnsResolver): Analyser {
  const threads = options.threads ?? defaultThreads();
  if (threads <= 0) {
    const r =
      resolver ?? createDnsResolver({ servers: [...options.dns.servers], timeoutMs: options.dns.timeoutMs });
    return { analyse: (input) => analyse(input, r), close: async () => {} };
  }
  return new ThreadPool(threads, options.dns);
}

type Pending = { resolve: (a: Analysis) => void; reject: (e: Error) => void };

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

class ThreadPool implements Analyser {
  readonly #threads: Thread[] = [];
  readonly #dns: AnalyserOptions['dns'];
  #nextId = 1;
  #closed = false;

  constructor(count: number, dns: AnalyserOptions['dns']) {
    this.#dns = dns;
    for (let i = 0; i < count; i++) this.#threads.push(this.#spawn());
  }

  #spawn(): Thread {
    const worker = new Worker(new URL('./analysis-thread.ts', import.meta.url), {
      workerData: { dns: this.#dns, concurrency: TASKS_PER_THREAD },
    });
    const thread: Thread = { worker, pending: new Map() };
    worker.on(
      'message',
      (m: { id: number; ok: true; analysis: Analysis } | { id: number; ok: false; error: string }) => {
        const p = thread.pending.get(m.id);
        if (p === undefined) return;
        thread.pending.delete(m.id);
        if (m.ok) p.resolve(m.analysis);
        else p.reject(new Error(m.error));
      },
    );
    const fail = (why: string) => {
      for (const p of thread.pending.values()) p.reject(new Error(`analysis thread ${why}`));
      thread.pending.clear();
      const i = this.#threads.indexOf(thread);
      if (i >= 0 && !this.#closed) this.#threads[i] = this.#spawn();
    };
    worker.on('error', (e) => fail(`failed: ${e.message}`));
    worker.on('exit', (code) => {
      if (!this.#closed) fail(`exited with ${code}`);
    });
    worker.unref();
    return thread;
  }

  analyse(input: AnalysisInput): Promise<Analysis> {
    const thread = this.#threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.#nextId++;
    // A private copy of the bytes, moved (not cloned) to the thread.
    const bytes = new Uint8Array(input.message);
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, input: { ...input, message: bytes } }, [bytes.buffer]);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
