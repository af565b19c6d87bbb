// The MIME corpus (test/corpus/mime/*.eml) through the real server: each message is
// APPENDed, then its BODYSTRUCTURE and ENVELOPE are fetched over a raw connection
// and read with the strict RFC 9051 reader (src/imap/render/test-reader.ts), which
// must agree with parseStructure on the stored bytes (types, sizes, lines, part
// count); every part's BODY[n] must be exactly that part's bytes; and imapflow's
// bodyStructure must describe the same tree.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImapFlow, MessageStructureObject } from 'imapflow';
import {
  type ReadBody,
  readBody,
  readEnvelope,
  type Value,
  WireReader,
} from '../../src/imap/render/test-reader.ts';
import { parseStructure } from '../../src/mime/structure.ts';
import type { MessageStructure, MimePart } from '../../src/mime/structure-types.ts';
import { imapflow, imapPort, RawImap } from '../support/imap.ts';
import { type InProcess, type Installation, install, startInProcess } from '../support/server.ts';

const DIR = path.resolve(import.meta.dirname, '../corpus/mime');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.eml'))
  .sort();

/** One part as both sides should see it: IMAP part number, type, size, lines. */
interface Leaf {
  readonly path: string;
  readonly type: string;
  readonly size: number | null;
  readonly lines: number | null;
}

/** A body as both trees have it, for numbering. */
interface Node {
  readonly type: string;
  readonly size: number | null;
  readonly lines: number | null;
  readonly children: readonly Node[];
  readonly message: Node | null;
}

function fromPart(p: MimePart): Node {
  const text = p.type === 'text' || p.message !== null;
  return {
    type: `${p.type}/${p.subtype}`,
    size: p.type === 'multipart' ? null : p.size,
    lines: text ? p.lines : null,
    children: p.children.map(fromPart),
    message: p.message === null ? null : fromPart(p.message.body),
  };
}

function fromWire(b: ReadBody): Node {
  return {
    type: `${b.type}/${b.subtype}`,
    size: b.size,
    lines: b.lines,
    children: b.children.map(fromWire),
    message: b.message === null ? null : fromWire(b.message.body),
  };
}

/**
 * The non-multipart parts of a message body in IMAP numbering (RFC 9051 §6.4.5):
 * children of a multipart are 1..n, a lone body is 1, and an encapsulated
 * message's parts continue below its own number.
 */
function leaves(body: Node, prefix = '', out: Leaf[] = []): Leaf[] {
  const part = (n: Node, num: string): void => {
    if (n.type.startsWith('multipart/')) {
      n.children.forEach((c, i) => {
        part(c, `${num}.${i + 1}`);
      });
      return;
    }
    out.push({ path: num, type: n.type, size: n.size, lines: n.lines });
    if (n.message !== null) leaves(n.message, `${num}.`, out);
  };
  if (body.type.startsWith('multipart/')) {
    body.children.forEach((c, i) => {
      part(c, `${prefix}${i + 1}`);
    });
  } else part(body, `${prefix}1`);
  return out;
}

/** imapflow's view: leaves with their part numbers (imapflow omits `part` on a lone body). */
function flowParts(node: MessageStructureObject, out: Leaf[] = []): Leaf[] {
  const type = node.type.toLowerCase();
  if (type.startsWith('multipart/')) {
    for (const c of node.childNodes ?? []) flowParts(c, out);
    return out;
  }
  const text = type.startsWith('text/') || type === 'message/rfc822' || type === 'message/global';
  out.push({
    path: node.part ?? '1',
    type,
    size: node.size ?? 0,
    lines: text ? (node.lineCount ?? 0) : null,
  });
  if (type === 'message/rfc822' || type === 'message/global') {
    for (const c of node.childNodes ?? []) flowParts(c, out);
  }
  return out;
}

/** RFC 9051 §6.4.5 part numbering: inside a message, n names child n of a multipart body, or the body itself when n is 1. */
function partAt(s: MessageStructure, numbers: readonly number[]): MimePart {
  const enter = (body: MimePart, n: number): MimePart | undefined =>
    body.type === 'multipart' ? body.children[n - 1] : n === 1 ? body : undefined;
  let cur: MimePart | undefined;
  for (const n of numbers) {
    if (cur === undefined) cur = enter(s.body, n);
    else if (cur.type === 'multipart') cur = cur.children[n - 1];
    else if (cur.message !== null) cur = enter(cur.message.body, n);
    else cur = undefined;
    assert.ok(cur, `no part ${numbers.join('.')}`);
  }
  assert.ok(cur);
  return cur;
}

/** Items of one FETCH response: the octets of the whole exchange, and a cursor after `name `. */
function valueAfter(response: Buffer, name: string): Value {
  const at = response.indexOf(`${name} (`);
  assert.ok(at >= 0, `${name} missing`);
  return new WireReader(response.subarray(at + name.length + 1).toString('utf8')).value();
}

function literalAfter(response: Buffer, name: string): Buffer {
  const at = response.indexOf(`${name} `);
  assert.ok(at >= 0, `${name} missing in ${response.toString('latin1', 0, 200)}`);
  const rest = response.subarray(at + name.length + 1);
  const m = /^\{(\d+)\}\r\n/.exec(rest.toString('latin1', 0, 24));
  if (m) return rest.subarray(m[0].length, m[0].length + Number(m[1]));
  assert.ok(rest.toString('latin1', 0, 2) === '""', `${name}: ${rest.toString('latin1', 0, 40)}`);
  return Buffer.alloc(0);
}

describe('IMAP over the MIME corpus', () => {
  let inst: Installation;
  let srv: InProcess;
  let port: number;
  let raw: RawImap;
  let flow: ImapFlow;
  const uids = new Map<string, number>();
  let n = 0;

  /** The octets of one command's untagged responses, asserting OK. */
  const exchange = async (text: string): Promise<Buffer> => {
    const tag = `c${++n}`;
    const lines = await raw.command(tag, text);
    assert.match(lines.at(-1)!, new RegExp(`^${tag} OK`), `${text}\n${lines.join('\n')}`);
    return Buffer.from(lines.slice(0, -1).join('\r\n'), 'latin1');
  };

  before(async () => {
    inst = await install();
    srv = await startInProcess(inst);
    port = imapPort(srv.server);
    raw = await RawImap.connect(port);
    await raw.login();
    await exchange('CREATE Corpus');
    for (const f of FILES) {
      const data = readFileSync(path.join(DIR, f));
      const tag = `a${++n}`;
      raw.write(
        Buffer.concat([Buffer.from(`${tag} APPEND Corpus {${data.length}+}\r\n`), data, Buffer.from('\r\n')]),
      );
      const r = await raw.until(new RegExp(`^${tag} `));
      const m = /APPENDUID \d+ (\d+)\]/.exec(r.at(-1)!);
      assert.ok(m, `${f}: ${r.join('\n')}`);
      uids.set(f, Number(m[1]));
    }
    await exchange('EXAMINE Corpus');
    flow = await imapflow(port);
  });

  after(async () => {
    raw?.close();
    await flow?.logout().catch(() => {});
    await srv.server.stop();
    await inst.cleanup();
  });

  it('has the corpus to work with', () => {
    assert.ok(FILES.length >= 20, FILES.join(' '));
  });

  for (const f of FILES) {
    it(`${f}: BODYSTRUCTURE/ENVELOPE parse strictly and agree with parseStructure; BODY[n] are the part bytes`, async () => {
      const uid = uids.get(f)!;
      const file = readFileSync(path.join(DIR, f));
      const stored = literalAfter(await exchange(`UID FETCH ${uid} (BODY.PEEK[])`), 'BODY[]');
      assert.deepEqual(stored, file, 'APPEND stores the message byte for byte');
      const s = parseStructure(stored);
      const r = await exchange(`UID FETCH ${uid} (BODYSTRUCTURE ENVELOPE BODY)`);
      const wire = readBody(valueAfter(r, 'BODYSTRUCTURE'), true);
      readBody(valueAfter(r, 'BODY'), false);
      const env = readEnvelope(valueAfter(r, 'ENVELOPE'));
      assert.equal(env.fields[1], s.envelope.subject, 'subject');
      assert.equal(env.fields[3], s.envelope.messageId, 'message-id');
      assert.equal(env.addresses[0]?.length ?? 0, s.envelope.from?.length ?? 0, 'from count');
      const ours = leaves(fromPart(s.body));
      assert.deepEqual(leaves(fromWire(wire)), ours);
      for (const leaf of ours) {
        const section = leaf.path;
        const got = literalAfter(
          await exchange(`UID FETCH ${uid} (BODY.PEEK[${section}])`),
          `BODY[${section}]`,
        );
        const part = partAt(s, section.split('.').map(Number));
        assert.deepEqual(got, stored.subarray(part.bodyStart, part.bodyEnd), `BODY[${section}]`);
      }
    });
  }

  it('imapflow reads the same tree for every corpus message', async () => {
    const lock = await flow.getMailboxLock('Corpus');
    try {
      for (const f of FILES) {
        const m = await flow.fetchOne(
          String(uids.get(f)),
          { bodyStructure: true, source: true },
          { uid: true },
        );
        assert.ok(m !== false && m.bodyStructure !== undefined && m.source !== undefined, f);
        // Compared without part numbers: imapflow numbers the lone body of an
        // encapsulated message like the message itself (1, where IMAP says 1.1).
        const shape = ({ path: _, ...rest }: Leaf) => rest;
        const ours = leaves(fromPart(parseStructure(m.source).body)).map(shape);
        const theirs = flowParts(m.bodyStructure).map(shape);
        // imapflow 2.10.2 reads message/global (RFC 9051 media-message, RFC 6532) as a
        // basic part: compare up to it; the strict reader above checked the rest.
        const global = ours.findIndex((p) => p.type === 'message/global');
        if (global >= 0) {
          assert.deepEqual(theirs.slice(0, global), ours.slice(0, global), f);
          assert.equal(theirs[global]?.type, 'message/global', f);
        } else assert.deepEqual(theirs, ours, f);
      }
    } finally {
      lock.release();
    }
  });
});
