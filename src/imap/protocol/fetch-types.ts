// Typed forms of the FETCH, STORE, COPY/MOVE, SEARCH/SORT/THREAD commands'
// arguments (RFC 9051 §6.4, RFC 7162 CONDSTORE/QRESYNC, RFC 3516 BINARY,
// RFC 4731 ESEARCH, RFC 5256 SORT/THREAD). Produced by the grammar, consumed by
// the command handlers; no behaviour here.

import type { FetchPartial, Section } from './section.ts';
import type { SequenceSet } from './sequence.ts';

export type FetchAttribute =
  | {
      readonly kind:
        | 'UID'
        | 'FLAGS'
        | 'INTERNALDATE'
        | 'RFC822.SIZE'
        | 'ENVELOPE'
        | 'BODYSTRUCTURE'
        | 'BODY' // BODY without a section: the non-extensible bodystructure
        | 'MODSEQ' // RFC 7162 §3.1.4.1
        | 'EMAILID' // RFC 8474
        | 'THREADID'
        | 'RFC822' // = BODY[] (sets \Seen)
        | 'RFC822.HEADER' // = BODY.PEEK[HEADER]
        | 'RFC822.TEXT'; // = BODY[TEXT] (sets \Seen)
    }
  /** BODY[section]<partial> or BODY.PEEK[...] (peek: do not set \Seen). */
  | {
      readonly kind: 'BODY[]';
      readonly section: Section;
      readonly partial: FetchPartial | undefined;
      readonly peek: boolean;
    }
  /** RFC 3516: BINARY[part]<partial>, BINARY.PEEK[part]<partial>, BINARY.SIZE[part]. */
  | {
      readonly kind: 'BINARY[]' | 'BINARY.SIZE[]';
      readonly part: readonly number[];
      readonly partial: FetchPartial | undefined;
      readonly peek: boolean;
    };

export interface FetchModifiers {
  /** RFC 7162 §3.1.4: CHANGEDSINCE <modseq>. */
  readonly changedSince: bigint | undefined;
  /** RFC 7162 §3.2.6: VANISHED (UID FETCH only, needs CHANGEDSINCE). */
  readonly vanished: boolean;
}

export type SearchKey =
  | {
      readonly kind: 'all' | 'answered' | 'deleted' | 'draft' | 'flagged' | 'seen' | 'recent' | 'new' | 'old';
    }
  | { readonly kind: 'unanswered' | 'undeleted' | 'undraft' | 'unflagged' | 'unseen' }
  | { readonly kind: 'keyword' | 'unkeyword'; readonly flag: string }
  /** Text keys: substring match, case-insensitive (RFC 9051 §6.4.4). */
  | {
      readonly kind: 'bcc' | 'body' | 'cc' | 'from' | 'subject' | 'text' | 'to';
      readonly value: string;
    }
  | { readonly kind: 'header'; readonly field: string; readonly value: string }
  /** Dates are days (UTC midnight, ms) for internal date / Date: header comparisons. */
  | {
      readonly kind: 'before' | 'on' | 'since' | 'sentbefore' | 'senton' | 'sentsince';
      readonly date: number;
    }
  | { readonly kind: 'larger' | 'smaller'; readonly size: number }
  /** RFC 5032 WITHIN: OLDER / YOUNGER <seconds>. */
  | { readonly kind: 'older' | 'younger'; readonly seconds: number }
  | { readonly kind: 'uid'; readonly set: SequenceSet }
  | { readonly kind: 'seq'; readonly set: SequenceSet }
  /** RFC 7162 §3.1.5: MODSEQ [entry-name entry-type] <modseq>. */
  | { readonly kind: 'modseq'; readonly modseq: bigint }
  /** RFC 8474: EMAILID / THREADID. */
  | { readonly kind: 'emailid' | 'threadid'; readonly id: string }
  | { readonly kind: 'not'; readonly key: SearchKey }
  | { readonly kind: 'or'; readonly a: SearchKey; readonly b: SearchKey }
  | { readonly kind: 'and'; readonly keys: readonly SearchKey[] };

/** RFC 4731 / RFC 9051 §6.4.4: RETURN (MIN MAX ALL COUNT SAVE). Empty: plain SEARCH response. */
export type SearchReturn = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';

export type SortKey = {
  readonly key: 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';
  readonly reverse: boolean;
};

export type StoreAction = {
  readonly mode: 'set' | 'add' | 'remove'; // FLAGS, +FLAGS, -FLAGS
  readonly silent: boolean; // .SILENT
  readonly flags: readonly string[];
};

export type FetchStoreCommand =
  | {
      readonly name: 'FETCH' | 'UID FETCH';
      readonly set: SequenceSet;
      /** Macros (ALL, FAST, FULL) are already expanded. */
      readonly attributes: readonly FetchAttribute[];
      readonly modifiers: FetchModifiers;
    }
  | {
      readonly name: 'STORE' | 'UID STORE';
      readonly set: SequenceSet;
      /** RFC 7162 §3.1.3: UNCHANGEDSINCE <modseq>. */
      readonly unchangedSince: bigint | undefined;
      readonly action: StoreAction;
    }
  | {
      readonly name: 'COPY' | 'UID COPY' | 'MOVE' | 'UID MOVE';
      readonly set: SequenceSet;
      readonly mailbox: string;
    }
  | {
      readonly name: 'SEARCH' | 'UID SEARCH';
      readonly returns: readonly SearchReturn[] | undefined; // undefined: no RETURN clause
      readonly charset: string | undefined;
      readonly key: SearchKey; // several keys are an 'and'
    }
  | {
      readonly name: 'SORT' | 'UID SORT';
      readonly returns: readonly SearchReturn[] | undefined;
      readonly sort: readonly SortKey[];
      readonly charset: string;
      readonly key: SearchKey;
    }
  | {
      readonly name: 'THREAD' | 'UID THREAD';
      readonly algorithm: 'REFERENCES' | 'ORDEREDSUBJECT';
      readonly charset: string;
      readonly key: SearchKey;
    }
  | { readonly name: 'COMPRESS'; readonly mechanism: 'DEFLATE' }
  | { readonly name: 'GETQUOTA'; readonly root: string }
  | { readonly name: 'GETQUOTAROOT'; readonly mailbox: string }
  | { readonly name: 'SETQUOTA'; readonly root: string; readonly limits: ReadonlyMap<string, number> };
