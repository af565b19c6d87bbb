// IMAP grammar primitives (layer 2): a cursor over one framed command.
// RFC 9051 §9 (formal syntax) with RFC 3501 §9 where they differ; RFC 6855 §3
// (8-bit quoted strings only in UTF-8 mode); RFC 3516 (literal8).
//
// Invariants:
// - Pure: no I/O, no state beyond the cursor. Every failure is an ImapBad; the
//   parser never throws anything else.
// - Token count and list depth/items are bounded by limits.ts.
// - Segments are latin1 (one char per octet, see framing.ts); 8-bit text is
//   decoded as strict UTF-8 and only where the grammar allows it.

import { ImapBad } from './errors.ts';
import type { CommandPart, Literal } from './framing.ts';
import type { ImapLimits } from './limits.ts';

export interface ParseOptions {
  readonly limits: ImapLimits;
  /** UTF8=ACCEPT enabled (RFC 9051 / RFC 6855): 8-bit quoted strings, no modified UTF-7. */
  readonly utf8: boolean;
}

// ATOM-CHAR: any CHAR except atom-specials: ( ) { SP CTL % * " \ ]
const ATOM = /[^\x00-\x20\x7f-\xff(){%*"\\\]]+/y;
// ASTRING-CHAR: ATOM-CHAR / resp-specials ("]")
const ASTRING_ATOM = /[^\x00-\x20\x7f-\xff(){%*"\\]+/y;
const DIGITS = /[0-9]+/y;
const LITERAL = /(~?)\{([0-9]+)(\+?)\}$/y;
// ignoreBOM: a leading U+FEFF is content (part of a password or a name), not a byte-order mark to strip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const MAX_NUMBER = 0xffff_ffff; // RFC 9051 number: 32-bit unsigned
export const MAX_MODSEQ = 0x7fff_ffff_ffff_ffffn;
export const MAX_NUMBER64 = Number.MAX_SAFE_INTEGER; // RFC 9051 number64 is 63-bit; we cap at 2^53-1

export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new ImapBad(`Invalid UTF-8 in ${what}`);
  }
}

export class Cursor {
  readonly options: ParseOptions;
  readonly #parts: readonly CommandPart[];
  #index = 0;
  #pos = 0;
  #tokens = 0;
  #depth = 0;

  constructor(parts: readonly CommandPart[], options: ParseOptions) {
    if (parts.length % 2 !== 1 || typeof parts[0] !== 'string') throw new ImapBad('Malformed command');
    this.#parts = parts;
    this.options = options;
  }

  get #text(): string {
    const s = this.#parts[this.#index];
    return typeof s === 'string' ? s : '';
  }

  /** The next character of the current line segment, or undefined at its end. */
  peek(): string | undefined {
    return this.#text[this.#pos];
  }

  /** True when the rest of the current segment starts with `s` (case-insensitive). */
  lookingAt(s: string): boolean {
    return this.#text.slice(this.#pos, this.#pos + s.length).toUpperCase() === s.toUpperCase();
  }

  /** The unread rest of the current line segment (for fixed-shape tokens such as dates). */
  restOfSegment(): string {
    return this.#text.slice(this.#pos);
  }

  /** Advance over `n` characters already validated by the caller. */
  skip(n: number): void {
    this.#count();
    this.#pos = Math.min(this.#pos + n, this.#text.length);
  }

  atEnd(): boolean {
    return this.#index === this.#parts.length - 1 && this.#pos === this.#text.length;
  }

  bad(text: string): never {
    throw new ImapBad(text);
  }

  expectEnd(): void {
    if (!this.atEnd()) this.bad('Unexpected characters at end of command');
  }

  /** Consume `s` if it is next (case-insensitive); report whether it was. */
  maybe(s: string): boolean {
    if (!this.lookingAt(s)) return false;
    this.#pos += s.length;
    return true;
  }

  expect(s: string, what = `"${s}"`): void {
    if (!this.maybe(s)) this.bad(`Expected ${what}`);
  }

  sp(): void {
    this.expect(' ', 'a single space');
  }

  #count(): void {
    this.#tokens += 1;
    if (this.#tokens > this.options.limits.maxTokens)
      throw new ImapBad('Command has too many tokens', 'TOOBIG');
  }

  #match(re: RegExp): string | undefined {
    re.lastIndex = this.#pos;
    const m = re.exec(this.#text);
    if (!m) return undefined;
    this.#pos += m[0].length;
    return m[0];
  }

  /** One token matching a sticky regular expression (for grammar rules such as list-mailbox). */
  token(re: RegExp, what: string): string {
    this.#count();
    return this.#match(re) ?? this.bad(`Expected ${what}`);
  }

  atom(): string {
    this.#count();
    return this.#match(ATOM) ?? this.bad('Expected an atom');
  }

  /** An atom compared case-insensitively: returned upper-cased. */
  keyword(): string {
    return this.atom().toUpperCase();
  }

  #digits(max: number, what: string): number {
    this.#count();
    const d = this.#match(DIGITS) ?? this.bad(`Expected ${what}`);
    const n = d.length > 16 ? Number.POSITIVE_INFINITY : Number(d);
    if (n > max) this.bad(`${what} out of range`);
    return n;
  }

  number(): number {
    return this.#digits(MAX_NUMBER, 'a number');
  }

  number64(): number {
    return this.#digits(MAX_NUMBER64, 'a number');
  }

  /** RFC 7162 mod-sequence-value: 63-bit unsigned, as a bigint (real values exceed 2^53). */
  modSeq(): bigint {
    this.#count();
    const d = this.#match(DIGITS) ?? this.bad('Expected a mod-sequence');
    const n = d.length > 19 ? MAX_MODSEQ + 1n : BigInt(d);
    if (n > MAX_MODSEQ) this.bad('mod-sequence out of range');
    return n;
  }

  nzNumber(): number {
    const n = this.#digits(MAX_NUMBER, 'a non-zero number');
    if (n === 0) this.bad('Number must not be zero');
    return n;
  }

  /** RFC 9051 quoted: DQUOTE *QUOTED-CHAR DQUOTE; escapes only for \ and ". */
  quoted(): string {
    this.#count();
    this.expect('"', 'a quoted string');
    const text = this.#text;
    let out = '';
    let eightBit = false;
    for (;;) {
      const c = text.charCodeAt(this.#pos++);
      if (Number.isNaN(c)) this.bad('Unterminated quoted string');
      if (c === 0x22) break;
      if (c === 0x5c) {
        const e = text[this.#pos++];
        if (e !== '\\' && e !== '"') this.bad('Invalid escape in quoted string');
        out += e;
      } else if (c === 0x00 || c === 0x0a || c === 0x0d) {
        this.bad('Invalid character in quoted string');
      } else {
        if (c >= 0x80) eightBit = true;
        out += text[this.#pos - 1];
      }
    }
    if (!eightBit) return out;
    if (!this.options.utf8) this.bad('8-bit characters in a quoted string need UTF8=ACCEPT');
    return decodeUtf8(Buffer.from(out, 'latin1'), 'quoted string');
  }

  atLiteral(): boolean {
    LITERAL.lastIndex = this.#pos;
    return LITERAL.test(this.#text);
  }

  /** A literal (or literal8 when allowed) whose `{n}` marker ends the current segment. */
  literal(allowBinary = false): Literal {
    this.#count();
    LITERAL.lastIndex = this.#pos;
    const m = LITERAL.exec(this.#text) ?? this.bad('Expected a literal');
    const literal = this.#parts[this.#index + 1];
    if (typeof literal !== 'object') return this.bad('Expected a literal');
    if (literal.data.length !== Number(m[2])) this.bad('Literal length mismatch');
    if (m[1] === '~' && !allowBinary) this.bad('literal8 not allowed here');
    if (!literal.binary && literal.data.includes(0)) this.bad('NUL in a literal; use literal8 (BINARY)');
    this.#index += 2;
    this.#pos = 0;
    return literal;
  }

  /** string = quoted / literal, as text (strict UTF-8 for literals). */
  string(): string {
    if (this.peek() === '"') return this.quoted();
    return decodeUtf8(this.literal().data, 'literal');
  }

  astring(): string {
    const c = this.peek();
    if (c === '"' || c === '{') return this.string();
    this.#count();
    return this.#match(ASTRING_ATOM) ?? this.bad('Expected a string');
  }

  /** nstring = string / NIL; returns null for NIL. */
  nstring(): string | null {
    const c = this.peek();
    if (c === '"' || c === '{') return this.string();
    if (this.keyword() === 'NIL') return null;
    return this.bad('Expected a string or NIL');
  }

  /**
   * Run `f` one nesting level deeper. Every recursive grammar rule goes through
   * here (lists, SEARCH NOT/OR), so recursion is bounded by maxListDepth.
   */
  nested<T>(f: () => T): T {
    this.#depth += 1;
    if (this.#depth > this.options.limits.maxListDepth)
      throw new ImapBad('Command nested too deeply', 'TOOBIG');
    try {
      return f();
    } finally {
      this.#depth -= 1;
    }
  }

  /** "(" [item *(SP item)] ")" — with `allowEmpty` false at least one item. */
  list<T>(item: (c: Cursor) => T, allowEmpty = true): T[] {
    this.#count();
    this.expect('(', 'a parenthesised list');
    return this.nested(() => {
      const items: T[] = [];
      if (!this.maybe(')')) {
        do {
          if (items.length >= this.options.limits.maxListItems) throw new ImapBad('List too long', 'TOOBIG');
          items.push(item(this));
        } while (this.maybe(' '));
        this.expect(')', 'a closing parenthesis');
      } else if (!allowEmpty) {
        this.bad('Empty list');
      }
      return items;
    });
  }
}
