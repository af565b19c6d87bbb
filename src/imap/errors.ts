// Command-level IMAP failures (layer 3). A handler throws ImapNo for a refusal the
// client can act on; the dispatcher answers `<tag> NO [CODE] text`. Grammar errors
// are ImapBad (protocol/errors.ts). Anything else becomes `NO [SERVERBUG]` with an
// incident id: internal text never reaches the client.
// Response codes: RFC 9051 §7.1, RFC 5530 (NONEXISTENT, ALREADYEXISTS, …),
// RFC 4315 (UIDPLUS), RFC 7162 (MODIFIED), RFC 9208 (OVERQUOTA), RFC 4978.

import { SealpostError } from '../core/errors.ts';

export class ImapNo extends SealpostError {
  /** Wire form of the response code, e.g. 'NONEXISTENT' or 'TRYCREATE'. */
  readonly responseCode: string | undefined;

  constructor(responseCode: string | undefined, text: string) {
    super('input.invalid', text);
    this.name = 'ImapNo';
    this.responseCode = responseCode;
  }
}

/** BAD raised by a handler (wrong state, a command that cannot apply). */
export class ImapCommandBad extends SealpostError {
  readonly responseCode: string | undefined;

  constructor(text: string, responseCode?: string) {
    super('input.invalid', text);
    this.name = 'ImapCommandBad';
    this.responseCode = responseCode;
  }
}
