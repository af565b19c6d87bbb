// POP3 framing (layer 1): bytes to lines. A line ends at LF; a CR before it is
// dropped (RFC 1939 §3 lines end in CRLF; a bare LF is accepted from clients, it
// cannot smuggle anything into a line-based command protocol).
//
// Invariants:
// - A line longer than the limit given to next() (CRLF included, RFC 2449 §4) is
//   reported once as 'too-long' and its remaining bytes are discarded up to its LF;
//   it is never executed, not even in part.
// - Memory is bounded: the caller pauses input above INPUT_HIGH_WATER (pending()),
//   and a line being discarded holds no bytes. A discarded line that goes on past
//   MAX_DISCARD is reported as 'flood' (the connection should be closed).
// - reset() forgets every buffered byte (STLS: nothing sent before the handshake
//   is ever executed, DESIGN invariant 3).

import { MAX_DISCARD } from './limits.ts';

export type LineEvent =
  | { readonly kind: 'line'; readonly line: Buffer }
  | { readonly kind: 'too-long' }
  | { readonly kind: 'flood' };

const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  #buf: Buffer = Buffer.alloc(0);
  #offset = 0;
  /** Bytes of the current over-long line thrown away so far, or -1 when not discarding. */
  #discarded = -1;

  push(chunk: Buffer): void {
    if (this.#discarded >= 0) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) {
        this.#discarded += chunk.length;
        return;
      }
      this.#discarded = -1;
      chunk = chunk.subarray(lf + 1);
    }
    if (chunk.length === 0) return;
    const rest = this.#buf.subarray(this.#offset);
    this.#buf = rest.length === 0 ? Buffer.from(chunk) : Buffer.concat([rest, chunk]);
    this.#offset = 0;
  }

  /** Bytes received and not yet returned as lines. */
  pending(): number {
    return this.#buf.length - this.#offset;
  }

  /** The next complete line (without its CRLF), or undefined until more bytes arrive. */
  next(maxLine: number): LineEvent | undefined {
    if (this.#discarded > MAX_DISCARD) {
      this.#discarded = 0;
      return { kind: 'flood' };
    }
    const lf = this.#buf.indexOf(LF, this.#offset);
    if (lf < 0) {
      if (this.pending() < maxLine) return undefined;
      // Already longer than allowed and no end in sight: report it, drop its bytes.
      this.#discarded = this.pending();
      this.#buf = Buffer.alloc(0);
      this.#offset = 0;
      return { kind: 'too-long' };
    }
    const start = this.#offset;
    this.#offset = lf + 1;
    if (lf + 1 - start > maxLine) return { kind: 'too-long' };
    const end = lf > start && this.#buf[lf - 1] === CR ? lf - 1 : lf;
    return { kind: 'line', line: this.#buf.subarray(start, end) };
  }

  reset(): void {
    this.#buf = Buffer.alloc(0);
    this.#offset = 0;
    this.#discarded = -1;
  }
}
