// The parsed shape of a message as IMAP clients see it (RFC 9051 §7.5.2 ENVELOPE,
// BODYSTRUCTURE; RFC 2045/2046/2183/2231/2557): computed once at delivery by
// structure.ts, sealed with the message, and read back by FETCH. Header values are
// kept as on the wire (unfolded, encoded words NOT decoded): ENVELOPE and
// BODYSTRUCTURE carry them raw. Offsets are byte offsets into the raw message, so a
// BODY[section] fetch is a slice, never a re-parse.

/** RFC 9051 §7.5.2 address: [name, adl, mailbox, host]; a group is a start (host null) and an end (all null). */
export interface EnvelopeAddress {
  readonly name: string | null;
  readonly adl: string | null;
  readonly mailbox: string | null;
  readonly host: string | null;
}

export interface Envelope {
  readonly date: string | null;
  readonly subject: string | null;
  readonly from: readonly EnvelopeAddress[] | null;
  readonly sender: readonly EnvelopeAddress[] | null; // defaults to from (RFC 9051 §7.5.2)
  readonly replyTo: readonly EnvelopeAddress[] | null; // defaults to from
  readonly to: readonly EnvelopeAddress[] | null;
  readonly cc: readonly EnvelopeAddress[] | null;
  readonly bcc: readonly EnvelopeAddress[] | null;
  readonly inReplyTo: string | null;
  readonly messageId: string | null;
}

export interface MimePart {
  /** Byte offset where this part's header starts (for a message/rfc822 child: its body start). */
  readonly headerStart: number;
  /** Byte offset where the body starts (just after the blank line; = headerStart if no header). */
  readonly bodyStart: number;
  /** Byte offset just past the body (excludes the CRLF before the next boundary). */
  readonly bodyEnd: number;
  /** Lower-case; defaults text/plain (or message/rfc822 inside multipart/digest). */
  readonly type: string;
  readonly subtype: string;
  /** Content-Type parameters, names lower-case, RFC 2231 continuations joined, values raw. */
  readonly params: readonly (readonly [string, string])[];
  readonly id: string | null;
  readonly description: string | null;
  /** Content-Transfer-Encoding, upper-cased as clients expect ("7BIT" default). */
  readonly encoding: string;
  /** Body octets: bodyEnd - bodyStart. */
  readonly size: number;
  /** Body lines, for text/* and message/rfc822 parts. */
  readonly lines: number;
  readonly md5: string | null;
  readonly disposition: {
    readonly type: string;
    readonly params: readonly (readonly [string, string])[];
  } | null;
  readonly language: readonly string[] | null;
  readonly location: string | null;
  /** multipart/*: the children (never empty: a multipart with no parts gets one empty text/plain). */
  readonly children: readonly MimePart[];
  /** message/rfc822 (and message/global): the enclosed message's envelope and its top part. */
  readonly message: { readonly envelope: Envelope; readonly body: MimePart } | null;
}

export interface MessageStructure {
  readonly envelope: Envelope;
  readonly body: MimePart;
}
