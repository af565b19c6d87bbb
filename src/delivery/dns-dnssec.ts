// DNS queries that report the AD (Authentic Data) bit, for DANE (RFC 7672 §2.1): node:dns
// (c-ares) does not expose it. One question per query, sent to the configured validating
// resolver ('ip', 'ip:port' or '[ipv6]:port', the format of src/net/dns.ts) over UDP with
// EDNS0 (RFC 6891) and the DO bit and AD bit set (RFC 6840 §5.7: a client that wants the AD
// bit says so), retried over TCP when the answer is truncated (RFC 1035 §4.2.1, RFC 7766).
//
// Invariants:
// - A reply is accepted only if its id and question match the query (RFC 5452 §9.1); anything
//   else on the socket is ignored, and the query settles within `timeoutMs` (ETIMEOUT).
// - We trust the AD bit only because the resolver is the operator's own, on a trusted path
//   (RFC 6698 §A.3 / RFC 4035 §4.9.3): this module never validates signatures itself.
// - NXDOMAIN and NODATA are answers (with their own AD bit, authenticated denial); SERVFAIL,
//   REFUSED, timeouts and malformed replies are errors (DnsError, codes as node:dns uses them).

import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import {
  type Answer,
  AUTHENTIC_DATA,
  type DecodedPacket,
  DNSSEC_OK,
  decode,
  encode,
  RECURSION_DESIRED,
  type RecordType,
  streamEncode,
} from 'dns-packet';
import { DnsError } from '../net/dns.ts';

export interface DnssecAnswer {
  /** 'NOERROR' (records or NODATA) or 'NXDOMAIN'. */
  rcode: 'NOERROR' | 'NXDOMAIN';
  /** The resolver validated every RRset of the answer (or the denial). */
  authentic: boolean;
  /** Records of the answer section (CNAMEs included), as dns-packet decodes them. */
  answers: Answer[];
}

export type DnssecQuery = (name: string, type: RecordType) => Promise<DnssecAnswer>;

export interface DnssecQueryOptions {
  /** The validating resolver: 'ip', 'ip:port' or '[ipv6]:port'. */
  server: string;
  /** Upper bound for one query, TCP retry included. Default 5000. */
  timeoutMs?: number;
}

const EDNS_PAYLOAD = 1232; // the DNS Flag Day 2020 recommendation, no IP fragmentation
const MAX_TCP_MESSAGE = 65_535;

export function parseServer(server: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { host: bracketed[1] ?? '', port: Number(bracketed[2] ?? 53) };
  if (net.isIPv6(server)) return { host: server, port: 53 };
  const [host = '', port] = server.split(':');
  if (net.isIP(host) === 0)
    throw new Error(`DNS server must be an IP address, got ${JSON.stringify(server)}`);
  return { host, port: Number(port ?? 53) };
}

/** Returns a query function bound to one resolver. */
export function createDnssecQuery(opts: DnssecQueryOptions): DnssecQuery {
  const { host, port } = parseServer(opts.server);
  const timeoutMs = opts.timeoutMs ?? 5000;
  return async (name, type) => {
    const qname = name.toLowerCase().replace(/\.$/, '');
    const deadline = Date.now() + timeoutMs;
    const id = randomInt(0, 65_536);
    const packet = {
      type: 'query' as const,
      id,
      flags: RECURSION_DESIRED | AUTHENTIC_DATA,
      questions: [{ type, name: qname, class: 'IN' as const }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD, flags: DNSSEC_OK } as unknown as Answer,
      ],
    };
    const fail = (code: string, why: string) =>
      new DnsError(code, qname, type, `DNS ${type} lookup for ${qname} ${why}`);
    let reply = await overUdp(encode(packet), host, port, deadline, (p) => matches(p, id, qname, type)).catch(
      (err: unknown) => {
        throw err instanceof DnsError ? err : fail('ETIMEOUT', 'timed out (no answer from the server)');
      },
    );
    if (reply.flag_tc) {
      reply = await overTcp(streamEncode(packet), host, port, deadline).catch(() => {
        throw fail('ETIMEOUT', 'failed over TCP after a truncated answer');
      });
      if (!matches(reply, id, qname, type)) throw fail('EBADRESP', 'got a mismatched answer over TCP');
    }
    const rcode = (reply as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
    if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') {
      return { rcode, authentic: reply.flag_ad, answers: reply.answers ?? [] };
    }
    const code = rcode === 'SERVFAIL' ? 'ESERVFAIL' : rcode === 'REFUSED' ? 'EREFUSED' : 'EBADRESP';
    throw fail(code, `failed (${rcode})`);
  };
}

function matches(reply: DecodedPacket, id: number, qname: string, type: string): boolean {
  const q = reply.questions?.[0];
  return (
    reply.type === 'response' &&
    reply.id === id &&
    reply.questions?.length === 1 &&
    q !== undefined &&
    q.name.toLowerCase().replace(/\.$/, '') === qname &&
    q.type === type
  );
}

function overUdp(
  wire: Buffer,
  host: string,
  port: number,
  deadline: number,
  accept: (p: DecodedPacket) => boolean,
): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const done = settleOnce(deadline, () => socket.close(), resolve, reject);
    socket.on('error', (err) => done(err));
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== port || rinfo.address !== host) return; // not from our server
      let packet: DecodedPacket;
      try {
        packet = decode(msg);
      } catch {
        return;
      }
      if (accept(packet)) done(null, packet);
    });
    socket.send(wire, port, host, (err) => {
      if (err) done(err);
    });
  });
}

/**
 * The settle function of one query: the first call (or the deadline, as 'timeout') wins,
 * `close` releases the socket, later calls do nothing.
 */
function settleOnce(
  deadline: number,
  close: () => void,
  resolve: (p: DecodedPacket) => void,
  reject: (e: Error) => void,
): (err: Error | null, packet?: DecodedPacket) => void {
  let settled = false;
  const done = (err: Error | null, packet?: DecodedPacket): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    close();
    if (err || !packet) reject(err ?? new Error('no answer'));
    else resolve(packet);
  };
  const timer = setTimeout(() => done(new Error('timeout')), Math.max(0, deadline - Date.now()));
  return done;
}

function overTcp(wire: Buffer, host: string, port: number, deadline: number): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let pending = Buffer.alloc(0);
    const done = settleOnce(deadline, () => socket.destroy(), resolve, reject);
    socket.on('error', (err) => done(err));
    socket.on('close', () => done(new Error('connection closed')));
    socket.on('connect', () => socket.write(wire));
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length > MAX_TCP_MESSAGE + 2) return done(new Error('oversized'));
      if (pending.length < 2) return;
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) return;
      try {
        done(null, decode(pending.subarray(2, 2 + length)));
      } catch (err) {
        done(err as Error);
      }
    });
  });
}
