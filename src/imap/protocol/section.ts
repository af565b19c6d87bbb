// FETCH body sections: RFC 9051 §6.4.5 and §9 `section`, `section-spec`,
// `section-part`, `section-text`, `header-list`, `partial`; RFC 3516 `section-binary`.
// Invariants: the result is a typed structure; MIME is only valid after a part
// number; part numbers are nz-numbers; partial lengths are nz-numbers.

import { ImapBad } from './errors.ts';
import type { Cursor } from './tokens.ts';

export type SectionText =
  | { readonly kind: 'header' }
  | { readonly kind: 'header.fields'; readonly not: boolean; readonly fields: readonly string[] }
  | { readonly kind: 'text' }
  | { readonly kind: 'mime' };

export interface Section {
  /** Part path, e.g. [1, 2] for "1.2"; empty for the whole message. */
  readonly part: readonly number[];
  readonly text: SectionText | undefined;
}

export interface FetchPartial {
  readonly offset: number;
  readonly length: number;
}

function sectionText(c: Cursor, afterPart: boolean): SectionText {
  const word = c.keyword();
  if (word === 'TEXT') return { kind: 'text' };
  if (word === 'MIME' && afterPart) return { kind: 'mime' };
  if (word === 'HEADER') return { kind: 'header' };
  if (word === 'HEADER.FIELDS' || word === 'HEADER.FIELDS.NOT') {
    c.sp();
    const fields = c.list((l) => l.astring(), false);
    return { kind: 'header.fields', not: word.endsWith('.NOT'), fields: fields.map((f) => f.toLowerCase()) };
  }
  throw new ImapBad(`Unknown section text ${word.slice(0, 20)}`);
}

/** "[" [section-spec] "]" */
export function section(c: Cursor): Section {
  c.expect('[', 'a section');
  const part: number[] = [];
  let text: SectionText | undefined;
  while (c.peek() !== undefined && /[0-9]/.test(c.peek()!)) {
    part.push(c.nzNumber());
    if (part.length > c.options.limits.maxSectionDepth)
      throw new ImapBad('Section part nested too deeply', 'TOOBIG');
    if (!c.maybe('.')) break;
    if (!/[0-9]/.test(c.peek() ?? '')) {
      text = sectionText(c, true);
      break;
    }
  }
  if (part.length === 0 && c.peek() !== ']') text = sectionText(c, false);
  c.expect(']', 'end of section');
  return { part, text };
}

/** section-binary = "[" [section-part] "]" */
export function sectionBinary(c: Cursor): readonly number[] {
  c.expect('[', 'a section');
  const part: number[] = [];
  if (c.peek() !== ']') {
    do {
      part.push(c.nzNumber());
      if (part.length > c.options.limits.maxSectionDepth)
        throw new ImapBad('Section part nested too deeply', 'TOOBIG');
    } while (c.maybe('.'));
  }
  c.expect(']', 'end of section');
  return part;
}

/** Optional partial = "<" number64 "." nz-number64 ">" */
export function partial(c: Cursor): FetchPartial | undefined {
  if (!c.maybe('<')) return undefined;
  const offset = c.number64();
  c.expect('.');
  const length = c.number64();
  if (length === 0) c.bad('Partial length must not be zero');
  c.expect('>');
  return { offset, length };
}
