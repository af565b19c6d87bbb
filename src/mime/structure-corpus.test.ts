// Cross-checks parseStructure on test/corpus/mime, and on 150 generated MIME trees,
// against Python 3's `email` package (compat32), and checks the rendered
// BODYSTRUCTURE/BODY/ENVELOPE twice: with imapflow's response parser
// (handler/imap-handler `parser`, tools `parseBodystructure`/`parseEnvelope`, fed a
// framed `* 1 FETCH (...)` line as its ImapStream would) and with a strict reader of
// the RFC 9051 §9 grammar (imap/render/test-reader.ts) that also checks the
// extension data's shape.
// Deliberate differences from Python, normalised here: Python keeps folding CRLFs
// inside parameter values and a trailing "(comment)" in an unquoted value (we
// unfold and drop it, RFC 2045 §5.1); Python reads message/delivery-status as a
// list of header blocks (we keep it a leaf, as IMAP servers do); RFC 2231 values
// are compared decoded (we keep them encoded as name*=charset'lang'value); the last
// part of a multipart that runs to EOF without a close delimiter keeps its final
// CRLF with us (no delimiter follows to own it), Python drops it; a multipart with
// no part is a leaf for Python, for us it has one empty text/plain part.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parser } from 'imapflow/lib/handler/imap-handler.js';
import { parseBodystructure, parseEnvelope } from 'imapflow/lib/tools.js';
import type { MessageAddressObject, MessageStructureObject } from 'imapflow/lib/types.js';
import { renderBodyStructure } from '../imap/render/bodystructure.ts';
import { renderEnvelope } from '../imap/render/envelope.ts';
import { extractBinary, findPart } from '../imap/render/section.ts';
import { type ReadBody, readBody, readEnvelope, WireReader } from '../imap/render/test-reader.ts';
import { parseStructure } from './structure.ts';
import { decodeExtendedValue } from './structure-params.ts';
import type { EnvelopeAddress, MessageStructure, MimePart } from './structure-types.ts';

const dir = join(import.meta.dirname, '../../test/corpus/mime');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.eml'))
  .sort();

/** Random MIME trees (nesting, digests, odd boundaries, LF or CRLF, lost close delimiters). */
function generate(count: number, seed: number): Buffer[] {
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
  const part = (depth: number, nl: string, digest: boolean): string => {
    const r = rnd(10);
    if (depth < 4 && r < 3) {
      const b = pick(['b', 'bb', `x-${depth}`, `----=_Part_${rnd(100)}`, 'abc', `abc-${depth}`, 'a b']);
      const kids = Array.from({ length: rnd(4) }, () => part(depth + 1, nl, r === 2));
      const body = kids.map((k) => `--${b}${pick(['', '', ' ', '\t'])}${nl}${k}${nl}`).join('');
      const close = pick([`--${b}--${nl}`, `--${b}--`, '', `--${b}-- ${nl}epilogue${nl}`]);
      const sub = r === 2 ? 'digest' : pick(['mixed', 'alternative']);
      return `Content-Type: multipart/${sub}; boundary="${b}"${nl}${nl}${pick(['', `preamble${nl}`])}${body}${close}`;
    }
    if (depth < 4 && r === 3)
      return `Content-Type: message/rfc822${nl}${nl}Subject: s${depth}${nl}${part(depth + 1, nl, false)}`;
    const text = pick(['', 'x', `line${nl}`, `a${nl}b${nl}${nl}`, '--notb', `--b-x${nl}y`]);
    const types = [
      'Content-Type: text/plain; charset=utf-8',
      'Content-Type: application/x',
      '',
      'Content-Type: text/html',
    ];
    const ct = digest && rnd(2) ? '' : pick(types);
    return `${ct === '' ? '' : ct + nl}X-H: ${rnd(9)}${nl}${nl}${text}`;
  };
  return Array.from({ length: count }, () =>
    Buffer.from(`From: a@b\r\n${part(0, pick(['\r\n', '\n']), false)}`),
  );
}

const genDir = mkdtempSync(join(tmpdir(), 'sealpost-mime-'));
after(() => rmSync(genDir, { recursive: true, force: true }));
const generated = generate(150, 7).map((raw, i) => {
  const path = join(genDir, `${i}.eml`);
  writeFileSync(path, raw);
  return path;
});

const PY = String.raw`
import email, email.policy, json, re, sys
from email.utils import collapse_rfc2231_value
def s(v):
    return re.sub(r'\r?\n', '', v.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace'))
def walk(m):
    d = {'type': m.get_content_type(), 'params': []}
    for k, v in (m.get_params() or [])[1:]:
        if isinstance(v, tuple):
            v = collapse_rfc2231_value(v)
        d['params'].append([k.lower(), s(v)])
    if m.is_multipart():
        d['children'] = [walk(p) for p in m.get_payload()]
    else:
        raw = m._payload
        d['raw'] = raw.encode('ascii', 'surrogateescape').hex()
        d['decoded'] = (m.get_payload(decode=True) or b'').hex()
    return d
out = {}
for f in sys.argv[1:]:
    out[f] = walk(email.message_from_bytes(open(f, 'rb').read(), policy=email.policy.compat32))
print(json.dumps(out))
`;

interface PyPart {
  type: string;
  params: [string, string][];
  children?: PyPart[];
  raw?: string;
  decoded?: string;
}

const python = JSON.parse(
  execFileSync('python3', ['-c', PY, ...files.map((f) => join(dir, f)), ...generated], {
    maxBuffer: 64 << 20,
  }).toString(),
) as Record<string, PyPart>;

function ourParams(p: MimePart): [string, string][] {
  return p.params.map(([n, v]) => {
    if (n.endsWith('*')) return [n.slice(0, -1), decodeExtendedValue(v)];
    return [n, v.replace(/ \(.*\)$/, '')];
  });
}

/** Walk ours and Python's trees together, by part path. */
function compare(
  raw: Buffer,
  s: MessageStructure,
  ours: MimePart,
  py: PyPart,
  path: number[],
  where: string,
): void {
  const at = `${where} [${path.join('.')}]`;
  assert.equal(`${ours.type}/${ours.subtype}`, py.type, `${at} type`);
  const pyParams = py.params.map(([n, v]) => [n, v.replace(/ \(.*\)$/, '')]);
  assert.deepEqual(ourParams(ours), pyParams, `${at} params`);
  if (py.type === 'message/delivery-status') return;
  if (ours.type === 'multipart') {
    // A multipart without any part: Python keeps no part list, we add one empty text/plain.
    if (py.children === undefined && ours.children.length === 1 && ours.children[0]!.size === 0) return;
    assert.equal(ours.children.length, py.children?.length, `${at} child count`);
    ours.children.forEach((c, i) => {
      compare(raw, s, c, py.children![i]!, [...path, i + 1], where);
    });
    return;
  }
  if (ours.message !== null) {
    assert.equal(py.children?.length, 1, `${at} encapsulated message`);
    const inner = ours.message.body;
    // The enclosed message's parts are numbered from the message part itself.
    compare(raw, s, inner, py.children![0]!, inner.type === 'multipart' ? path : [...path, 1], where);
    return;
  }
  assert.equal(py.children, undefined, `${at} leaf in both`);
  let body = raw.subarray(ours.bodyStart, ours.bodyEnd);
  let binary = extractBinary(raw, s, path);
  assert.ok(Buffer.isBuffer(binary), `${at} known CTE`);
  const hex = body.toString('hex');
  if (ours.bodyEnd === raw.length && path.length > 0 && hex.endsWith('0d0a') && py.raw === hex.slice(0, -4)) {
    // A multipart that runs to EOF without its close delimiter: Python drops the
    // last part's final CRLF as if a delimiter followed; we keep every byte.
    body = body.subarray(0, -2);
    binary = binary.toString('hex').endsWith('0d0a') ? binary.subarray(0, -2) : binary;
  }
  assert.equal(body.toString('hex'), py.raw, `${at} raw body bytes`);
  assert.equal(binary.toString('hex'), py.decoded, `${at} decoded body bytes`);
}

function countParts(p: MimePart | ReadBody): number {
  const inner = p.message === null ? 0 : countParts(p.message.body);
  return 1 + inner + p.children.reduce((n: number, c: MimePart | ReadBody) => n + countParts(c), 0);
}

function sameShape(ours: MimePart, read: ReadBody, at: string): void {
  assert.equal(read.type, ours.type, `${at} type`);
  assert.equal(read.subtype, ours.subtype, `${at} subtype`);
  if (ours.type === 'multipart') {
    assert.equal(read.children.length, ours.children.length, `${at} children`);
    ours.children.forEach((c, i) => {
      sameShape(c, read.children[i]!, `${at}.${i + 1}`);
    });
    return;
  }
  assert.equal(read.size, ours.size, `${at} size`);
  if (ours.type === 'text' || ours.message !== null) assert.equal(read.lines, ours.lines, `${at} lines`);
  if (ours.message !== null) sameShape(ours.message.body, read.message!.body, `${at}.msg`);
}

/** Split rendered text the way imapflow's ImapStream does: the line, and each literal's bytes. */
function frame(text: string): { payload: Buffer; literals: Buffer[] } {
  const buf = Buffer.from(text, 'utf8');
  const latin1 = buf.toString('latin1');
  const parts: Buffer[] = [];
  const literals: Buffer[] = [];
  const re = /\{(\d+)\}\r\n/g;
  let pos = 0;
  for (let m = re.exec(latin1); m !== null; m = re.exec(latin1)) {
    const start = m.index + m[0].length;
    parts.push(buf.subarray(pos, start));
    literals.push(buf.subarray(start, start + Number(m[1])));
    pos = start + Number(m[1]);
    re.lastIndex = pos;
  }
  parts.push(buf.subarray(pos));
  return { payload: Buffer.concat(parts), literals };
}

/** imapflow's view of an address list: group ends dropped, group starts without address. */
function asImapflow(
  list: readonly EnvelopeAddress[] | null,
): { name: string; address: string }[] | undefined {
  if (list === null) return undefined;
  return list
    .filter((a) => a.mailbox !== null)
    .map((a) =>
      a.host === null
        ? { name: a.mailbox ?? '', address: '' }
        : { name: a.name ?? '', address: `${a.mailbox}@${a.host}` },
    );
}

function sameAddresses(
  ours: readonly EnvelopeAddress[] | null,
  theirs: MessageAddressObject[] | undefined,
  at: string,
): void {
  const expected = asImapflow(ours);
  assert.equal(theirs?.length, expected?.length, `${at} address count`);
  expected?.forEach((e, i) => {
    assert.equal(theirs![i]!.address ?? '', e.address, `${at} address`);
    if (!e.name.includes('=?')) assert.equal(theirs![i]!.name ?? '', e.name, `${at} name`); // imapflow decodes words
  });
}

/**
 * Our part tree against imapflow's; every imapflow part number must find the same
 * part with findPart. imapflow gives the non-multipart body of a message/rfc822 part
 * the message part's own number; RFC 9051 §6.4.5 numbers it n.1, as we do.
 * imapflow reads message/global as a basic part (only type and size compared).
 */
function sameAsImapflow(
  s: MessageStructure,
  ours: MimePart,
  theirs: MessageStructureObject,
  at: string,
  enclosed = false,
): void {
  if (ours.type === 'multipart') {
    assert.equal(theirs.type, `multipart/${ours.subtype}`, `${at} type`);
    assert.equal(theirs.childNodes?.length, ours.children.length, `${at} children`);
    ours.children.forEach((c, i) => {
      sameAsImapflow(s, c, theirs.childNodes![i]!, `${at}.${i + 1}`);
    });
    return;
  }
  assert.equal(theirs.type, `${ours.type}/${ours.subtype}`, `${at} type`);
  assert.equal(theirs.size, ours.size, `${at} size`);
  assert.equal(theirs.encoding, ours.encoding.toLowerCase(), `${at} encoding`);
  if (ours.type === 'text') assert.equal(theirs.lineCount, ours.lines, `${at} lines`);
  // imapflow does not prefix the parts of a message/rfc822 that is the whole message with "1".
  if (s.body.message === null) {
    const path = (theirs.part ?? '1').split('.').map(Number);
    assert.equal(findPart(s, enclosed ? [...path, 1] : path), ours, `${at} part number ${theirs.part}`);
  }
  if (ours.message !== null && ours.subtype === 'rfc822') {
    assert.equal(theirs.childNodes?.length, 1, `${at} enclosed message`);
    sameAddresses(ours.message.envelope.from, theirs.envelope?.from, `${at} enclosed from`);
    sameAsImapflow(s, ours.message.body, theirs.childNodes![0]!, `${at}.msg`, true);
  }
}

test('the corpus has the planned ~25 messages', () => {
  assert.ok(files.length >= 25, `${files.length} messages`);
});

function checkPython(path: string, name: string): void {
  const raw = readFileSync(path);
  const s = parseStructure(raw);
  compare(raw, s, s.body, python[path]!, s.body.type === 'multipart' ? [] : [1], name);
}

async function checkImapflow(path: string, name: string): Promise<void> {
  const s = parseStructure(readFileSync(path));
  const line = `* 1 FETCH (BODYSTRUCTURE ${renderBodyStructure(s.body, true)} ENVELOPE ${renderEnvelope(s.envelope)})`;
  const { payload, literals } = frame(line);
  const response = await parser(payload, { literals });
  assert.equal(response.command, '1'); // imapflow: the number is the command, FETCH the first attribute
  type Attrs = Parameters<typeof parseBodystructure>[0];
  const items = response.attributes?.[1] as unknown as Attrs;
  sameAsImapflow(s, s.body, parseBodystructure(items[1] as Attrs), name);
  const env = parseEnvelope(items[3] as Attrs);
  const e = s.envelope;
  if (e.subject !== null && !e.subject.includes('=?')) assert.equal(env.subject, e.subject);
  assert.equal(env.messageId, e.messageId ?? undefined);
  const lists = { from: e.from, sender: e.sender, replyTo: e.replyTo, to: e.to, cc: e.cc, bcc: e.bcc };
  for (const [field, ours] of Object.entries(lists))
    sameAddresses(ours, env[field as keyof typeof lists], `${name} ${field}`);
}

function checkGrammar(path: string, name: string): void {
  const s = parseStructure(readFileSync(path));
  for (const extensible of [true, false]) {
    const r = new WireReader(`(${renderBodyStructure(s.body, extensible)} ${renderEnvelope(s.envelope)})`);
    const items = r.list();
    r.done();
    const body = readBody(items[0]!, extensible);
    sameShape(s.body, body, name);
    assert.equal(countParts(body), countParts(s.body), `${name} part count`);
    const env = readEnvelope(items[1]!);
    const e = s.envelope;
    assert.deepEqual(env.fields, [e.date, e.subject, e.inReplyTo, e.messageId]);
    assert.deepEqual(env.addresses, [e.from, e.sender, e.replyTo, e.to, e.cc, e.bcc]);
  }
}

for (const f of files) {
  test(`corpus ${f}: structure agrees with Python's email package`, () => checkPython(join(dir, f), f));
  test(`corpus ${f}: imapflow parses our BODYSTRUCTURE and ENVELOPE back`, () =>
    checkImapflow(join(dir, f), f));
  test(`corpus ${f}: BODYSTRUCTURE, BODY, ENVELOPE follow the RFC 9051 grammar`, () =>
    checkGrammar(join(dir, f), f));
}

test(`${generated.length} generated MIME trees agree with Python, imapflow and the grammar`, async () => {
  for (const [i, path] of generated.entries()) {
    checkPython(path, `generated ${i}`);
    await checkImapflow(path, `generated ${i}`);
    checkGrammar(path, `generated ${i}`);
  }
});
