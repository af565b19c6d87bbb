// A fast, bounded scan of a message's top-level header block (RFC 5322 §2.2): where
// it ends, how large it is, and each field's name and unfolded raw value. Used by the
// MX for limits and policy (header bombs, From count, hop count) before any full MIME
// parse. Works on bytes; values are decoded as latin1 so no byte is ever lost.

export interface HeaderField {
  readonly name: string; // lower case
  readonly value: string; // unfolded, raw (encoded words not decoded)
}

export interface HeaderBlock {
  /** Offset of the first body byte (after the empty line), or raw.length if none. */
  readonly bodyStart: number;
  /** Bytes of the header block, the separating empty line excluded. */
  readonly size: number;
  /** Physical lines in the header block (folded continuations count). */
  readonly lines: number;
  readonly fields: readonly HeaderField[];
}

export function scanHeaderBlock(raw: Uint8Array): HeaderBlock {
  const fields: { name: string; value: string }[] = [];
  let pos = 0;
  let lines = 0;
  let current: { name: string; value: string } | null = null;
  while (pos < raw.length) {
    let eol = raw.indexOf(0x0a, pos);
    if (eol === -1) eol = raw.length;
    const lineEnd = eol > pos && raw[eol - 1] === 0x0d ? eol - 1 : eol;
    if (lineEnd === pos) {
      // Empty line: end of the header block.
      return { bodyStart: Math.min(eol + 1, raw.length), size: pos, lines, fields };
    }
    lines++;
    const line = Buffer.from(raw.buffer, raw.byteOffset + pos, lineEnd - pos).toString('latin1');
    if ((line[0] === ' ' || line[0] === '\t') && current !== null) {
      current.value += line;
    } else {
      const colon = line.indexOf(':');
      current =
        colon > 0 ? { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1) } : null;
      if (current !== null) fields.push(current);
    }
    pos = eol + 1;
  }
  return { bodyStart: raw.length, size: raw.length, lines, fields };
}

export function fieldValues(block: HeaderBlock, name: string): string[] {
  return block.fields.filter((f) => f.name === name).map((f) => f.value.trim());
}

/**
 * Count the mailboxes in an address-list header value, ignoring commas inside
 * quoted strings, comments and angle brackets; groups count their members.
 */
export function countMailboxes(value: string): number {
  let count = 0;
  let depth = 0; // comment nesting
  let quoted = false;
  let angle = false;
  let sawAddressChar = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '"') {
      quoted = true;
      sawAddressChar = true;
    } else if (c === '(') depth++;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if ((c === ',' || c === ';' || c === ':') && !angle) {
      if (c !== ':' && sawAddressChar) count++;
      sawAddressChar = false;
    } else if (c !== ' ' && c !== '\t') sawAddressChar = true;
  }
  if (sawAddressChar) count++;
  return count;
}
