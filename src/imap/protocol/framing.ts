// IMAP framing (layer 1): bytes in, arbitrarily chunked; complete commands out as
// line segments and literals. RFC 9051 §2.2 and §4.3 (literals), RFC 7888 (LITERAL+ /
// LITERAL-), RFC 3516 (literal8 `~{n}`), RFC 9051 §7.9 (the `+` continuation).
//
// Invariants:
// - Nothing is buffered beyond the limits in limits.ts: a line longer than
//   maxLineLength is dropped while it streams in and the reader resynchronises at
//   the next LF; a literal over the limit is never read.
// - A synchronising literal over the limit gets an error and NO continuation
//   request, so the client never sends it (RFC 7888 §4, RFC 9051 §7.9). A
//   non-synchronising one over the limit is already on its way: the error is
//   fatal and the server must answer BYE and close. Skipping its bytes is
//   unbounded, and reading them as the next command would be a command-injection
//   vector.
// - The `{n}` marker is recognised at the end of any line, even one that the
//   grammar later rejects (an unterminated quoted string): the literal is still
//   read within the limits, then the whole command gets BAD.
// - Lines must end with CRLF. Strict: a bare LF ends the line but the command is
//   rejected with BAD (no bare-LF smuggling). A CR elsewhere is left to the grammar,
//   which rejects it as it is not a valid character outside literals.
// - Line segments are latin1 strings (one char per octet, so lengths are octets);
//   the grammar decides how to decode 8-bit text. Literals are Buffers.
// - `next()` yields one event at a time, so a caller that handles STARTTLS calls
//   `reset()` before looking at anything that followed it: all buffered bytes are
//   discarded (plaintext command injection defence, RFC 9051 §11.1, DESIGN.md #3).

import { ImapBad } from './errors.ts';
import type { ImapLimits } from './limits.ts';

export interface Literal {
  readonly data: Buffer;
  /** literal8 (`~{n}`, RFC 3516): may contain NUL. */
  readonly binary: boolean;
}

/** Alternating text and literals; a text segment before a literal ends with its `{n}` marker. */
export type CommandPart = string | Literal;

export type FrameEvent =
  | { readonly kind: 'command'; readonly parts: readonly CommandPart[] }
  /** Send `+ ` now: a synchronising literal was accepted and the client waits for it. */
  | { readonly kind: 'continue' }
  /** Reply `<tag> BAD` (or `NO [TOOBIG]` for APPEND); if fatal, `* BYE` and close. */
  | {
      readonly kind: 'error';
      readonly error: ImapBad;
      readonly tag: string | undefined;
      readonly fatal: boolean;
    };

/** `literal-plus`: LITERAL+ advertised; `literal-minus`: only LITERAL- (IMAP4rev2 baseline). */
export type LiteralMode = 'literal-plus' | 'literal-minus';

// RFC 9051 §4.3 / RFC 3516: "{" number64 ["+"] "}" CRLF, optionally preceded by "~".
const LITERAL_MARKER = /(~?)\{([0-9]+)(\+?)\}$/;
/** RFC 9051 `tag`: 1*<any ASTRING-CHAR except "+">. */
export const TAG = /^[^\x00-\x20\x7f-\xff(){%*"\\+]+$/;
const TAG_PREFIX = /^([^\x00-\x20\x7f-\xff(){%*"\\+]{1,64}) /;
// A rejected line that ended in a non-synchronising literal: its octets follow
// regardless, and must never be read as commands.
const NON_SYNC_END = /\{[0-9]+\+\}\r?\n$/;
const TAIL = 40;
const MAX_DIGITS = 15; // anything longer is over every limit and beyond Number precision

type Mode =
  | { readonly name: 'line' }
  | { readonly name: 'literal'; remaining: number; readonly binary: boolean }
  /** Dropping an over-long line; `tail` keeps its last octets to spot a trailing `{n+}`. */
  | { readonly name: 'discard'; readonly tag: string | undefined; tail: string }
  | { readonly name: 'closed' };

export class CommandReader {
  readonly #limits: ImapLimits;
  #literalMode: LiteralMode;
  #authenticated = false;
  #input: Buffer[] = [];
  #mode: Mode = { name: 'line' };
  #line: Buffer[] = [];
  #lineLength = 0;
  #commandLength = 0;
  #literal: Buffer[] = [];
  #literalTotal = 0;
  #parts: CommandPart[] = [];

  constructor(limits: ImapLimits, literalMode: LiteralMode = 'literal-minus') {
    this.#limits = limits;
    this.#literalMode = literalMode;
  }

  /** After LOGIN/AUTHENTICATE succeeds the literal cap rises to the APPENDLIMIT. */
  setAuthenticated(authenticated: boolean): void {
    this.#authenticated = authenticated;
  }

  setLiteralMode(mode: LiteralMode): void {
    this.#literalMode = mode;
  }

  get literalLimit(): number {
    return this.#authenticated ? this.#limits.maxLiteralAfterAuth : this.#limits.maxLiteralBeforeAuth;
  }

  /** Queue received bytes; call next() until it returns undefined. */
  push(chunk: Buffer): void {
    if (this.#mode.name !== 'closed' && chunk.length > 0) this.#input.push(chunk);
  }

  /** Discard everything buffered and start afresh (after STARTTLS, RFC 9051 §11.1). */
  reset(): void {
    this.#input = [];
    this.#mode = { name: 'line' };
    this.#resetCommand();
  }

  /** The next event, or undefined when more bytes are needed. */
  next(): FrameEvent | undefined {
    while (this.#input.length > 0) {
      const chunk = this.#input[0]!;
      const { consumed, event } = this.#step(chunk);
      if (this.#input[0] === chunk) {
        // (a fatal error empties the queue: nothing is put back)
        if (consumed >= chunk.length) this.#input.shift();
        else this.#input[0] = chunk.subarray(consumed);
      }
      if (event) return event;
    }
    return undefined;
  }

  #step(chunk: Buffer): { consumed: number; event?: FrameEvent | undefined } {
    switch (this.#mode.name) {
      case 'closed':
        return { consumed: chunk.length };
      case 'discard': {
        const mode = this.#mode;
        const lf = chunk.indexOf(0x0a);
        const end = lf < 0 ? chunk.length : lf + 1;
        mode.tail = (mode.tail + chunk.toString('latin1', Math.max(0, end - TAIL), end)).slice(-TAIL);
        if (lf < 0) return { consumed: chunk.length };
        this.#mode = { name: 'line' };
        const error = new ImapBad('Command line too long', 'TOOBIG');
        return { consumed: end, event: this.#error(error, mode.tag, NON_SYNC_END.test(mode.tail)) };
      }
      case 'literal': {
        const mode = this.#mode;
        const take = Math.min(mode.remaining, chunk.length);
        if (take > 0) this.#literal.push(chunk.subarray(0, take));
        mode.remaining -= take;
        if (mode.remaining === 0) {
          this.#parts.push({ data: Buffer.concat(this.#literal), binary: mode.binary });
          this.#literal = [];
          this.#mode = { name: 'line' };
        }
        return { consumed: take };
      }
      case 'line':
        return this.#stepLine(chunk);
    }
  }

  #stepLine(chunk: Buffer): { consumed: number; event?: FrameEvent | undefined } {
    const lf = chunk.indexOf(0x0a);
    const piece = lf < 0 ? chunk : chunk.subarray(0, lf + 1);
    this.#lineLength += piece.length;
    this.#commandLength += piece.length;
    if (
      this.#lineLength > this.#limits.maxLineLength ||
      this.#commandLength > this.#limits.maxCommandLength
    ) {
      // Reported when the line ends, so a trailing `{n+}` can make the error fatal.
      const tag = this.#tag(this.#line[0] ?? piece);
      this.#resetCommand();
      this.#mode = { name: 'discard', tag, tail: '' };
      return { consumed: 0 };
    }
    this.#line.push(piece);
    if (lf < 0) return { consumed: chunk.length };

    const raw = Buffer.concat(this.#line);
    this.#line = [];
    this.#lineLength = 0;
    if (raw.length < 2 || raw[raw.length - 2] !== 0x0d) {
      const tag = this.#tag(raw);
      this.#resetCommand();
      const fatal = NON_SYNC_END.test(raw.toString('latin1', Math.max(0, raw.length - TAIL)));
      return {
        consumed: piece.length,
        event: this.#error(new ImapBad('Line must end with CRLF'), tag, fatal),
      };
    }
    const text = raw.toString('latin1', 0, raw.length - 2);
    return { consumed: piece.length, event: this.#endOfLine(text) };
  }

  #endOfLine(text: string): FrameEvent | undefined {
    const m = LITERAL_MARKER.exec(text);
    if (!m) {
      this.#parts.push(text);
      const event: FrameEvent = { kind: 'command', parts: this.#parts };
      this.#resetCommand();
      return event;
    }
    const binary = m[1] === '~';
    const digits = m[2]!.replace(/^0+(?=.)/, '');
    const nonSync = m[3] === '+';
    const size = digits.length > MAX_DIGITS ? Number.POSITIVE_INFINITY : Number(digits);
    const tag = this.#tag(Buffer.from(typeof this.#parts[0] === 'string' ? this.#parts[0] : text, 'latin1'));
    const cap = nonSync && this.#literalMode === 'literal-minus' ? this.#limits.maxLiteralMinus : Infinity;
    const tooMany = this.#parts.length / 2 + 1 > this.#limits.maxLiteralsPerCommand;
    const tooBig =
      size > this.literalLimit || size > cap || this.#literalTotal + size > this.#limits.maxCommandLiterals;
    if (tooBig || tooMany) {
      this.#resetCommand();
      // A non-synchronising literal is already on the wire and may be any size: close.
      if (nonSync) this.#mode = { name: 'closed' };
      const why = tooMany ? 'Too many literals in one command' : 'Literal too big';
      return this.#error(new ImapBad(why, 'TOOBIG'), tag, nonSync);
    }
    this.#parts.push(text);
    this.#literalTotal += size;
    this.#mode = { name: 'literal', remaining: size, binary };
    if (size === 0) this.#step(Buffer.alloc(0));
    return nonSync ? undefined : { kind: 'continue' };
  }

  #error(error: ImapBad, tag: string | undefined, fatal: boolean): FrameEvent {
    if (fatal) {
      this.#mode = { name: 'closed' };
      this.#input = [];
    }
    return { kind: 'error', error, tag, fatal };
  }

  #tag(start: Buffer): string | undefined {
    const first = this.#parts[0];
    const head = typeof first === 'string' ? first : start.toString('latin1', 0, 80);
    return TAG_PREFIX.exec(head)?.[1];
  }

  #resetCommand(): void {
    this.#line = [];
    this.#lineLength = 0;
    this.#commandLength = 0;
    this.#literal = [];
    this.#literalTotal = 0;
    this.#parts = [];
  }
}
