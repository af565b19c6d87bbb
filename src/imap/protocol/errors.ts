// IMAP protocol errors raised by the framing and the grammar. They carry their
// wire form: the dispatcher answers `<tag> BAD [CODE] text` (or NO for TOOBIG on
// APPEND, RFC 7889 §4 / RFC 9051 §7.1). The text is written for the client and
// never contains internal details or the offending bytes beyond a short excerpt.

import { SealpostError } from '../../core/errors.ts';

/** Response codes the parser may attach (RFC 9051 §7.1, RFC 7888, RFC 4469). */
export type ImapParseCode = 'TOOBIG' | 'CLIENTBUG' | 'PARSE' | 'BADCHARSET';

export class ImapBad extends SealpostError {
  readonly responseCode: ImapParseCode | undefined;

  constructor(text: string, responseCode?: ImapParseCode) {
    super('input.invalid', text);
    this.name = 'ImapBad';
    this.responseCode = responseCode;
  }
}
