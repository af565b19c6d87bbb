import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseStructure } from './structure.ts';
import { extractText, htmlToText, MAX_TOKENS, tokenize } from './text.ts';

const corpus = (name: string): Buffer =>
  readFileSync(join(import.meta.dirname, '../../test/corpus/mime', name));
const textOf = (raw: Buffer, max?: number): string => extractText(raw, parseStructure(raw), max);

describe('extractText', () => {
  test('encoded words in Subject/From/To are decoded (UTF-8, ISO-8859-1, ISO-2022-JP, Shift_JIS)', () => {
    const utf8 = textOf(corpus('06-encoded-words-utf8.eml'));
    assert.match(utf8, /Grüße aus München — 日本語のテスト/);
    assert.match(utf8, /Jürgen Müller juergen@example\.test/);
    assert.match(utf8, /山田太郎/);
    const latin1 = textOf(corpus('09-encoded-words-latin1-q-b.eml'));
    assert.match(latin1, /André Pirard/);
    assert.match(latin1, /If you can read this you understand the example\./);
    assert.match(latin1, /Café crème brûlée, très\r?\nbien\./);
    assert.match(textOf(corpus('10-iso-2022-jp.eml')), /テスト[\s\S]*こんにちは/);
    assert.match(textOf(corpus('11-shift-jis-8bit.eml')), /テスト[\s\S]*こんにちは/);
  });

  test('HTML loses tags, scripts and styles; entities are decoded', () => {
    const t = textOf(corpus('02-alternative.eml'));
    assert.match(t, /ünïcödé/);
    assert.match(t, /HTML\s+version\s+& entities/);
    assert.doesNotMatch(t, /var x|<p>|<script/);
    assert.equal(htmlToText('<style>p{}</style>a&lt;b&#233;&#x41;&nbsp;<!-- c -->d<script>e'), ' a<béA  d ');
  });

  test('odd and unknown charsets: windows-1252 decoded, unknown falls back to latin1', () => {
    const t = textOf(corpus('16-odd-charsets.eml'));
    assert.match(t, /Smart “quotes” and € euro/);
    assert.match(t, /café/);
  });

  test('forwarded messages are searched too; attachments that are not text are not', () => {
    const t = textOf(corpus('05-forwarded-twice.eml'));
    assert.match(t, /Forwarding again\./);
    assert.match(t, /Forwarding this\./);
    assert.match(t, /Report and data/);
    assert.match(t, /quoted = printable ünïcödé/); // a base64 text/plain attachment two levels down
  });

  test('maxChars bounds the output', () => {
    const raw = Buffer.from(`Subject: s\r\n\r\n${'word '.repeat(100_000)}`);
    assert.ok(textOf(raw, 1000).length <= 1000);
  });
});

describe('tokenize', () => {
  test('NFKC, lower case, diacritics stripped, split on non letters/digits, unique', () => {
    assert.deepEqual(tokenize('Grüße, GRÜSSE! Ｆｕｌｌｗｉｄｔｈ café-CAFE x 42'), [
      'grusse',
      'fullwidth',
      'cafe',
      '42',
    ]);
  });
  test('tokens of 2..64 characters only', () => {
    assert.deepEqual(tokenize(`a bb ${'c'.repeat(64)} ${'d'.repeat(65)}`), ['bb', 'c'.repeat(64)]);
  });
  test(`at most ${MAX_TOKENS} unique tokens`, () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `w${i}`).join(' ');
    assert.equal(tokenize(text).length, MAX_TOKENS);
  });
  test('queries tokenize like messages', () => {
    const doc = new Set(tokenize(textOf(corpus('09-encoded-words-latin1-q-b.eml'))));
    for (const q of tokenize('CRÈME Brulee')) assert.ok(doc.has(q), q);
  });
});
