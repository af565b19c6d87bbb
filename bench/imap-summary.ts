// The last line of bench/run-imap.sh: reads the JSON lines of a run (a file, one per line)
// and prints Sealpost's figures over Dovecot's. For rates (ops/s, APPEND/s) above 1.0 means
// Sealpost is faster; for memory per idle connection below 1.0 means Sealpost uses less.
// A server that did not run gives nulls, and `sealpost_ran: false`.

import { readFileSync } from 'node:fs';

interface Line {
  readonly bench: string;
  readonly label?: string;
  readonly ops_per_s?: number;
  readonly append_per_s?: number;
  readonly append_only_per_s?: number | null;
  readonly bytes_per_connection?: number;
  readonly pss_bytes_per_connection?: number;
  readonly errors?: number;
  readonly failed?: number;
}

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: imap-summary.ts FILE\n');
  process.exit(2);
}
const lines = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l) as Line);
const find = (bench: string, label: string) => lines.find((l) => l.bench === bench && l.label === label);
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || b === 0 ? null : Number((a / b).toFixed(2));

const [sp, dv] = [find('imap', 'sealpost'), find('imap', 'dovecot')];
const [spIdle, dvIdle] = [find('imap-idle', 'sealpost'), find('imap-idle', 'dovecot')];
const summary = {
  bench: 'imap',
  summary: 'sealpost/dovecot',
  sealpost_ran: sp !== undefined || spIdle !== undefined,
  ops_per_s: ratio(sp?.ops_per_s, dv?.ops_per_s),
  append_per_s: ratio(sp?.append_per_s, dv?.append_per_s),
  append_only_per_s: ratio(sp?.append_only_per_s, dv?.append_only_per_s),
  idle_bytes_per_connection: ratio(spIdle?.bytes_per_connection, dvIdle?.bytes_per_connection),
  idle_pss_bytes_per_connection: ratio(spIdle?.pss_bytes_per_connection, dvIdle?.pss_bytes_per_connection),
  failures: lines.reduce((n, l) => n + (l.errors ?? 0) + (l.failed ?? 0), 0),
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
