// LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348); LSUB for IMAP4rev1 clients
// (RFC 3501 §6.3.9). Wildcards: `*` matches anything, `%` anything but the
// delimiter. A name that exists only as the parent of others is listed as
// \NonExistent (rev2) / \Noselect (rev1) so clients can draw the tree.

import type { Mailbox } from '../../store/types.ts';
import { accountOf } from '../account.ts';
import { define, ok } from '../handler.ts';
import { ancestors, DELIMITER } from '../mailbox-names.ts';
import { AUTHENTICATED } from '../session.ts';
import { mailboxWire } from '../wire.ts';
import { statusItems } from './mailboxes.ts';

function patternRegex(pattern: string, caseInsensitive: boolean): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += '[^/]*';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'iu' : 'u');
}

/** RFC 9051 §6.3.9: the reference is prepended to the pattern (one delimiter between). */
function fullPattern(reference: string, pattern: string): string {
  if (reference === '' || pattern.startsWith(DELIMITER)) return pattern;
  return reference.endsWith(DELIMITER) ? reference + pattern : `${reference}${DELIMITER}${pattern}`;
}

function matcher(reference: string, patterns: readonly string[]): (name: string) => boolean {
  const res = patterns.map((p) => {
    const full = fullPattern(reference, p);
    return { exact: patternRegex(full, false), inbox: patternRegex(full, true) };
  });
  return (name) =>
    res.some(
      (r) => r.exact.test(name) || ((name === 'INBOX' || name.startsWith('INBOX/')) && r.inbox.test(name)),
    );
}

interface Node {
  readonly name: string;
  readonly box: Mailbox | null; // null: exists only as a parent
  hasChildren: boolean;
  subscribedChild: boolean;
}

function tree(boxes: readonly Mailbox[]): Map<string, Node> {
  const nodes = new Map<string, Node>();
  for (const b of boxes)
    nodes.set(b.name, { name: b.name, box: b, hasChildren: false, subscribedChild: false });
  for (const b of boxes) {
    for (const a of ancestors(b.name)) {
      let n = nodes.get(a);
      if (n === undefined) {
        n = { name: a, box: null, hasChildren: false, subscribedChild: false };
        nodes.set(a, n);
      }
      n.hasChildren = true;
      if (b.subscribed) n.subscribedChild = true;
    }
  }
  return nodes;
}

/**
 * LSUB answers (RFC 3501 §6.3.9): every subscribed name that matches; and, for a
 * pattern with `%`, when a subscribed name does not match but one of its ancestors
 * does, that ancestor, flagged \Noselect unless it is itself subscribed.
 */
function lsubEntries(
  boxes: readonly Mailbox[],
  matches: (name: string) => boolean,
  percent: boolean,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of boxes) {
    if (!b.subscribed) continue;
    if (matches(b.name)) out.set(b.name, '');
    else if (percent)
      for (const a of ancestors(b.name)) if (matches(a) && !out.has(a)) out.set(a, '\\Noselect');
  }
  for (const b of boxes) if (b.subscribed && out.has(b.name)) out.set(b.name, '');
  return out;
}

export const LIST_HANDLERS = [
  ...define('LIST', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const rev2 = conn.enabled.has('IMAP4REV2');
      if (c.patterns.length === 1 && c.patterns[0] === '' && c.selection.length === 0) {
        // RFC 9051 §6.3.9: the delimiter and root of the reference.
        conn.untagged(`LIST (\\Noselect) "${DELIMITER}" ""`);
        return ok('LIST completed');
      }
      const sel = new Set(c.selection);
      const ret = new Set(c.returns);
      const subscribedOnly = sel.has('SUBSCRIBED');
      const specialOnly = sel.has('SPECIAL-USE');
      const recursive = sel.has('RECURSIVEMATCH');
      const showSubscribed = subscribedOnly || ret.has('SUBSCRIBED');
      const showSpecial = specialOnly || ret.has('SPECIAL-USE') || c.selection.length === 0;
      const boxes = await conn.server.store.listMailboxes(accountOf(conn).id);
      const nodes = tree(boxes);
      const matches = matcher(c.reference, c.patterns);
      const names = [...nodes.keys()].sort((a, b) =>
        a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : 1,
      );
      for (const name of names) {
        const n = nodes.get(name)!;
        if (!matches(name)) continue;
        const subscribed = n.box?.subscribed === true;
        let childInfo = false;
        if (subscribedOnly && !subscribed) {
          if (!(recursive && n.subscribedChild)) continue;
          childInfo = true;
        }
        if (specialOnly && n.box?.specialUse == null) continue;
        const attrs: string[] = [];
        if (n.box === null) attrs.push(rev2 || c.selection.length > 0 ? '\\NonExistent' : '\\Noselect');
        attrs.push(n.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
        if (showSubscribed && subscribed) attrs.push('\\Subscribed');
        if (showSpecial && n.box?.specialUse) attrs.push(n.box.specialUse);
        const extra = childInfo ? ' ("CHILDINFO" ("SUBSCRIBED"))' : '';
        conn.untagged(`LIST (${attrs.join(' ')}) "${DELIMITER}" ${mailboxWire(conn, name)}${extra}`);
        if (c.returnStatus !== undefined && n.box !== null) {
          conn.untagged(await statusItems(conn, n.box, c.returnStatus));
        }
      }
      return ok('LIST completed');
    },
  }),
  ...define('LSUB', {
    states: AUTHENTICATED,
    async run(conn, c) {
      const boxes = await conn.server.store.listMailboxes(accountOf(conn).id);
      const matches = matcher(c.reference, [c.pattern]);
      for (const [name, attrs] of lsubEntries(boxes, matches, c.pattern.includes('%'))) {
        conn.untagged(`LSUB (${attrs}) "${DELIMITER}" ${mailboxWire(conn, name)}`);
      }
      return ok('LSUB completed');
    },
  }),
];
