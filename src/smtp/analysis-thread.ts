// The body of one analysis worker thread (see analysis.ts): receives a message and
// its connection facts, answers with the verification verdict and the summary.
// It has its own DNS resolver and cache; it never holds a key or a store handle.

import { parentPort, workerData } from 'node:worker_threads';
import { createDnsResolver } from '../net/dns.ts';
import { type AnalysisInput, analyse } from './analysis.ts';

const { dns } = workerData as { dns: { servers: string[]; timeoutMs: number } };
const resolver = createDnsResolver({ servers: dns.servers, timeoutMs: dns.timeoutMs });

parentPort!.on('message', (m: { id: number; input: AnalysisInput & { message: Uint8Array } }) => {
  const input = {
    ...m.input,
    message: Buffer.from(m.input.message.buffer, m.input.message.byteOffset, m.input.message.byteLength),
  };
  analyse(input, resolver).then(
    (analysis) => parentPort!.postMessage({ id: m.id, ok: true, analysis }),
    (e: unknown) =>
      parentPort!.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
