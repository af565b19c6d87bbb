// BODYSTRUCTURE and BODY as IMAP wire text (RFC 9051 §7.5.2 and §9 `body`,
// `body-type-1part`, `body-type-mpart`, `body-fields`, `body-ext-1part`,
// `body-ext-mpart`). BODY (extensible = false) omits the extension data.
// Decisions (Dovecot's conventions): type and subtype are sent lower-case as stored
// ("text" "plain"); the encoding upper-case as stored ("7BIT"); a text part without
// parameters gets ("charset" "us-ascii") (RFC 2045 §5.2 default); one language is
// a single string, several a list; extension data for a leaf is md5, disposition,
// language, location, and for a multipart params, disposition, language, location.
// A message/rfc822 or message/global part with an enclosed message is body-type-msg
// (fields, envelope, body, lines); text/* is body-type-text (fields, lines).
// Invariants: the output parses under the §9 grammar; lists have no empty "()".

import type { MimePart } from '../../mime/structure-types.ts';
import { renderEnvelope } from './envelope.ts';
import { nstring, string } from './strings.ts';

type Params = readonly (readonly [string, string])[];

function params(p: Params): string {
  if (p.length === 0) return 'NIL';
  return `(${p.map(([n, v]) => `${string(n)} ${string(v)}`).join(' ')})`;
}

function disposition(part: MimePart): string {
  const d = part.disposition;
  return d === null ? 'NIL' : `(${string(d.type)} ${params(d.params)})`;
}

function language(part: MimePart): string {
  const l = part.language;
  if (l === null || l.length === 0) return 'NIL';
  return l.length === 1 ? string(l[0]!) : `(${l.map(string).join(' ')})`;
}

function extension(part: MimePart, first: string): string {
  return ` ${first} ${disposition(part)} ${language(part)} ${nstring(part.location)}`;
}

function fields(part: MimePart): string {
  const p =
    part.type === 'text' && part.params.length === 0 ? [['charset', 'us-ascii'] as const] : part.params;
  return `${params(p)} ${nstring(part.id)} ${nstring(part.description)} ${string(part.encoding)} ${part.size}`;
}

/** The BODYSTRUCTURE (extensible) or BODY (not) of a part. */
export function renderBodyStructure(part: MimePart, extensible: boolean): string {
  if (part.type === 'multipart') {
    const children = part.children.map((c) => renderBodyStructure(c, extensible)).join('');
    const ext = extensible ? extension(part, params(part.params)) : '';
    return `(${children} ${string(part.subtype)}${ext})`;
  }
  let out = `(${string(part.type)} ${string(part.subtype)} ${fields(part)}`;
  if (part.message !== null) {
    const m = part.message;
    out += ` ${renderEnvelope(m.envelope)} ${renderBodyStructure(m.body, extensible)} ${part.lines}`;
  } else if (part.type === 'text') {
    out += ` ${part.lines}`;
  }
  if (extensible) out += extension(part, nstring(part.md5));
  return `${out})`;
}
