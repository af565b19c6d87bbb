// Framing for the outbound SMTP client: bytes from the next hop to replies.
// RFC 5321 §4.2 (reply syntax), §4.2.1 (multi-line replies: "250-" continues, "250 "
// ends, every line carries the same code), RFC 3463 + RFC 2034 (enhanced status codes
// at the start of the text).
//
// Invariants:
// - Every size cap is enforced here, before a reply is built: a line longer than
//   REPLY_LIMITS.maxLineLength or a reply of more than REPLY_LIMITS.maxLines lines is a
//   protocol error, never an unbounded buffer.
// - A line that is not "ddd", "ddd text" or "ddd-text" with 2 <= d1 <= 5 is a protocol
//   error; so is a continuation line whose code differs from the first line's.
// - The reader never interprets replies: it only frames them. `pendingBytes` lets the
//   STARTTLS step see whether the server sent more than the one reply (injection).

export interface ReplyLimits {
  readonly maxLineLength: number;
  readonly maxLines: number;
}

export const REPLY_LIMITS: ReplyLimits = Object.freeze({
  /** Octets per reply line, without the line end (RFC 5321 §4.5.3.1.5 says 512; real servers exceed it). */
  maxLineLength: 4096,
  /** Lines per multi-line reply (an EHLO with every extension is about 20). */
  maxLines: 200,
});

export interface SmtpReply {
  readonly code: number;
  /** RFC 3463 enhanced status code ("5.1.1") when the first line carries one whose class matches the code. */
  readonly enhanced: string | null;
  /** The text of every line, code (and enhanced code) stripped. */
  readonly lines: readonly string[];
  /** The lines joined with a space: for reports and logs of the reply. */
  readonly text: string;
}

export type ReplyKind = 'ok' | 'intermediate' | 'temporary' | 'permanent';

export function replyKind(code: number): ReplyKind {
  if (code < 300) return 'ok';
  if (code < 400) return 'intermediate';
  if (code < 500) return 'temporary';
  return 'permanent';
}

/** A reply line that breaks the framing rules; the connection cannot continue. */
export class ReplyFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyFramingError';
  }
}

const LINE = /^([2-5][0-9][0-9])(?:([ -])(.*))?$/s;
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?: +|$)/;

interface ParsedLine {
  readonly code: number;
  readonly last: boolean;
  readonly text: string;
}

function parseLine(line: string): ParsedLine {
  const m = LINE.exec(line);
  if (m === null) throw new ReplyFramingError(`malformed reply line: ${JSON.stringify(line.slice(0, 80))}`);
  return { code: Number(m[1]), last: m[2] !== '-', text: m[3] ?? '' };
}

/** Split an enhanced status code off a line's text if it matches the reply's class. */
function splitEnhanced(code: number, text: string): { enhanced: string | null; rest: string } {
  const m = ENHANCED.exec(text);
  if (m === null || Number(m[1]) !== Math.floor(code / 100)) return { enhanced: null, rest: text };
  return { enhanced: `${m[1]}.${Number(m[2])}.${Number(m[3])}`, rest: text.slice(m[0].length) };
}

function buildReply(parsed: readonly ParsedLine[]): SmtpReply {
  const code = parsed[0]!.code;
  const first = splitEnhanced(code, parsed[0]!.text);
  const lines = parsed.map((p) => {
    if (first.enhanced === null) return p.text;
    return splitEnhanced(code, p.text).rest;
  });
  return { code, enhanced: first.enhanced, lines, text: lines.join(' ').trim() };
}

/**
 * Incremental reply reader: feed it whatever the socket delivers, take replies out.
 * Lines end at LF; a CR before it is dropped (a bare-LF server is tolerated on input,
 * RFC 5321 §4.1.1 lets a client be liberal in what it reads).
 */
export class ReplyReader {
  readonly #limits: ReplyLimits;
  #partial: Buffer[] = [];
  #partialLength = 0;
  #lines: ParsedLine[] = [];
  readonly #ready: SmtpReply[] = [];

  constructor(limits: Partial<ReplyLimits> = {}) {
    this.#limits = { ...REPLY_LIMITS, ...limits };
  }

  /** Frame the bytes; throws ReplyFramingError on the first violation (the reader is then unusable). */
  feed(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(0x0a, pos);
      const end = lf === -1 ? chunk.length : lf;
      const piece = chunk.subarray(pos, end);
      // +1 allows the CR that precedes the LF.
      if (this.#partialLength + piece.length > this.#limits.maxLineLength + 1) {
        throw new ReplyFramingError(`reply line longer than ${this.#limits.maxLineLength} octets`);
      }
      this.#partial.push(piece);
      this.#partialLength += piece.length;
      if (lf === -1) return;
      this.#endLine();
      pos = lf + 1;
    }
  }

  #endLine(): void {
    let raw = Buffer.concat(this.#partial, this.#partialLength);
    this.#partial = [];
    this.#partialLength = 0;
    if (raw.length > 0 && raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, raw.length - 1);
    if (raw.length > this.#limits.maxLineLength) {
      throw new ReplyFramingError(`reply line longer than ${this.#limits.maxLineLength} octets`);
    }
    // Reply text is ASCII (RFC 5321 §4.2); UTF-8 is decoded leniently, never trusted.
    const parsed = parseLine(raw.toString('utf8'));
    const first = this.#lines[0];
    if (first !== undefined && first.code !== parsed.code) {
      throw new ReplyFramingError(`multi-line reply changed code from ${first.code} to ${parsed.code}`);
    }
    this.#lines.push(parsed);
    if (this.#lines.length > this.#limits.maxLines) {
      throw new ReplyFramingError(`reply longer than ${this.#limits.maxLines} lines`);
    }
    if (!parsed.last) return;
    this.#ready.push(buildReply(this.#lines));
    this.#lines = [];
  }

  /** The next complete reply, if one has arrived. */
  take(): SmtpReply | undefined {
    return this.#ready.shift();
  }

  /** Complete replies waiting plus bytes of a reply still arriving (0 = nothing buffered). */
  get pendingBytes(): number {
    let n = this.#partialLength;
    for (const l of this.#lines) n += l.text.length + 4;
    for (const r of this.#ready) n += r.text.length + 4;
    return n;
  }
}
