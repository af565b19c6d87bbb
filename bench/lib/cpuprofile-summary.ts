// Where the server's main thread spent its time: reads a .cpuprofile (from
// `smtp-ingest.ts --profile DIR`) and attributes every sample to one stage of ingest, by
// the nearest frame on its stack that belongs to that stage, in the order listed below.
// Async work that lost its stack (fs callbacks, socket writes) is attributed by its leaf.
//
//   node bench/lib/cpuprofile-summary.ts FILE.cpuprofile [MESSAGES]
//
// With MESSAGES (stored messages, e.g. "stored" from the JSON) times are also per message.
// The profiler slows the server down; compare shares, not absolute times, with a plain run.

import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

type Test = (f: CallFrame) => boolean;
const inUrl =
  (...parts: string[]): Test =>
  (f) =>
    parts.some((p) => f.url.includes(p));
const MIME_PACKAGES =
  /node_modules\/(mailparser|@zone-eu|libmime|libqp|libbase64|html-to-text|linkify|iconv-lite|encoding-japanese|punycode|tlds|he|selderee|@selderee|parseley|domhandler|htmlparser2|dom-serializer|deepmerge|leac|peberminta)\//;

// First match wins; each test looks at every frame of the stack, leaf to root.
const STAGES: [string, Test][] = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['startup (module loading)', (f) => /internal\/modules\/|amaro/.test(f.url)],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  [
    'SQLite COMMIT (WAL fsync on the event loop)',
    (f) =>
      f.url.endsWith('src/store/sqlite/db.ts') &&
      /^\s*this\.call\(\(\) => this\.raw\.exec\('COMMIT'\)\)/.test(lineOf(f)),
  ],
  ['SQLite statements', inUrl('src/store/sqlite/', 'src/store/migrations/')],
  ['verification (mailauth: SPF, DKIM, DMARC)', inUrl('node_modules/mailauth/', 'src/smtp/verify.ts')],
  ['DNS resolver (outside verification)', inUrl('src/net/dns.ts')],
  [
    'MIME parsing (mailparser, summary)',
    (f) => MIME_PACKAGES.test(f.url) || f.url.includes('src/mime/summary.ts'),
  ],
  ['sealing (crypto/)', inUrl('src/crypto/')],
  ['blob store (fs calls)', inUrl('src/store/blobs/')],
  [
    'logging (pino)',
    (f) => /node_modules\/(pino|sonic-boom|thread-stream|fast-redact|quick-format)/.test(f.url),
  ],
  [
    'DATA checks, headers (smtp/, mime/)',
    inUrl(
      'src/smtp/data-collector',
      'src/smtp/mx-data',
      'src/smtp/auth-results',
      'src/smtp/trace-headers',
      'src/mime/',
    ),
  ],
  ['SMTP session (smtp-server, mx-server)', inUrl('node_modules/smtp-server/', 'src/smtp/')],
];
const LEAF_STAGES: [string, Test][] = [
  [
    'fs calls (async, stack lost)',
    (f) =>
      /^(stat|lstat|fstat|open|openFileHandle|close|fsync|rename|mkdir|unlink|writeBuffer|writeString)$/.test(
        f.functionName,
      ),
  ],
  ['socket writes (kernel TCP)', (f) => /^write(Utf8String|Latin1String|Buffer|v)$/.test(f.functionName)],
];

const sources = new Map<string, string[]>();
function lineOf(f: CallFrame): string {
  if (!f.url.startsWith('file://')) return '';
  let lines = sources.get(f.url);
  if (lines === undefined) {
    try {
      lines = readFileSync(new URL(f.url), 'utf8').split('\n');
    } catch {
      lines = [];
    }
    sources.set(f.url, lines);
  }
  return lines[f.lineNumber] ?? '';
}

const [file, messagesArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: cpuprofile-summary.ts FILE.cpuprofile [MESSAGES]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfTime = new Map<number, number>();
for (const [i, id] of profile.samples.entries()) {
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

function stageOf(id: number): string {
  for (const [name, test] of STAGES) {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (test(nodes.get(cur)!.callFrame)) return name;
    }
  }
  const leaf = nodes.get(id)!.callFrame;
  for (const [name, test] of LEAF_STAGES) if (test(leaf)) return name;
  return `other: ${leaf.url.split('/').slice(-2).join('/') || leaf.functionName}`;
}

const byStage = new Map<string, number>();
for (const [id, t] of selfTime) {
  const stage = stageOf(id);
  byStage.set(stage, (byStage.get(stage) ?? 0) + t);
}
const notWork = (s: string) => s === 'idle' || s.startsWith('startup');
const busy = [...byStage].filter(([s]) => !notWork(s)).reduce((a, [, t]) => a + t, 0);
const messages = Number(messagesArg ?? 0);
const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
const perMessage = (us: number) =>
  messages > 0 ? `${(us / 1000 / messages).toFixed(3).padStart(7)} ms/msg` : '';
const out = [`main thread busy (idle and startup excluded): ${ms(busy)} ms ${perMessage(busy)}`];
for (const [stage, t] of [...byStage].sort((a, b) => b[1] - a[1])) {
  if (t < busy / 500) continue;
  const share = notWork(stage) ? '      ' : `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  out.push(`${ms(t)} ms ${perMessage(t)} ${share}  ${stage}`);
}
process.stdout.write(`${out.join('\n')}\n`);
