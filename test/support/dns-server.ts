// A small authoritative DNS server for tests (RFC 1035), so that SPF, DKIM, DMARC, MX and
// TLSA lookups run against real sockets and real resolvers instead of mocks.
//
// - Listens on 127.0.0.1 over UDP and TCP on the same random free port (RFC 7766: TCP is
//   a full alternative transport, and the fallback after a truncated UDP answer).
// - Names are case-insensitive (RFC 4343) and compared without the trailing dot.
// - A name with no records of its own but with records below it is an empty non-terminal:
//   NOERROR/NODATA, never NXDOMAIN (RFC 8020 §2). A name unknown everywhere is NXDOMAIN.
// - A CNAME is followed inside the zone for other query types (RFC 1034 §4.3.2).
// - A UDP answer larger than 512 bytes (or the EDNS payload size the query advertised,
//   RFC 6891 §6.2.3) is replaced by an empty answer with TC set (RFC 1035 §4.2.1), so the
//   client retries over TCP. TXT strings longer than 255 bytes are split into several
//   character-strings (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
// - Every question received is appended to `queries`, with its transport.
// - DNSSEC is not signed here; instead a test marks a zone "secure" and answers for names at or
//   below it carry AD=1, as a validating resolver's would (RFC 4035 §3.2.3), but only when the
//   query asked for it with AD=1 or the EDNS DO bit (RFC 6840 §5.7). `bogus` zones answer
//   SERVFAIL to such queries, as a validating resolver does for data that fails validation.

import dgram from 'node:dgram';
import net from 'node:net';
import {
  type Answer,
  AUTHENTIC_DATA,
  AUTHORITATIVE_ANSWER,
  type DecodedPacket,
  DNSSEC_OK,
  decode,
  encode,
  type Packet,
  RECURSION_DESIRED,
  type RecordType,
  streamEncode,
  TRUNCATED_RESPONSE,
} from 'dns-packet';

export interface MxValue {
  preference: number;
  exchange: string;
}

export interface TlsaValue {
  usage: number;
  selector: number;
  matchingType: number;
  certificate: Buffer;
}

/** The records of one name. A TXT value given as a string is split into 255-byte strings. */
export interface RecordSet {
  A?: string[];
  AAAA?: string[];
  MX?: MxValue[];
  TXT?: Array<string | string[]>;
  CNAME?: string[];
  PTR?: string[];
  NS?: string[];
  TLSA?: TlsaValue[];
}

export type ZoneRecordType = keyof RecordSet;
export type ZoneRecords = Record<string, RecordSet>;

export interface DnsQueryLog {
  /** Lower case, no trailing dot. */
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export interface DnsTestServer {
  port: number;
  address: string;
  /** Replaces the records of one type at a name; an empty list removes them. */
  set<T extends ZoneRecordType>(name: string, type: T, values: NonNullable<RecordSet[T]>, ttl?: number): void;
  /** Removes every record (the query log is kept; empty it with `queries.length = 0`). */
  clear(): void;
  /**
   * Marks a zone (and every name below it) as DNSSEC-validated: answers carry AD=1 to queries
   * that set AD or DO. `false` removes the mark. Cleared by `clear()`.
   */
  setSecure(zone: string, secure?: boolean): void;
  /** Marks a zone as failing validation: SERVFAIL to queries that set AD or DO. */
  setBogus(zone: string, bogus?: boolean): void;
  close(): Promise<void>;
  queries: DnsQueryLog[];
}

interface StoredRRset {
  ttl: number;
  values: readonly unknown[];
}

const DEFAULT_TTL = 300;
const CLASSIC_UDP_LIMIT = 512; // RFC 1035 §4.2.1
const MAX_UDP_PAYLOAD = 4096;
const MAX_CNAME_CHAIN = 8;
const RCODE_FORMERR = 1;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** Splits a TXT value into character-strings of at most 255 bytes, never inside a UTF-8 sequence. */
export function splitTxt(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0) return [Buffer.alloc(0)];
  const parts: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + 255, bytes.length);
    // step back over UTF-8 continuation bytes (10xxxxxx) so a character stays whole
    while (end < bytes.length && end > start && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    parts.push(bytes.subarray(start, end));
    start = end;
  }
  return parts;
}

function toRdata(type: ZoneRecordType, value: unknown): unknown {
  if (type !== 'TXT') return value;
  if (typeof value === 'string') return splitTxt(value);
  const strings = (value as string[]).map((s) => Buffer.from(s, 'utf8'));
  if (strings.some((s) => s.length > 255)) throw new Error('a TXT character-string is at most 255 bytes');
  return strings;
}

class Zone {
  readonly names = new Map<string, Map<ZoneRecordType, StoredRRset>>();
  readonly secure = new Set<string>();
  readonly bogus = new Set<string>();

  /** True if `name` is `zone` itself or below one of `zones`. */
  static within(zones: Set<string>, name: string): boolean {
    const key = normalize(name);
    for (const zone of zones) if (key === zone || key.endsWith(`.${zone}`)) return true;
    return false;
  }

  set(name: string, type: ZoneRecordType, values: readonly unknown[], ttl: number): void {
    const key = normalize(name);
    const node = this.names.get(key) ?? new Map<ZoneRecordType, StoredRRset>();
    if (values.length === 0) node.delete(type);
    else node.set(type, { ttl, values: values.map((v) => toRdata(type, v)) });
    if (node.size === 0) this.names.delete(key);
    else this.names.set(key, node);
  }

  /** RFC 8020: a name exists if it owns records or anything below it does. */
  exists(name: string): boolean {
    if (this.names.has(name)) return true;
    const suffix = `.${name}`;
    for (const known of this.names.keys()) if (known.endsWith(suffix)) return true;
    return false;
  }

  answer(qname: string, qtype: string): { rcode: number; answers: Answer[] } {
    const answers: Answer[] = [];
    let owner = qname;
    for (let hop = 0; hop <= MAX_CNAME_CHAIN; hop++) {
      const key = normalize(owner);
      if (!this.exists(key)) return { rcode: RCODE_NXDOMAIN, answers }; // RFC 6604 §3: rcode of the last name
      const node = this.names.get(key);
      const cname = node?.get('CNAME');
      if (cname && qtype !== 'CNAME') {
        const target = String(cname.values[0]);
        answers.push({ name: owner, type: 'CNAME', ttl: cname.ttl, data: target });
        owner = target;
        continue;
      }
      const rrset = node?.get(qtype as ZoneRecordType);
      for (const data of rrset?.values ?? []) {
        answers.push({ name: owner, type: qtype as RecordType, ttl: rrset?.ttl, data } as Answer);
      }
      return { rcode: 0, answers };
    }
    return { rcode: 0, answers }; // chain too long: what was found so far
  }
}

function respond(zone: Zone, query: DecodedPacket): Packet {
  const question = query.questions?.[0];
  const base = {
    type: 'response' as const,
    id: query.id ?? 0,
    questions: query.questions ?? [],
  };
  const flags = AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & RECURSION_DESIRED);
  if (!question || (query.questions?.length ?? 0) !== 1) return { ...base, flags: flags | RCODE_FORMERR };
  if (((query.flags ?? 0) >> 11) & 0xf) return { ...base, flags: flags | RCODE_NOTIMP }; // opcode ≠ QUERY
  const opt = query.additionals?.find((a) => a.type === 'OPT');
  const wantsDnssec =
    ((query.flags ?? 0) & AUTHENTIC_DATA) !== 0 ||
    (opt !== undefined && 'flags' in opt && (opt.flags & DNSSEC_OK) !== 0);
  if (wantsDnssec && Zone.within(zone.bogus, question.name))
    return { ...base, flags: flags | RCODE_SERVFAIL };
  const { rcode, answers } = zone.answer(question.name, question.type);
  // RFC 4035 §3.2.3: AD only when every RRset in the answer is authentic (each name of a CNAME chain)
  const authentic =
    wantsDnssec &&
    Zone.within(zone.secure, question.name) &&
    answers.every((a) => Zone.within(zone.secure, a.name));
  const response: Packet = { ...base, flags: flags | rcode | (authentic ? AUTHENTIC_DATA : 0), answers };
  if (opt) {
    // RFC 6891 §7: an EDNS query gets an OPT record back
    response.additionals = [
      { name: '.', type: 'OPT', udpPayloadSize: MAX_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0 },
    ] as unknown as Answer[];
  }
  return response;
}

function udpLimit(query: DecodedPacket): number {
  const opt = query.additionals?.find((a) => a.type === 'OPT');
  if (!opt || !('udpPayloadSize' in opt)) return CLASSIC_UDP_LIMIT;
  return Math.max(CLASSIC_UDP_LIMIT, Math.min(opt.udpPayloadSize, MAX_UDP_PAYLOAD));
}

function logQuery(queries: DnsQueryLog[], query: DecodedPacket, transport: 'udp' | 'tcp'): void {
  for (const q of query.questions ?? []) queries.push({ name: normalize(q.name), type: q.type, transport });
}

function serveUdp(socket: dgram.Socket, zone: Zone, queries: DnsQueryLog[]): void {
  socket.on('message', (msg, rinfo) => {
    let query: DecodedPacket;
    try {
      query = decode(msg);
    } catch {
      return; // not DNS: drop it, as a real server would
    }
    if (query.type !== 'query') return;
    logQuery(queries, query, 'udp');
    const response = respond(zone, query);
    let wire = encode(response);
    if (wire.length > udpLimit(query)) {
      // RFC 1035 §4.2.1 / RFC 2181 §9: too big for UDP, say so and let the client use TCP
      wire = encode({ ...response, flags: (response.flags ?? 0) | TRUNCATED_RESPONSE, answers: [] });
    }
    socket.send(wire, rinfo.port, rinfo.address);
  });
}

function serveTcp(socket: net.Socket, zone: Zone, queries: DnsQueryLog[]): void {
  let pending = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    // RFC 1035 §4.2.2: each message is preceded by a two-byte length
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) return;
      const msg = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      let query: DecodedPacket;
      try {
        query = decode(msg);
      } catch {
        socket.destroy();
        return;
      }
      logQuery(queries, query, 'tcp');
      socket.write(streamEncode(respond(zone, query)));
    }
  });
}

async function bindPair(): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  const address = '127.0.0.1';
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const port = udp.address().port;
    const tcp = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, address, () => resolve(true));
    });
    if (ok) return { udp, tcp, port };
    udp.close(); // the TCP port was taken: try another pair
  }
  throw new Error('could not bind UDP and TCP on the same port');
}

export async function startDnsServer(initial: ZoneRecords = {}): Promise<DnsTestServer> {
  const zone = new Zone();
  const queries: DnsQueryLog[] = [];
  for (const [name, set] of Object.entries(initial)) {
    for (const [type, values] of Object.entries(set)) {
      zone.set(name, type as ZoneRecordType, values as unknown[], DEFAULT_TTL);
    }
  }
  const { udp, tcp, port } = await bindPair();
  const connections = new Set<net.Socket>();
  serveUdp(udp, zone, queries);
  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    serveTcp(socket, zone, queries);
  });

  return {
    port,
    address: '127.0.0.1',
    queries,
    set(name, type, values, ttl = DEFAULT_TTL) {
      zone.set(name, type, values, ttl);
    },
    clear() {
      zone.names.clear();
      zone.secure.clear();
      zone.bogus.clear();
    },
    setSecure(name, secure = true) {
      if (secure) zone.secure.add(normalize(name));
      else zone.secure.delete(normalize(name));
    },
    setBogus(name, bogus = true) {
      if (bogus) zone.bogus.add(normalize(name));
      else zone.bogus.delete(normalize(name));
    },
    async close() {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}
