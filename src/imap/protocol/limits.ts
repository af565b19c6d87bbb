// IMAP parser limits, in one place so the stream (framing.ts) and the grammar
// (tokens.ts and friends) cannot drift apart.
// RFC 9051 §4 leaves line and literal lengths to the server; RFC 7889 (APPENDLIMIT)
// and RFC 7888 §4/§5 (LITERAL+/LITERAL-) cover the literal caps.
// Invariants: every cap is a positive integer; the framing enforces sizes before
// buffering, the grammar enforces shape (depth, item and token counts).

export interface ImapLimits {
  /** Octets of one command line, CRLF included, literal bodies excluded. */
  readonly maxLineLength: number;
  /** Octets of all line text of one command (all its segments), literals excluded. */
  readonly maxCommandLength: number;
  /** Largest literal accepted before authentication. */
  readonly maxLiteralBeforeAuth: number;
  /** Largest literal accepted after authentication: the advertised APPENDLIMIT. */
  readonly maxLiteralAfterAuth: number;
  /** Sum of literal octets in one command (a MULTIAPPEND is bounded by this). */
  readonly maxCommandLiterals: number;
  /** Literals in one command. */
  readonly maxLiteralsPerCommand: number;
  /** Largest non-synchronising literal under LITERAL- (RFC 7888 §5: 4096). */
  readonly maxLiteralMinus: number;
  /** Nesting depth of parenthesised lists. */
  readonly maxListDepth: number;
  /**
   * Numbers in a section part path (BODY[1.2.3]): as deep as MIME nesting goes
   * (mime/structure.ts MAX_DEPTH, 32), so every part BODYSTRUCTURE shows can be fetched.
   */
  readonly maxSectionDepth: number;
  /** Items in one parenthesised list. */
  readonly maxListItems: number;
  /** Tokens (atoms, strings, numbers, list openers) in one command. */
  readonly maxTokens: number;
  /** Ranges in one sequence set. */
  readonly maxSequenceRanges: number;
}

export const KIB = 1024;
export const MIB = 1024 * KIB;

export const DEFAULT_LIMITS: ImapLimits = {
  maxLineLength: 64 * KIB,
  maxCommandLength: 256 * KIB,
  maxLiteralBeforeAuth: 64 * KIB,
  maxLiteralAfterAuth: 50 * MIB,
  maxCommandLiterals: 64 * MIB,
  maxLiteralsPerCommand: 1000,
  maxLiteralMinus: 4096,
  maxListDepth: 16,
  maxSectionDepth: 32,
  maxListItems: 10_000,
  maxTokens: 20_000,
  maxSequenceRanges: 10_000,
};

/** The defaults with an operator-chosen APPENDLIMIT (and the per-command literal sum raised to match). */
export function imapLimits(appendLimit: number, overrides: Partial<ImapLimits> = {}): ImapLimits {
  if (!Number.isSafeInteger(appendLimit) || appendLimit <= 0) throw new RangeError('appendLimit must be > 0');
  const limits: ImapLimits = {
    ...DEFAULT_LIMITS,
    maxLiteralAfterAuth: appendLimit,
    maxCommandLiterals: Math.max(DEFAULT_LIMITS.maxCommandLiterals, appendLimit),
    ...overrides,
  };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new RangeError(`IMAP limit ${k} must be a positive integer`);
  }
  return limits;
}
