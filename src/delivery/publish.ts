// What a hosted domain publishes so that mail to and from it works and is trusted
// (issue 5 item 6): the DNS records `sealpost quickstart DOMAIN` prints, and the
// MTA-STS policy the web role serves at https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
//
// - MX (RFC 5321 §5.1) to this server's host name.
// - SPF (RFC 7208): "v=spf1 mx -all" — the hosts the MX names send, nothing else.
// - DKIM (RFC 6376, RFC 8463): one TXT per key DNS must carry (delivery/dkim).
// - DMARC (RFC 7489): p=quarantine with strict alignment, aggregate reports to postmaster.
// - MTA-STS (RFC 8461 §3.1): "_mta-sts" TXT with an id that changes whenever the policy
//   does (here: a digest of the policy text), and the mta-sts host for the policy.
// - TLS-RPT (RFC 8460 §3): reports of senders' TLS failures to postmaster.
// - Client configuration: SRV records of RFC 6186 with RFC 8314 §5.1 (implicit TLS
//   preferred, cleartext services marked "not offered" with target "."), and an
//   autoconfig host for clients that look there.

import { createHash } from 'node:crypto';
import type { Config } from '../config/index.ts';

export interface DnsRecord {
  readonly name: string; // absolute, without the trailing dot
  readonly type: 'MX' | 'TXT' | 'CNAME' | 'SRV';
  readonly value: string; // zone-file RDATA
  readonly why: string;
}

/** The policy text (RFC 8461 §3.2), CRLF line ends. */
export function mtaStsPolicy(config: Config): string {
  const p = config.mta_sts;
  const mx = p.mx.length > 0 ? p.mx : [config.hostname];
  const lines = [
    'version: STSv1',
    `mode: ${p.mode}`,
    ...mx.map((m) => `mx: ${m.toLowerCase()}`),
    `max_age: ${p.max_age_seconds}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** The policy id (1-32 alphanumerics, RFC 8461 §3.1): changes whenever the policy text does. */
export function mtaStsId(config: Config): string {
  return createHash('sha256').update(mtaStsPolicy(config)).digest('hex').slice(0, 20);
}

const q = (s: string) => `"${s}"`;

/** Every record a domain needs, DKIM keys given as [selector, TXT value]. */
export function domainRecords(
  config: Config,
  domain: string,
  dkim: readonly (readonly [selector: string, txt: string])[],
): DnsRecord[] {
  const host = config.hostname;
  const sub = config.submission;
  const records: DnsRecord[] = [
    { name: domain, type: 'MX', value: `10 ${host}.`, why: 'mail for the domain comes here' },
    { name: domain, type: 'TXT', value: q('v=spf1 mx -all'), why: 'SPF: only the MX hosts send for it' },
    ...dkim.map(([selector, txt]) => ({
      name: `${selector}._domainkey.${domain}`,
      type: 'TXT' as const,
      value: splitTxt(txt),
      why: 'DKIM public key',
    })),
    {
      name: `_dmarc.${domain}`,
      type: 'TXT',
      value: q(`v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:postmaster@${domain}`),
      why: 'DMARC: unauthenticated mail claiming the domain goes to spam; reports to postmaster',
    },
    {
      name: `mta-sts.${domain}`,
      type: 'CNAME',
      value: `${host}.`,
      why: 'serves the MTA-STS policy (the TLS certificate must name it)',
    },
    {
      name: `_mta-sts.${domain}`,
      type: 'TXT',
      value: q(`v=STSv1; id=${mtaStsId(config)}`),
      why: `MTA-STS: senders must use TLS to the MX (mode ${config.mta_sts.mode})`,
    },
    {
      name: `_smtp._tls.${domain}`,
      type: 'TXT',
      value: q(`v=TLSRPTv1; rua=mailto:postmaster@${domain}`),
      why: 'TLS-RPT: senders report TLS failures to postmaster',
    },
    {
      name: `_submissions._tcp.${domain}`,
      type: 'SRV',
      value: `0 1 ${sub.port} ${host}.`,
      why: 'mail clients: submission over implicit TLS',
    },
    {
      name: `_submission._tcp.${domain}`,
      type: 'SRV',
      value: sub.starttls_port > 0 ? `10 1 ${sub.starttls_port} ${host}.` : '0 0 0 .',
      why: sub.starttls_port > 0 ? 'mail clients: submission with STARTTLS' : 'not offered',
    },
    {
      name: `_imaps._tcp.${domain}`,
      type: 'SRV',
      value: `0 1 ${config.imap.port} ${host}.`,
      why: 'mail clients: IMAP over implicit TLS',
    },
    {
      name: `_imap._tcp.${domain}`,
      type: 'SRV',
      value: config.imap.starttls_port > 0 ? `10 1 ${config.imap.starttls_port} ${host}.` : '0 0 0 .',
      why: config.imap.starttls_port > 0 ? 'mail clients: IMAP with STARTTLS' : 'not offered',
    },
    {
      name: `_pop3s._tcp.${domain}`,
      type: 'SRV',
      value: `10 1 ${config.pop3.port} ${host}.`,
      why: 'mail clients: POP3 over implicit TLS',
    },
    {
      name: `_pop3._tcp.${domain}`,
      type: 'SRV',
      value: config.pop3.starttls_port > 0 ? `20 1 ${config.pop3.starttls_port} ${host}.` : '0 0 0 .',
      why: config.pop3.starttls_port > 0 ? 'mail clients: POP3 with STLS' : 'not offered',
    },
    {
      name: `autoconfig.${domain}`,
      type: 'CNAME',
      value: `${host}.`,
      why: 'Thunderbird-style autoconfiguration (the certificate must name it)',
    },
  ];
  return records;
}

/** A TXT value as zone-file character-strings of at most 255 bytes. */
function splitTxt(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(q(value.slice(i, i + 255)));
  return parts.length === 1 ? parts[0]! : `( ${parts.join(' ')} )`;
}

export function zoneFile(records: readonly DnsRecord[]): string {
  const width = Math.max(...records.map((r) => r.name.length + 1));
  return records
    .map((r) => `${`${r.name}.`.padEnd(width)}  3600 IN ${r.type.padEnd(5)} ${r.value}    ; ${r.why}`)
    .join('\n');
}

/**
 * Mail client autoconfiguration (the Thunderbird "config-v1.1" format) for a hosted
 * domain: implicit TLS everywhere, the full address as the user name.
 */
export function autoconfigXml(config: Config, domain: string): string {
  const host = config.hostname;
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const server = (kind: string, tag: string, type: string, port: number) =>
    `    <${tag} type="${type}">\n      <hostname>${esc(host)}</hostname>\n      <port>${port}</port>\n      <socketType>SSL</socketType>\n      <authentication>password-cleartext</authentication>\n      <username>%EMAILADDRESS%</username>\n    </${tag}>${kind}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${esc(domain)}">`,
    `    <domain>${esc(domain)}</domain>`,
    `    <displayName>${esc(domain)} mail</displayName>`,
    server('', 'incomingServer', 'imap', config.imap.port),
    server('', 'incomingServer', 'pop3', config.pop3.port),
    server('', 'outgoingServer', 'smtp', config.submission.port),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}
