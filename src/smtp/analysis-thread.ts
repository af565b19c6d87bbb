// The body of one analysis worker thread (see analysis.ts): receives a message and
// its connection facts, answers with the verification verdict and the content analysis.
// It has its own DNS resolver and cache; it never holds a key or a store handle.
//
// Tasks run first come, first served, a few at a time: verification and MIME
// parsing yield often, so running every queued task at once would interleave them
// and finish all of them late together (each waits for all the others' work), while
// a small limit finishes the earliest first and still overlaps DNS waits.

import { parentPort, workerData } from 'node:worker_threads';
import { createDnsResolver } from '../net/dns.ts';
import { type AnalysisInput, analyse } from './analysis.ts';

const { dns, concurrency } = workerData as {
  dns: { servers: string[]; timeoutMs: number };
  concurrency: number;
};
const resolver = createDnsResolver({ servers: dns.servers, timeoutMs: dns.timeoutMs });

type Task = { id: number; input: AnalysisInput & { message: Uint8Array } };
const queue: Task[] = [];
let running = 0;

function pump(): void {
  while (running < concurrency && queue.length > 0) {
    const task = queue.shift()!;
    running++;
    const m = task.input.message;
    const input = { ...task.input, message: Buffer.from(m.buffer, m.byteOffset, m.byteLength) };
    analyse(input, resolver)
      .then(
        (analysis) => parentPort!.postMessage({ id: task.id, ok: true, analysis }),
        (e: unknown) =>
          parentPort!.postMessage({
            id: task.id,
            ok: false,
            error: e instanceof Error ? e.message : String(e),
          }),
      )
      .finally(() => {
        running--;
        pump();
      });
  }
}

parentPort!.on('message', (task: Task) => {
  queue.push(task);
  pump();
});
