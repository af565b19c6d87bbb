// The last line of bench/run-ingest.sh: reads the JSON lines of the runs (a file, one per
// line) and prints the ratio of Sealpost's rate to Postfix's, by tool, as medians over the
// rounds. The performance target is a ratio of at least 1.0 against smtp-source.

import { readFileSync } from 'node:fs';

interface Line {
  bench: string;
  target: string;
  tool: string;
  msgs_per_s: number;
  p99_ms: number | null;
  failed: number;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: ingest-summary.ts FILE\n');
  process.exit(2);
}
const lines = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l) as Line)
  .filter((l) => l.bench === 'smtp-ingest');
const rate = (target: string, tool: string) =>
  median(lines.filter((l) => l.target === target && l.tool === tool).map((l) => l.msgs_per_s));
const sealpost = rate('sealpost', 'smtp-load');
const viaSource = rate('postfix', 'smtp-source');
const viaLoad = rate('postfix', 'smtp-load');
const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? null : Number((a / b).toFixed(2));
const summary = {
  bench: 'smtp-ingest',
  summary: 'sealpost/postfix',
  rounds: lines.filter((l) => l.target === 'sealpost').length,
  sealpost_msgs_per_s: sealpost,
  postfix_smtp_source_msgs_per_s: viaSource,
  postfix_smtp_load_msgs_per_s: viaLoad,
  ratio: ratio(sealpost, viaSource),
  ratio_same_client: ratio(sealpost, viaLoad),
  target: 1.0,
  met: (ratio(sealpost, viaSource) ?? 0) >= 1.0,
  failed: lines.reduce((n, l) => n + l.failed, 0),
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
