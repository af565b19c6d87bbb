// Regression tests found by the mime fuzz target (fuzz/targets/mime.ts), minimised by
// fast-check: every part's offsets lie inside its parent's body and in order, and a
// media type is made of RFC 2045 tokens.
// 1. A blank line right before a boundary line: that line end belongs to the
//    delimiter (RFC 2046 §5.1.1), so the part has a header and no body. Its body used
//    to start after the line end, inside the delimiter and past its parent's end.
// 2. A boundary line sharing its line end with the next delimiter ("--b CRLF --a"):
//    the empty part between them started after the enclosing multipart had ended.
// 3. A NUL in the Content-Type ("\0multipart/mixed") made a leaf of type "\0multipart"
//    that BODYSTRUCTURE sent as "multipart" (the renderer drops NUL): now text/plain.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderBodyStructure } from '../imap/render/bodystructure.ts';
import { parseStructure } from './structure.ts';
import type { MimePart } from './structure-types.ts';

const corpus = (name: string): Buffer =>
  readFileSync(new URL(`../../fuzz/corpus/mime/${name}`, import.meta.url));

/** Offsets inside the input, children inside their parent and in order. */
function assertNested(raw: Buffer, p: MimePart): void {
  assert.ok(p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= raw.length);
  let at = p.bodyStart;
  for (const c of p.children) {
    assert.ok(c.headerStart >= at, `child at ${c.headerStart} starts before ${at}`);
    assert.ok(c.bodyEnd <= p.bodyEnd, `child ends at ${c.bodyEnd}, after its parent (${p.bodyEnd})`);
    assertNested(raw, c);
    at = c.bodyEnd;
  }
  if (p.message !== null) assertNested(raw, p.message.body);
}

describe('parseStructure: fuzz regressions', () => {
  it('a blank line before a boundary line is the delimiter line end: header, no body', () => {
    const raw = corpus('91-regress-blank-line-before-boundary.eml');
    const s = parseStructure(raw);
    assertNested(raw, s.body);
    const inner = s.body.children[0]!;
    const leaf = inner.children[0]!;
    assert.equal(leaf.type, 'text');
    assert.equal(leaf.size, 0);
    assert.equal(raw.toString('latin1', leaf.headerStart, leaf.bodyStart), 'Content-Type: text/plain\r\n');
    assert.equal(leaf.bodyEnd, inner.bodyEnd);
  });

  it('a delimiter sharing its line end with the boundary line before it stays inside the parent', () => {
    const raw = corpus('90-regress-delimiter-shares-crlf.eml');
    assertNested(raw, parseStructure(raw).body);
  });

  it('a control character in the media type makes the Content-Type invalid (text/plain)', () => {
    const raw = corpus('92-regress-ctl-in-media-type.eml');
    const s = parseStructure(raw);
    const part = s.body.children[0]!;
    assert.equal(part.type, 'text');
    assert.equal(part.subtype, 'plain');
    assert.doesNotMatch(renderBodyStructure(s.body, true), /"multipart" "mixed"/);
  });
});
