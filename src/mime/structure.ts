// MIME structure of a raw message for IMAP (RFC 9051 §7.5.2 BODYSTRUCTURE/ENVELOPE,
// §6.4.5 sections): RFC 2046 §5.1 multipart (a boundary line is "--b" or "--b--"
// plus optional white space; the CRLF before it belongs to the delimiter; preamble
// and epilogue belong to no part; a missing close delimiter ends at the enclosing
// boundary or EOF), §5.1.5 multipart/digest (children default to message/rfc822),
// §5.2.1 message/rfc822 and RFC 6532 message/global (nested envelope and body).
//
// One forward pass: every open multipart's boundary sits on one stack, and the
// scanner looks for "\n--" natively, then hashes the candidate line without
// allocating; a line that matches an outer boundary ends every inner part.
// Hard limits (hostile input costs linear time):
// - MAX_DEPTH: a multipart or message/rfc822 nested deeper is an opaque
//   application/octet-stream leaf (its params kept); its inner boundaries are text.
// - MAX_PARTS: once that many parts exist the parse stops; every open multipart then
//   runs to the end of the message, like a message whose close boundaries are lost.
// - MAX_HEADER_LINES / MAX_TOTAL_HEADER_LINES: past them a header block is skipped,
//   not read (its fields are ignored).
// Decisions: `lines` counts LF bytes in the body (Dovecot's count); an invalid or
// missing Content-Type is text/plain (RFC 2045 §5.2; message/rfc822 in a digest); a
// multipart without a boundary is text/plain (RFC 2045 §5.2: the Content-Type is
// invalid); a multipart with no part gets one empty text/plain child.

import { ENVELOPE_FIELDS, envelopeFromFields } from './envelope.ts';
import { BoundaryScanner, countLf } from './structure-boundaries.ts';
import { type BoundaryHit, scanHeader, trimWsp } from './structure-headers.ts';
import { parseLanguages, parseStructured } from './structure-params.ts';
import type { Envelope, MessageStructure, MimePart } from './structure-types.ts';

export const MAX_DEPTH = 32;
export const MAX_PARTS = 5000;
export const MAX_HEADER_LINES = 10_000;
export const MAX_TOTAL_HEADER_LINES = 100_000;

const MIME_FIELDS = [
  'content-type',
  'content-transfer-encoding',
  'content-id',
  'content-description',
  'content-md5',
  'content-disposition',
  'content-language',
  'content-location',
];
const MEDIA_TYPE = /^([!#$%&'*+\-.^_`{|}~0-9A-Za-z]+)\s*\/\s*([!#$%&'*+\-.^_`{|}~0-9A-Za-z]+)$/;
const PART_WANTED: ReadonlySet<string> = new Set(MIME_FIELDS);
const MESSAGE_WANTED: ReadonlySet<string> = new Set([...MIME_FIELDS, ...ENVELOPE_FIELDS]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface Ctx {
  readonly raw: Buffer;
  readonly sc: BoundaryScanner;
  headerBudget: number;
  parts: number;
}

interface Parsed {
  readonly part: MimePart;
  readonly envelope: Envelope | null;
  /** LF bytes in [bodyStart, bodyEnd), when lines were needed. */
  readonly lf: number;
  /** The boundary line that ended the entity (null: the end of the message). */
  readonly hit: BoundaryHit | null;
}

export const EMPTY_ENVELOPE: Envelope = {
  date: null,
  subject: null,
  from: null,
  sender: null,
  replyTo: null,
  to: null,
  cc: null,
  bcc: null,
  inReplyTo: null,
  messageId: null,
};

/** An empty text/plain part at `pos` (a multipart with no parts, a message with no body). */
export function emptyPart(pos: number): MimePart {
  return {
    headerStart: pos,
    bodyStart: pos,
    bodyEnd: pos,
    type: 'text',
    subtype: 'plain',
    params: [],
    id: null,
    description: null,
    encoding: '7BIT',
    size: 0,
    lines: 0,
    md5: null,
    disposition: null,
    language: null,
    location: null,
    children: [],
    message: null,
  };
}

/** The MIME fields of a header → the leaf description (offsets filled in by the caller). */
function describe(fields: ReadonlyMap<string, string>, start: number, bodyStart: number, digest: boolean) {
  const part = emptyPart(start) as Mutable<MimePart>;
  part.bodyStart = bodyStart;
  if (digest) [part.type, part.subtype] = ['message', 'rfc822'];
  const ct = fields.get('content-type');
  if (ct !== undefined) {
    const v = parseStructured(ct);
    // type "/" subtype, each an RFC 2045 §5.1 token (no CTL, space or tspecial): else invalid.
    const m = MEDIA_TYPE.exec(v.value);
    if (m !== null) [part.type, part.subtype] = [m[1]!.toLowerCase(), m[2]!.toLowerCase()];
    else [part.type, part.subtype] = ['text', 'plain'];
    part.params = v.params;
  }
  const cte = fields.get('content-transfer-encoding');
  if (cte !== undefined) part.encoding = /^[^\s(;]*/.exec(cte)![0].toUpperCase() || '7BIT';
  part.id = fields.get('content-id') ?? null;
  part.description = fields.get('content-description') ?? null;
  part.md5 = fields.get('content-md5') ?? null;
  const cd = fields.get('content-disposition');
  if (cd !== undefined) {
    const v = parseStructured(cd);
    if (v.value !== '') part.disposition = { type: v.value.toLowerCase(), params: v.params };
  }
  const lang = fields.get('content-language');
  if (lang !== undefined) part.language = parseLanguages(lang);
  const loc = fields.get('content-location');
  if (loc !== undefined) part.location = trimWsp(loc.replace(/[ \t]+/g, '')); // RFC 2557 §4.4.2
  return part;
}

function boundaryOf(part: MimePart): string | null {
  const b = part.params.find(([n]) => n === 'boundary')?.[1];
  if (b === undefined) return null;
  const t = b.replace(/[ \t]+$/, '');
  return t === '' || t.length > 200 ? null : t;
}

/** Parse the entity (header + body) starting at `start`. */
function parseEntity(
  ctx: Ctx,
  start: number,
  depth: number,
  digest: boolean,
  top: boolean,
  needLines: boolean,
): Parsed {
  const { raw, sc } = ctx;
  const h = scanHeader(
    raw,
    start,
    sc,
    top ? MESSAGE_WANTED : PART_WANTED,
    Math.min(MAX_HEADER_LINES, ctx.headerBudget),
  );
  ctx.headerBudget = Math.max(0, ctx.headerBudget - h.linesRead);
  const part = describe(h.fields, start, h.bodyStart, digest);
  const envelope = top ? envelopeFromFields(h.fields) : null;
  const isContainer = part.type === 'multipart' || (part.type === 'message' && isEncapsulated(part));
  if (isContainer && depth >= MAX_DEPTH) [part.type, part.subtype] = ['application', 'octet-stream'];
  let boundary: string | null = null;
  if (part.type === 'multipart') {
    boundary = boundaryOf(part);
    if (boundary === null) [part.type, part.subtype, part.params] = ['text', 'plain', []];
  }
  let lf = 0;
  let hit: BoundaryHit | null = h.hit;
  if (hit !== null) {
    // The header ran into an enclosing boundary: no body.
    part.bodyEnd = part.bodyStart;
    if (part.type === 'multipart') part.children = [emptyPart(part.bodyStart)];
    else if (part.type === 'message' && isEncapsulated(part))
      part.message = { envelope: EMPTY_ENVELOPE, body: emptyPart(part.bodyStart) };
  } else if (boundary !== null) {
    ({ lf, hit } = parseMultipart(ctx, part, boundary, depth, needLines));
  } else if (part.type === 'message' && isEncapsulated(part)) {
    ctx.parts++;
    const inner = parseEntity(ctx, part.bodyStart, depth + 1, false, true, true);
    part.message = { envelope: inner.envelope ?? EMPTY_ENVELOPE, body: inner.part };
    part.bodyEnd = inner.part.bodyEnd;
    hit = inner.hit;
    lf = countLf(raw, part.bodyStart, inner.part.bodyStart) + inner.lf;
    part.lines = lf;
  } else {
    hit = sc.next(part.bodyStart);
    part.bodyEnd = hit === null ? raw.length : Math.max(part.bodyStart, hit.delimStart);
    if (needLines || part.type === 'text') lf = countLf(raw, part.bodyStart, part.bodyEnd);
    if (part.type === 'text') part.lines = lf;
  }
  part.size = part.bodyEnd - part.bodyStart;
  return { part, envelope, lf, hit };
}

function isEncapsulated(part: MimePart): boolean {
  return part.subtype === 'rfc822' || part.subtype === 'global';
}

/** The body of a multipart: children between its boundary lines; its LF count and terminator. */
function parseMultipart(
  ctx: Ctx,
  part: Mutable<MimePart>,
  boundary: string,
  depth: number,
  needLines: boolean,
): { lf: number; hit: BoundaryHit | null } {
  const { raw, sc } = ctx;
  const level = sc.push(boundary);
  const children: MimePart[] = [];
  const childLf: number[] = [];
  let hit = sc.next(part.bodyStart);
  while (hit !== null && hit.level === level && !hit.close) {
    if (ctx.parts >= MAX_PARTS) {
      sc.stop(); // the part limit: everything that follows is no one's part
      hit = null;
      break;
    }
    ctx.parts++;
    const child = parseEntity(ctx, hit.next, depth + 1, part.subtype === 'digest', false, needLines);
    children.push(child.part);
    childLf.push(child.lf);
    hit = child.hit;
  }
  sc.pop();
  if (hit !== null && hit.level === level) hit = sc.next(hit.next); // close: the epilogue runs on
  // A delimiter may share its line end with the boundary line before it ("--a CRLF --b"):
  // the empty last child then starts after that line end, and the multipart ends with it.
  const lastEnd = children[children.length - 1]?.bodyEnd ?? part.bodyStart;
  part.bodyEnd = hit === null ? raw.length : Math.max(part.bodyStart, hit.delimStart, lastEnd);
  if (children.length === 0) children.push(emptyPart(part.bodyEnd));
  part.children = children;
  if (!needLines) return { lf: 0, hit };
  let lf = 0;
  let at = part.bodyStart;
  children.forEach((c, i) => {
    lf += countLf(raw, at, c.headerStart) + countLf(raw, c.headerStart, c.bodyStart) + (childLf[i] ?? 0);
    at = c.bodyEnd;
  });
  return { lf: lf + countLf(raw, at, part.bodyEnd), hit };
}

/** Parse a raw message (RFC 5322 + MIME) into its IMAP structure. Never throws. */
export function parseStructure(raw: Buffer): MessageStructure {
  const ctx: Ctx = { raw, sc: new BoundaryScanner(raw), headerBudget: MAX_TOTAL_HEADER_LINES, parts: 1 };
  const root = parseEntity(ctx, 0, 0, false, true, false);
  return { envelope: root.envelope ?? EMPTY_ENVELOPE, body: root.part };
}
