// Sending TLS-RPT reports (RFC 8460): once a UTC day is over, each domain this node
// delivered to (and that asks for reports in `_smtp._tls.DOMAIN`) gets one aggregate
// report of that day's TLS sessions, built by tls-rpt.ts.
//
// - mailto: rua addresses get a multipart/report; report-type="tlsrpt" message with the
//   gzipped JSON as application/tlsrpt+gzip (§5.3), with TLS-Report-Domain and
//   TLS-Report-Submitter fields, DKIM-signed when the From domain has keys; it goes
//   through the outbound queue from the null sender (a report is never bounced).
// - https: rua addresses are not posted to yet (logged); mailto is what most receivers
//   publish.
// - A day is reported once and then forgotten; a domain without a valid record is skipped.

import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import type { DnsResolver } from '../net/dns.ts';
import { rfc5322Date } from '../smtp/trace-headers.ts';
import type { Store } from '../store/types.ts';
import type { OutboundQueue } from './queue.ts';
import {
  buildTlsRptReport,
  parseTlsRptRecord,
  type TlsRptRecorder,
  tlsRptFilename,
  tlsRptSubject,
} from './tls-rpt.ts';

export interface TlsRptSenderDeps {
  readonly config: Config;
  readonly store: Store;
  readonly recorder: TlsRptRecorder;
  readonly resolver: DnsResolver;
  readonly queue: OutboundQueue;
  /** DKIM signing for the report's From domain (the submission signer). */
  readonly sign: ((message: Buffer, domain: string) => Promise<Buffer>) | null;
  readonly logger: Logger;
  readonly now?: () => number;
}

const HOUR = 3_600_000;

export class TlsRptSender {
  readonly #d: TlsRptSenderDeps;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;

  constructor(deps: TlsRptSenderDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Check every hour for finished days to report. */
  start(): void {
    this.#timer = setInterval(() => {
      this.sendFinishedDays().catch((e: unknown) =>
        this.#d.logger.error({ err: e }, 'tls-rpt: sending failed'),
      );
    }, HOUR);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async sendFinishedDays(): Promise<number> {
    const today = new Date(this.#now()).toISOString().slice(0, 10);
    let sent = 0;
    for (const day of this.#d.recorder.days().filter((d) => d < today)) sent += await this.sendDay(day);
    return sent;
  }

  /** Report one UTC day ('YYYY-MM-DD') to every domain that asks; returns the reports queued. */
  async sendDay(day: string): Promise<number> {
    const { config, recorder, logger } = this.#d;
    const submitter = config.hostname;
    const from = await this.#from();
    let sent = 0;
    for (const domain of recorder.domains(day)) {
      let rua: { kind: string; address?: string; uri: string }[];
      try {
        const parsed = parseTlsRptRecord(await this.#d.resolver.resolve(`_smtp._tls.${domain}`, 'TXT'));
        if (!parsed.ok) continue;
        rua = parsed.value.rua;
      } catch {
        continue; // no record (or no answer): no report wanted
      }
      const reportId = `${day}.${randomUUID()}@${submitter}`;
      const report = buildTlsRptReport(recorder, day, domain, {
        organizationName: submitter,
        contactInfo: `postmaster@${submitter}`,
        reportId,
      });
      if (report === undefined) continue;
      const gz = gzipSync(Buffer.from(JSON.stringify(report), 'utf8'));
      for (const target of rua) {
        if (target.kind !== 'mailto' || target.address === undefined) {
          logger.info({ domain, uri: target.uri }, 'tls-rpt: https reporting is not supported; skipped');
          continue;
        }
        let message = reportMessage({
          from: from.address,
          to: target.address,
          domain,
          submitter,
          reportId,
          day,
          gz,
        });
        if (this.#d.sign && from.signable) message = await this.#d.sign(message, from.domain);
        await this.#d.queue.submit({
          accountId: null,
          kind: 'dsn',
          envelope: { mailFrom: '', utf8: false, eightBit: false, envid: null, ret: null },
          recipients: [target.address],
          data: message,
        });
        sent++;
      }
    }
    recorder.forget(day);
    return sent;
  }

  /** tls-reports@ the first hosted domain with an active DKIM key, else postmaster@hostname. */
  async #from(): Promise<{ address: string; domain: string; signable: boolean }> {
    const keys = await this.#d.store.listDkimKeys();
    const domain = keys
      .filter((k) => k.state === 'active')
      .map((k) => k.domain)
      .sort()[0];
    if (domain !== undefined) return { address: `tls-reports@${domain}`, domain, signable: true };
    return {
      address: `postmaster@${this.#d.config.hostname}`,
      domain: this.#d.config.hostname,
      signable: false,
    };
  }
}

interface ReportMessage {
  readonly from: string;
  readonly to: string;
  readonly domain: string;
  readonly submitter: string;
  readonly reportId: string;
  readonly day: string;
  readonly gz: Buffer;
}

/** RFC 8460 §5.3 report message. */
export function reportMessage(r: ReportMessage): Buffer {
  const boundary = `sealpost-tlsrpt-${randomUUID()}`;
  const filename = tlsRptFilename(
    r.submitter,
    r.domain,
    r.day,
    r.reportId.split('@')[0]!.replace(/[^A-Za-z0-9.-]/g, ''),
  );
  const b64 = r.gz.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  const text = [
    `From: <${r.from}>`,
    `To: <${r.to}>`,
    `Subject: ${tlsRptSubject(r.domain, r.submitter, r.reportId)}`,
    `Date: ${rfc5322Date(new Date())}`,
    `Message-ID: <${randomUUID()}@${r.submitter}>`,
    `TLS-Report-Domain: ${r.domain}`,
    `TLS-Report-Submitter: ${r.submitter}`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is an aggregate TLS report (RFC 8460) from ${r.submitter} about mail sent to ${r.domain} on ${r.day}.`,
    '',
    `--${boundary}`,
    'Content-Type: application/tlsrpt+gzip',
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${filename}"`,
    '',
    `${b64}--${boundary}--`,
    '',
  ].join('\r\n');
  return Buffer.from(text, 'utf8');
}
