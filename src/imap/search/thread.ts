// THREAD (RFC 5256 §3): ORDEREDSUBJECT and REFERENCES (§2.2 sent date, §2.1 base
// subject), and the thread-list response syntax (RFC 5256 §4).
//
// Invariants:
// - No recursion over the message tree: a reply chain of any length (a crafted
//   References field, a 50,000-message discussion) cannot overflow the stack;
//   traversals use explicit stacks.
// - Linking never creates a loop (RFC 5256 §2.2 REFERENCES step 1): a link that
//   would make a message its own ancestor is skipped.
// - Siblings are ordered by sent date, then mailbox order (sequence number); a
//   dummy (a missing parent) sorts by its first child.

import { asciiCasemap, baseSubject } from './sort.ts';

export interface ThreadItem {
  /** The number reported: sequence number (THREAD) or UID (UID THREAD). */
  readonly id: number;
  readonly seq: number;
  /** Sent date (ms), the internal date when the message has none. */
  readonly date: number;
  /** The decoded Subject: field. */
  readonly subject: string;
  readonly messageId: string | null;
  readonly inReplyTo: string | null;
  readonly references: readonly string[];
}

export interface ThreadNode {
  /** null: a dummy, standing for a message referred to but not in the result. */
  readonly item: ThreadItem | null;
  readonly children: readonly ThreadNode[];
}

class Container {
  item: ThreadItem | null = null;
  parent: Container | null = null;
  children: Container[] = [];
  subject = '';
  reply = false;
}

const MSG_ID = /<[^<>\s]+>/g;

function ids(value: string | null | undefined): string[] {
  if (!value) return [];
  const found = value.match(MSG_ID);
  return found ?? value.split(/\s+/).filter((v) => v !== '');
}

/** RFC 5256 §2.2 step 1: References, else the first message id of In-Reply-To. */
function parentIds(item: ThreadItem): string[] {
  const refs = item.references.flatMap((r) => ids(r));
  return refs.length > 0 ? refs : ids(item.inReplyTo).slice(0, 1);
}

/** Whether `a` is `b` or one of its ancestors. */
function isAncestor(a: Container, b: Container): boolean {
  if (a.children.length === 0) return a === b; // a leaf is nobody's ancestor (keeps long chains linear)
  for (let x: Container | null = b; x !== null; x = x.parent) if (x === a) return true;
  return false;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

function unlink(child: Container): void {
  const p = child.parent;
  if (p === null) return;
  p.children = p.children.filter((c) => c !== child);
  child.parent = null;
}

/** Every container under `roots`, each after all of its descendants. */
function bottomUp(roots: readonly Container[]): Container[] {
  const out: Container[] = [];
  const stack = [...roots];
  for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
    out.push(c);
    stack.push(...c.children);
  }
  return out.reverse();
}

/** RFC 5256 §2.2 step 4 for one level: drop empty dummies, promote a dummy's children. */
function pruneLevel(list: readonly Container[], parent: Container | null): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    if (c.item === null && (parent !== null || c.children.length <= 1)) {
      for (const k of c.children) {
        k.parent = parent;
        out.push(k);
      }
    } else out.push(c);
  }
  return out;
}

const firstItem = (c: Container): ThreadItem | undefined => c.item ?? c.children[0]?.item ?? undefined;

function byDate(a: Container, b: Container): number {
  const x = firstItem(a);
  const y = firstItem(b);
  if (x === undefined || y === undefined) return 0;
  return x.date - y.date || x.seq - y.seq;
}

function linkByReferences(items: readonly ThreadItem[]): Container[] {
  const table = new Map<string, Container>();
  const all: Container[] = [];
  const containerOf = (id: string): Container => {
    let c = table.get(id);
    if (c === undefined) {
      c = new Container();
      table.set(id, c);
      all.push(c);
    }
    return c;
  };
  for (const item of items) {
    const own = ids(item.messageId)[0];
    const existing = own === undefined ? undefined : table.get(own);
    let c: Container;
    if (own !== undefined && existing === undefined) c = containerOf(own);
    else if (existing !== undefined && existing.item === null) c = existing;
    else {
      // No Message-ID, or a duplicate one: the message gets a container of its own.
      c = new Container();
      all.push(c);
    }
    c.item = item;
    const s = baseSubject(item.subject);
    c.subject = asciiCasemap(s.base);
    c.reply = s.reply;
    let prev: Container | null = null;
    for (const ref of parentIds(item)) {
      if (ref === own) continue;
      const r = containerOf(ref);
      if (prev !== null && r.parent === null && !isAncestor(r, prev)) link(prev, r);
      prev = r;
    }
    unlink(c);
    if (prev !== null && !isAncestor(c, prev)) link(prev, c);
  }
  return all.filter((c) => c.parent === null);
}

function mergeBySubject(roots: readonly Container[]): Container[] {
  const subjectOf = (c: Container): string => (c.item !== null ? c : c.children[0])?.subject ?? '';
  const table = new Map<string, Container>();
  for (const c of roots) {
    const s = subjectOf(c);
    if (s === '') continue;
    const old = table.get(s);
    if (old === undefined || (old.item !== null && (c.item === null || (old.reply && !c.reply))))
      table.set(s, c);
  }
  const removed = new Set<Container>();
  const created: Container[] = [];
  for (const c of roots) {
    const s = subjectOf(c);
    const t = s === '' ? undefined : table.get(s);
    if (t === undefined || t === c || removed.has(c)) continue;
    removed.add(c);
    if (t.item === null && c.item === null) {
      for (const k of c.children) link(t, k);
      c.children = [];
    } else if (t.item === null || (c.reply && !t.reply)) {
      link(t, c);
    } else {
      const d = new Container();
      d.subject = s;
      removed.add(t);
      link(d, t);
      link(d, c);
      table.set(s, d);
      created.push(d);
    }
  }
  return [...roots, ...created].filter((c) => !removed.has(c) && c.parent === null);
}

/** RFC 5256 §3 REFERENCES. */
export function threadByReferences(items: readonly ThreadItem[]): ThreadNode[] {
  let roots = linkByReferences(items);
  for (const c of bottomUp(roots)) c.children = pruneLevel(c.children, c);
  roots = pruneLevel(roots, null);
  // Step 5: root set by date (a dummy by its first child, once its children are sorted).
  for (const c of roots) if (c.item === null) c.children.sort(byDate);
  roots.sort(byDate);
  roots = mergeBySubject(roots);
  // Step 6: every set of siblings by date, the deepest first.
  for (const c of bottomUp(roots)) c.children.sort(byDate);
  roots.sort(byDate);
  return roots;
}

/** RFC 5256 §3 ORDEREDSUBJECT: threads of one base subject, the first message the parent of the rest. */
export function threadByOrderedSubject(items: readonly ThreadItem[]): ThreadNode[] {
  const keyed = items.map((item) => ({ item, subject: asciiCasemap(baseSubject(item.subject).base) }));
  keyed.sort((a, b) =>
    a.subject < b.subject
      ? -1
      : a.subject > b.subject
        ? 1
        : a.item.date - b.item.date || a.item.seq - b.item.seq,
  );
  const threads: { item: ThreadItem; children: ThreadNode[] }[] = [];
  let last: string | undefined;
  for (const k of keyed) {
    const top = threads[threads.length - 1];
    if (top !== undefined && k.subject === last) top.children.push({ item: k.item, children: [] });
    else threads.push({ item: k.item, children: [] });
    last = k.subject;
  }
  return threads.sort((a, b) => a.item.date - b.item.date || a.item.seq - b.item.seq);
}

/** RFC 5256 §4 thread-list: "(1 2)(3 (4)(5))"; a dummy parent shows as "((4)(5))". */
export function renderThreads(roots: readonly ThreadNode[]): string {
  let out = '';
  const stack: (string | ThreadNode)[] = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push(')', roots[i]!, '(');
  for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
    if (typeof x === 'string') {
      out += x;
      continue;
    }
    const kids = x.children;
    if (x.item !== null) out += String(x.item.id);
    if (kids.length === 1) {
      stack.push(kids[0]!);
      if (x.item !== null) out += ' ';
    } else if (kids.length > 1) {
      for (let i = kids.length - 1; i >= 0; i--) stack.push(')', kids[i]!, '(');
      if (x.item !== null) out += ' ';
    }
  }
  return out;
}
