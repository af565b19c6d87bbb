// Test support: a strict reader for RFC 9051 §9 `envelope` and `body`, written from
// the ABNF and independently of the renderers, used to check that what they write
// parses (no imapflow in node_modules; see the corpus test). It reads IMAP values
// (NIL, numbers, quoted strings with \" and \\ only, {n} literals counted in UTF-8
// octets, lists) and then checks the body/envelope shape element by element.
// Invariants: throws on any deviation from the grammar, with the offset.

export type Value = null | number | string | Value[];

export class WireReader {
  #s: Buffer;
  #i = 0;
  constructor(text: string) {
    this.#s = Buffer.from(text, 'utf8');
  }
  fail(what: string): never {
    throw new Error(`${what} at ${this.#i}: ${this.#s.toString('utf8', this.#i, this.#i + 40)}`);
  }
  done(): void {
    if (this.#i !== this.#s.length) this.fail('trailing data');
  }
  sp(): void {
    if (this.#s[this.#i] !== 0x20) this.fail('expected SP');
    this.#i++;
  }
  value(): Value {
    const c = this.#s[this.#i];
    if (c === 0x28) return this.list();
    if (c === 0x22) return this.quoted();
    if (c === 0x7b) return this.literal();
    if (c !== undefined && c >= 0x30 && c <= 0x39) {
      let j = this.#i;
      while (j < this.#s.length && this.#s[j]! >= 0x30 && this.#s[j]! <= 0x39) j++;
      const n = Number(this.#s.toString('latin1', this.#i, j));
      this.#i = j;
      return n;
    }
    if (this.#s.toString('latin1', this.#i, this.#i + 3) === 'NIL') {
      this.#i += 3;
      return null;
    }
    return this.fail('expected a value');
  }
  list(): Value[] {
    this.#i++;
    const out: Value[] = [];
    // SP separates elements, except between two lists (1*address, 1*body: none;
    // envelope fields, envelope SP body: one), where it is optional here.
    while (this.#s[this.#i] !== 0x29) {
      if (this.#i >= this.#s.length) this.fail('unterminated list');
      if (out.length > 0) {
        if (this.#s[this.#i] === 0x20) this.#i++;
        else if (!(Array.isArray(out[out.length - 1]) && this.#s[this.#i] === 0x28)) this.fail('expected SP');
      }
      out.push(this.value());
    }
    this.#i++;
    return out;
  }
  quoted(): string {
    const bytes: number[] = [];
    for (this.#i++; ; this.#i++) {
      const c = this.#s[this.#i];
      if (c === undefined || c === 0x0d || c === 0x0a || c === 0) this.fail('bad quoted string');
      if (c === 0x22) break;
      if (c === 0x5c) {
        const d = this.#s[++this.#i];
        if (d !== 0x22 && d !== 0x5c) this.fail('bad escape');
        bytes.push(d);
      } else bytes.push(c);
    }
    this.#i++;
    return Buffer.from(bytes).toString('utf8');
  }
  literal(): string {
    const close = this.#s.indexOf('}\r\n', this.#i);
    if (close === -1) this.fail('bad literal');
    const n = Number(this.#s.toString('latin1', this.#i + 1, close));
    if (!Number.isInteger(n)) this.fail('bad literal count');
    const start = close + 3;
    const body = this.#s.subarray(start, start + n);
    if (body.length !== n || body.includes(0)) this.fail('short literal');
    this.#i = start + n;
    return body.toString('utf8');
  }
}

const isStr = (v: Value): v is string => typeof v === 'string';
const isNStr = (v: Value): boolean => v === null || isStr(v);
const isNum = (v: Value): v is number => typeof v === 'number';

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`grammar: ${what}`);
}

function params(v: Value): void {
  if (v === null) return;
  check(Array.isArray(v) && v.length > 0 && v.length % 2 === 0 && v.every(isStr), 'body-fld-param');
}

export interface ReadAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}
export interface ReadEnvelope {
  fields: (string | null)[];
  addresses: (ReadAddress[] | null)[];
}

export function readEnvelope(v: Value): ReadEnvelope {
  check(Array.isArray(v) && v.length === 10, 'envelope has 10 fields');
  const e = v as Value[];
  const addresses = e.slice(2, 8).map((list) => {
    if (list === null) return null;
    check(Array.isArray(list) && list.length > 0, 'address list');
    return (list as Value[]).map((a) => {
      check(Array.isArray(a) && a.length === 4 && a.every(isNStr), 'address');
      const [name, adl, mailbox, host] = a as (string | null)[];
      return { name: name!, adl: adl!, mailbox: mailbox!, host: host! };
    });
  });
  const fields = [e[0]!, e[1]!, e[8]!, e[9]!];
  check(fields.every(isNStr), 'envelope nstrings');
  return { fields: fields as (string | null)[], addresses };
}

export interface ReadBody {
  type: string;
  subtype: string;
  size: number | null;
  lines: number | null;
  children: ReadBody[];
  message: { envelope: ReadEnvelope; body: ReadBody } | null;
}

/** RFC 9051 §9 body: type-specific fields, then optional extension data. */
export function readBody(v: Value, extensible: boolean): ReadBody {
  check(Array.isArray(v) && v.length > 0, 'body is a list');
  const b = v as Value[];
  if (Array.isArray(b[0])) {
    let i = 0;
    const children: ReadBody[] = [];
    while (Array.isArray(b[i])) children.push(readBody(b[i++]!, extensible));
    check(isStr(b[i]!), 'media-subtype');
    const subtype = b[i++] as string;
    if (extensible) {
      check(b.length - i === 4, 'body-ext-mpart: param dsp lang loc');
      params(b[i]!);
      extension(b.slice(i + 1));
    } else check(i === b.length, 'BODY has no extension');
    return { type: 'multipart', subtype, size: null, lines: null, children, message: null };
  }
  check(b.length >= 7 && isStr(b[0]!) && isStr(b[1]!), 'media type');
  const type = (b[0] as string).toLowerCase();
  const subtype = (b[1] as string).toLowerCase();
  params(b[2]!);
  check(isNStr(b[3]!) && isNStr(b[4]!) && isStr(b[5]!) && isNum(b[6]!), 'body-fields');
  let i = 7;
  let lines: number | null = null;
  let message: ReadBody['message'] = null;
  if (type === 'message' && (subtype === 'rfc822' || subtype === 'global')) {
    message = { envelope: readEnvelope(b[7]!), body: readBody(b[8]!, extensible) };
    check(isNum(b[9]!), 'body-fld-lines');
    lines = b[9] as number;
    i = 10;
  } else if (type === 'text') {
    check(isNum(b[7]!), 'body-fld-lines');
    lines = b[7] as number;
    i = 8;
  }
  if (extensible) {
    check(b.length - i === 4 && isNStr(b[i]!), 'body-ext-1part: md5 dsp lang loc');
    extension(b.slice(i + 1));
  } else check(i === b.length, 'BODY has no extension');
  return { type, subtype, size: b[6] as number, lines, children: [], message };
}

function extension(rest: Value[]): void {
  const [dsp, lang, loc] = rest;
  if (dsp !== null) {
    check(Array.isArray(dsp) && dsp.length === 2 && isStr(dsp[0]!), 'body-fld-dsp');
    params((dsp as Value[])[1]!);
  }
  check(
    isNStr(lang!) || (Array.isArray(lang) && lang.length > 0 && (lang as Value[]).every(isStr)),
    'body-fld-lang',
  );
  check(isNStr(loc!), 'body-fld-loc');
}
