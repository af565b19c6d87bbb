// Remote delivery: hands queued mail for another domain to that domain's MX hosts over
// SMTP (the RemoteTransport of runner.ts). Routing and TLS terms come from
// destination.ts (MX per RFC 5321 §5.1, MTA-STS RFC 8461, DANE RFC 7672); the wire is
// smtp-client.ts.
//
// Invariants:
// - Hosts are tried in the destination's order, each address in turn, until every
//   recipient has a definite answer: a connection-level failure (no connection, a
//   refused greeting or EHLO, 421, a TLS failure) moves on to the next address or host;
//   an answer to MAIL, RCPT or DATA is final for this attempt (RFC 5321 §4.5.4.1
//   leaves retrying a 4xx to the queue).
// - TLS is never given up where the plan requires it: under MTA-STS enforce or DANE a
//   failed handshake or certificate check defers the host (onTlsFailure 'defer'), never a
//   cleartext retry. Only an opportunistic plan whose handshake failed is retried in
//   cleartext, on a new connection.
// - Every TLS session outcome is recorded for TLS-RPT (RFC 8460) under the candidate's policy.
// - Addresses outside the allowed set (loopback, private, link-local… unless
//   delivery.allow_private_addresses) are never connected to.
// - Content is never logged.
// - Connection caching (as Postfix does): a connection that ends a transaction cleanly
//   is kept ready for IDLE_MS and reused for the next message to the same address under
//   the same TLS plan (RFC 5321 §4.1.4: several transactions per session), at most
//   per_destination_concurrency per address; it is closed with QUIT when idle or on stop.

import net from 'node:net';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { DnsResolver } from '../net/dns.ts';
import { type Candidate, resolveDestination } from './destination.ts';
import type { DnssecQuery } from './dns-dnssec.ts';
import type { MtaSts } from './mta-sts.ts';
import type { OpenedMessage, OpenedRecipient } from './queue.ts';
import { type AttemptResult, delivered, permanent, type RemoteTransport, temporary } from './runner.ts';
import { SmtpClientConnection, SmtpClientError, type SmtpClientTimeouts } from './smtp-client.ts';
import {
  asTlsRptResult,
  certificateVerifier,
  onTlsFailure,
  type TlsFailureKind,
  type TlsRptResultType,
} from './tls-requirements.ts';
import type { TlsRptRecorder } from './tls-rpt.ts';

export interface RemoteDeps {
  readonly config: Config;
  readonly resolver: DnsResolver;
  readonly mtaSts: MtaSts;
  readonly dnssec?: DnssecQuery;
  readonly tlsRpt?: TlsRptRecorder;
  readonly logger: Logger;
  /** Extra trust anchors for PKIX checks (delivery.tls_ca_file; tests, private relays). */
  readonly ca?: string;
  readonly timeouts?: Partial<SmtpClientTimeouts>;
}

/** Addresses outgoing mail must never be handed to on the public internet. */
export function publicAddressFilter(): (address: string) => boolean {
  const blocked = new net.BlockList();
  for (const [a, p] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 3],
  ] as const)
    blocked.addSubnet(a, p, 'ipv4');
  for (const [a, p] of [
    ['::', 127],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['::ffff:0:0', 96],
    ['64:ff9b:1::', 48],
  ] as const)
    blocked.addSubnet(a, p, 'ipv6');
  return (address) => {
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    return net.isIP(address) !== 0 && !blocked.check(address, family);
  };
}

const IDLE_MS = 5000;

type HostOutcome =
  | { kind: 'answered'; results: Map<number, AttemptResult> }
  | { kind: 'failed'; result: AttemptResult };

export class SmtpRemoteTransport implements RemoteTransport {
  readonly #d: RemoteDeps;
  readonly #filter: (address: string) => boolean;
  readonly #idle = new Map<string, { conn: SmtpClientConnection; timer: NodeJS.Timeout }[]>();
  #closed = false;

  constructor(deps: RemoteDeps) {
    this.#d = deps;
    this.#filter = deps.config.delivery.allow_private_addresses ? () => true : publicAddressFilter();
  }

  async deliver(
    message: OpenedMessage,
    domain: string,
    recipients: readonly OpenedRecipient[],
  ): Promise<Map<number, AttemptResult>> {
    const results = new Map<number, AttemptResult>();
    const dest = await resolveDestination(domain, {
      resolver: this.#d.resolver,
      mtaSts: this.#d.mtaSts,
      ...(this.#d.dnssec ? { dnssec: this.#d.dnssec } : {}),
      route: { addressFilter: this.#filter, localHostnames: [this.#d.config.hostname] },
    });
    this.#recordPolicyProblems(dest);
    if (dest.kind !== 'deliver') {
      const make = dest.kind === 'permanent' ? permanent : temporary;
      for (const r of recipients)
        results.set(r.idx, make(dest.status, dest.reason, dest.kind === 'permanent' ? 550 : 451));
      return results;
    }
    let pending = [...recipients];
    let last: AttemptResult = temporary('4.4.1', 'No MX host answered');
    for (const candidate of dest.candidates) {
      for (const address of candidate.host.addresses) {
        const outcome = await this.#tryHost(message, candidate, address, pending);
        if (outcome.kind === 'failed') {
          last = outcome.result;
          continue;
        }
        for (const [idx, r] of outcome.results) results.set(idx, r);
        pending = pending.filter((r) => !results.has(r.idx));
        if (pending.length === 0) return results;
      }
    }
    for (const r of pending) results.set(r.idx, last);
    return results;
  }

  /** Close every cached connection (the delivery role stops). */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    await Promise.all(
      all.map(({ conn, timer }) => {
        clearTimeout(timer);
        return conn.quit().catch(() => undefined);
      }),
    );
  }

  #take(key: string): SmtpClientConnection | null {
    const list = this.#idle.get(key);
    while (list && list.length > 0) {
      const entry = list.pop()!;
      clearTimeout(entry.timer);
      if (entry.conn.state === 'ready') return entry.conn;
      entry.conn.quit().catch(() => undefined);
    }
    return null;
  }

  #give(key: string, conn: SmtpClientConnection): void {
    const list = this.#idle.get(key) ?? [];
    if (
      this.#closed ||
      conn.state !== 'ready' ||
      list.length >= this.#d.config.delivery.per_destination_concurrency
    ) {
      conn.quit().catch(() => undefined);
      return;
    }
    const entry = {
      conn,
      timer: setTimeout(() => {
        const at = list.indexOf(entry);
        if (at >= 0) list.splice(at, 1);
        conn.quit().catch(() => undefined);
      }, IDLE_MS),
    };
    entry.timer.unref();
    list.push(entry);
    this.#idle.set(key, list);
  }

  /** One address of one MX host: TLS as planned, cleartext only where the plan allows. */
  async #tryHost(
    message: OpenedMessage,
    candidate: Candidate,
    address: string,
    recipients: readonly OpenedRecipient[],
  ): Promise<HostOutcome> {
    const { plan, host } = candidate;
    const servername = plan.check.kind === 'dane' ? (plan.check.names[0] ?? host.name) : host.name;
    const verify = certificateVerifier(plan.check);
    let key = `${address}|${servername}|${plan.tls}|${plan.check.kind}|${plan.enforceCheck}`;
    let conn: SmtpClientConnection;
    const cached = this.#take(key) ?? this.#take(`${key}|cleartext`);
    try {
      if (cached !== null) {
        conn = cached;
        if (cached.tls === null) key = `${key}|cleartext`;
      } else conn = await this.#open(address, servername, { mode: plan.tls, verify });
    } catch (e) {
      const tlsKind = tlsFailureKind(e);
      if (tlsKind === null) return { kind: 'failed', result: connectionFailure(e, host.name) };
      const decision = onTlsFailure(plan, tlsKind, certificateResult(e));
      this.#rpt(candidate, address, decision.result);
      if (decision.next !== 'cleartext') {
        return {
          kind: 'failed',
          result: temporary(
            '4.7.5',
            `TLS with ${host.name} failed and its policy forbids cleartext: ${reason(e)}`,
            451,
            host.name,
          ),
        };
      }
      try {
        conn = await this.#open(address, servername, { mode: 'none' });
        key = `${key}|cleartext`;
      } catch (e2) {
        return { kind: 'failed', result: connectionFailure(e2, host.name) };
      }
    }
    if (conn.tls !== null && cached === null) {
      if (conn.tls.verified) this.#d.tlsRpt?.record(candidate.rptPolicy, { ok: true });
      else this.#rpt(candidate, address, asTlsRptResult(conn.tls.verifyResult) ?? 'certificate-not-trusted');
    }
    try {
      const sent = await conn.send({
        mailFrom: message.envelope.mailFrom,
        rcptTo: recipients.map((r) => r.address),
        data: message.data,
        requireUtf8: message.envelope.utf8,
        eightBit: message.envelope.eightBit,
      });
      const results = new Map<number, AttemptResult>();
      sent.recipients.forEach((o, i) => {
        const r = recipients[i];
        if (r === undefined) return;
        const enhanced =
          o.enhanced ?? (o.kind === 'ok' ? '2.0.0' : o.kind === 'permanent' ? '5.0.0' : '4.0.0');
        const text = o.text.slice(0, 500);
        if (o.kind === 'ok') results.set(r.idx, delivered(enhanced, text, o.code, host.name));
        else if (o.kind === 'permanent') results.set(r.idx, permanent(enhanced, text, o.code, host.name));
        else if (o.phase === 'connection' && !sent.dataSent)
          return; // not answered: the next host may be
        else results.set(r.idx, temporary(enhanced, text, o.code, host.name));
      });
      if (results.size === 0) return { kind: 'failed', result: connectionFailure(sent.error, host.name) };
      this.#d.logger.info(
        {
          domain: message.recipients[0]?.domain,
          mx: host.name,
          tls: conn.tls?.protocol ?? 'none',
          queueId: message.id,
        },
        'delivery: handed to the next hop',
      );
      return { kind: 'answered', results };
    } finally {
      this.#give(key, conn);
    }
  }

  #open(
    address: string,
    servername: string,
    tls: { mode: 'required' | 'opportunistic' | 'none'; verify?: ReturnType<typeof certificateVerifier> },
  ): Promise<SmtpClientConnection> {
    const cfg = this.#d.config.delivery;
    return SmtpClientConnection.open({
      host: address,
      port: cfg.remote_port,
      servername,
      localName: this.#d.config.hostname,
      ...(cfg.source_address === '' ? {} : { localAddress: cfg.source_address }),
      timeouts: { connect: cfg.connect_timeout_seconds * 1000, ...this.#d.timeouts },
      tls: { ...tls, ...(this.#d.ca === undefined ? {} : { ca: this.#d.ca }) },
    });
  }

  #rpt(candidate: Candidate, address: string, result: TlsRptResultType): void {
    this.#d.tlsRpt?.record(candidate.rptPolicy, {
      ok: false,
      failure: { resultType: result, receivingMxHostname: candidate.host.name, receivingIp: address },
    });
  }

  #recordPolicyProblems(dest: Awaited<ReturnType<typeof resolveDestination>>): void {
    const rpt = this.#d.tlsRpt;
    if (rpt === undefined || dest.kind !== 'deliver') return;
    for (const r of dest.refused) {
      if (r.plan.failure)
        rpt.record(r.rptPolicy, {
          ok: false,
          failure: { resultType: r.plan.failure, receivingMxHostname: r.host.name },
        });
    }
  }
}

function tlsFailureKind(e: unknown): TlsFailureKind | null {
  if (!(e instanceof SmtpClientError) || e.tls === null) return null;
  switch (e.tls.reason) {
    case 'not-offered':
    case 'refused':
      return 'starttls-not-supported';
    case 'handshake':
      return 'handshake';
    case 'verify':
      return 'certificate';
  }
}

/** The verifier's own RFC 8460 result for a refused certificate (tls-requirements.ts certificateVerifier). */
function certificateResult(e: unknown): TlsRptResultType {
  const given = e instanceof SmtpClientError ? e.tls?.verifyResult : undefined;
  return asTlsRptResult(given) ?? 'certificate-not-trusted';
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message.slice(0, 300) : String(e).slice(0, 300);
}

function connectionFailure(e: unknown, host: string): AttemptResult {
  if (e instanceof SmtpClientError && e.reply !== null) {
    const r = e.reply;
    const enhanced = r.enhanced ?? (r.code >= 500 ? '5.0.0' : '4.0.0');
    // A refused greeting or EHLO is about the host, not the recipient: try again later.
    return temporary(
      enhanced.replace(/^5/, '4'),
      `${host} refused the session: ${r.code} ${r.text}`.slice(0, 500),
      451,
      host,
    );
  }
  return temporary('4.4.1', `No answer from ${host}: ${reason(e)}`, 451, host);
}
