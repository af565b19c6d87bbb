// IMAP wire protocol, layers 1 and 2 (RFC 9051 IMAP4rev2, RFC 3501 IMAP4rev1):
// framing (bytes → commands, every size cap), grammar (one framed command →
// typed command or ImapBad), and the response encoder (`response.*`: values →
// wire text). No I/O, no storage, no session state: the server and
// the command handlers (layer 3) build on this surface.

export type { AppendMessage, Command, CommandSpec, QresyncParams } from './commands.ts';
export { COMMANDS } from './commands.ts';
export type { ImapDateTime } from './datetime.ts';
export { date, dateTime } from './datetime.ts';
export { ImapBad, type ImapBadDetail, type ImapParseCode } from './errors.ts';
export type {
  FetchAttribute,
  FetchModifiers,
  FetchStoreCommand,
  SearchKey,
  SearchReturn,
  SortKey,
  StoreAction,
} from './fetch-types.ts';
export { flag, flagList, settableFlag, settableFlagList } from './flags.ts';
export {
  type CommandPart,
  CommandReader,
  type FrameEvent,
  type Literal,
  type LiteralMode,
} from './framing.ts';
export { type ParseResult, parseCommand } from './grammar.ts';
export { DEFAULT_LIMITS, type ImapLimits, imapLimits } from './limits.ts';
export { decodeModifiedUtf7, encodeModifiedUtf7, listMailbox, mailbox } from './mailbox.ts';
export * as response from './response.ts';
export { CHARSETS, charset, searchKey, searchKeys } from './search.ts';
export {
  type FetchPartial,
  partial,
  type Section,
  type SectionText,
  section,
  sectionBinary,
} from './section.ts';
export { inSequenceSet, type SeqNumber, type SeqRange, type SequenceSet, sequenceSet } from './sequence.ts';
export { Cursor, type ParseOptions } from './tokens.ts';
