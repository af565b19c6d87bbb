// IMAP protocol errors raised by the framing and the grammar. They carry their
// wire form: the dispatcher answers `<tag> <status> [<codeText>] text`. The status
// is BAD except where an RFC asks for NO: an unsupported SEARCH/SORT/THREAD
// charset (RFC 9051 §6.4.4, RFC 5256 §3: "a tagged NO response (not a BAD)"), a
// special-use attribute CREATE cannot assign (RFC 6154 §5.2); the dispatcher also
// answers NO for TOOBIG on APPEND (RFC 7889 §4 / RFC 9051 §7.1). The text is
// written for the client and never contains internal details or the offending
// bytes beyond a short excerpt.

import { SealpostError } from '../../core/errors.ts';

/** Response codes the parser may attach (RFC 9051 §7.1, RFC 7888, RFC 4469, RFC 6154). */
export type ImapParseCode = 'TOOBIG' | 'CLIENTBUG' | 'PARSE' | 'BADCHARSET' | 'USEATTR';

export interface ImapBadDetail {
  /** Arguments of the response code, e.g. `(UTF-8 US-ASCII)` after BADCHARSET. */
  readonly codeArgs?: string;
  readonly status?: 'BAD' | 'NO';
}

export class ImapBad extends SealpostError {
  readonly responseCode: ImapParseCode | undefined;
  /** What goes between the brackets: the code and its arguments (`BADCHARSET (UTF-8 US-ASCII)`). */
  readonly codeText: string | undefined;
  /** The tagged status to answer with. */
  readonly status: 'BAD' | 'NO';

  constructor(text: string, responseCode?: ImapParseCode, detail: ImapBadDetail = {}) {
    super('input.invalid', text);
    this.name = 'ImapBad';
    this.responseCode = responseCode;
    this.codeText =
      responseCode && detail.codeArgs !== undefined ? `${responseCode} ${detail.codeArgs}` : responseCode;
    this.status = detail.status ?? 'BAD';
  }
}
