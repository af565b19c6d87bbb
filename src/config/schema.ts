// The one configuration schema: every key, its type, its default and the fix shown
// when a value is wrong. The TOML file and SEALPOST_* environment overrides are
// both validated here, once, into a typed Config; nothing inside trusts raw input.

import { z } from 'zod';

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** A byte size: a whole number, or a string such as "25MiB", "512 KiB", "10GB". */
export function parseSize(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return null;
  const unit = SIZE_UNITS[(m[2] ?? '').toLowerCase() || 'b'];
  if (unit === undefined) return null;
  const n = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : null;
}

const size = (fieldDefault: number) =>
  z
    .union([z.number(), z.string()])
    .default(fieldDefault)
    .transform((v, ctx) => {
      const n = parseSize(v);
      if (n === null) {
        ctx.addIssue({ code: 'custom', message: 'not a byte size' });
        return z.NEVER;
      }
      return n;
    });

const port = (d: number) => z.number().int().min(0).max(65535).default(d);
const count = (d: number, min = 1) => z.number().int().min(min).default(d);
const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/);
const listenAddress = z.union([z.ipv4(), z.ipv6(), z.literal('localhost')]);

export const configSchema = z
  .object({
    hostname: hostName.default('localhost'),
    data_dir: z.string().min(1).default('./data'),
    workers: z.number().int().min(0).max(256).default(1),
    keys: z
      .object({
        master_key_file: z.string().min(1).default('master.key'),
      })
      .strict()
      .prefault({}),
    tls: z
      .object({
        cert_file: z.string().min(1).default('tls/cert.pem'),
        key_file: z.string().min(1).default('tls/key.pem'),
      })
      .strict()
      .prefault({}),
    mx: z
      .object({
        enabled: z.boolean().default(true),
        host: listenAddress.default('0.0.0.0'),
        port: port(25),
        max_message_size: size(25 * 1024 * 1024),
        max_recipients: count(100),
        max_connections: count(1000),
        max_connections_per_address: count(50),
        max_line_length: count(4096, 1000),
        max_header_size: size(256 * 1024),
        max_header_lines: count(1000),
        socket_timeout_seconds: count(300),
        greet_pause_ms: z.number().int().min(0).max(30000).default(0),
        verify: z.boolean().default(true),
        analysis_threads: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
        dmarc_reject: z.enum(['reject', 'quarantine', 'accept']).default('reject'),
        quota_exceeded: z.enum(['temporary', 'permanent']).default('temporary'),
      })
      .strict()
      .prefault({}),
    submission: z
      .object({
        enabled: z.boolean().default(true),
        host: listenAddress.default('0.0.0.0'),
        /** Implicit TLS (RFC 8314 §3.3: 465). */
        port: port(465),
        /** Submission with STARTTLS required before AUTH (RFC 6409: 587); 0 = closed. */
        starttls_port: port(587),
        max_message_size: size(25 * 1024 * 1024),
        max_recipients: count(100),
        max_connections: count(2000),
        max_connections_per_address: count(20),
        max_line_length: count(4096, 1000),
        socket_timeout_seconds: count(300),
        /** Put the client's address in the Received header (off: the sender's network stays private). */
        received_client_address: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    delivery: z
      .object({
        enabled: z.boolean().default(true),
        /** How long a message may wait before it is bounced (RFC 5321 §4.5.4.1: at least 4-5 days). */
        queue_lifetime_hours: z.number().positive().max(720).default(120),
        /** A delay notice (RFC 3464) to the sender after this long; 0 = never. */
        delay_warning_hours: z.number().min(0).max(720).default(4),
        /** Recipients being delivered at once by this node, and at once to one domain. */
        concurrency: count(20),
        per_destination_concurrency: count(4),
        /** Seconds before the first retry; each later one waits twice as long, up to max_retry_minutes. */
        first_retry_seconds: count(300, 1),
        max_retry_minutes: count(240, 1),
        /** Where outgoing connections start (the EHLO name is `hostname`); "" = the system's choice. */
        source_address: z.union([z.literal(''), z.ipv4(), z.ipv6()]).default(''),
        /** Port of the next hop: 25 except in tests and special setups. */
        remote_port: port(25),
        connect_timeout_seconds: count(30),
        /** Deliver to loopback/private addresses too (tests, a private network); off on the internet. */
        allow_private_addresses: z.boolean().default(false),
        /** Extra trust anchors (PEM) for MTA-STS certificate checks; "" = the system's roots only. */
        tls_ca_file: z.string().default(''),
        /** Port of the MTA-STS policy hosts (RFC 8461 §3.3: 443; others only for tests). */
        mta_sts_port: port(443),
      })
      .strict()
      .prefault({}),
    mta_sts: z
      .object({
        /** The MTA-STS policy this server publishes for its domains (RFC 8461 §3.2). */
        mode: z.enum(['enforce', 'testing', 'none']).default('testing'),
        max_age_seconds: z.number().int().min(86400).max(31557600).default(604800),
        /** MX host names senders may deliver to; empty = [hostname]. */
        mx: z.array(hostName).default([]),
      })
      .strict()
      .prefault({}),
    abuse: z
      .object({
        /** The abuse guard of the submission role (delivery/abuse-guard.ts). */
        enabled: z.boolean().default(true),
        /** Hard limits per account; over them a message gets 451 4.7.1 (nothing else happens). */
        messages_per_hour: count(200),
        messages_per_day: count(1000),
        new_recipients_per_hour: count(100),
        new_recipients_per_day: count(500),
        /** A recipient the account has not written to for this many days is new. */
        recipient_memory_days: z.number().int().min(1).max(365).default(30),
        /** Suspend when the last hour's recipients exceed spike_factor x the account's baseline... */
        spike_factor: z.number().min(2).max(1000).default(10),
        /** ...and spike_min_recipients (a new or quiet account may send this many in an hour). */
        spike_min_recipients: count(50),
        /** The baseline: mean recipients per active hour over this many days. */
        baseline_days: z.number().int().min(1).max(30).default(7),
        /** Suspend after this many permanent failures in an hour... */
        bounce_min: count(20),
        /** ...when they are over this share of the day's recipients. */
        bounce_percent: z.number().int().min(1).max(100).default(30),
        /** Who hears of a suspension besides the owner; "" = postmaster@ the account's domain, when it exists. */
        admin_address: z.union([z.literal(''), z.string().regex(/^[^\s@]+@[^\s@]+$/)]).default(''),
        /** How long the delivery role waits before looking again at a suspended sender's queued mail. */
        hold_minutes: count(10),
      })
      .strict()
      .prefault({}),
    imap: z
      .object({
        enabled: z.boolean().default(true),
        host: listenAddress.default('0.0.0.0'),
        port: port(993),
        starttls_port: port(0),
        max_connections: count(10000),
        max_connections_per_address: count(50),
        append_limit: size(50 * 1024 * 1024),
        idle_timeout_seconds: count(1800, 60),
        login_timeout_seconds: count(60, 5),
        max_unauthenticated_commands: count(20, 3),
        max_bad_commands: count(20, 3),
      })
      .strict()
      .prefault({}),
    pop3: z
      .object({
        enabled: z.boolean().default(true),
        host: listenAddress.default('0.0.0.0'),
        port: port(995),
        starttls_port: port(0),
        max_connections: count(2000),
        max_connections_per_address: count(20),
        idle_timeout_seconds: count(600, 60),
        login_timeout_seconds: count(60, 5),
        max_unauthenticated_commands: count(20, 3),
      })
      .strict()
      .prefault({}),
    web: z
      .object({
        enabled: z.boolean().default(true),
        host: listenAddress.default('0.0.0.0'),
        port: port(443),
        session_idle_minutes: z.number().int().min(1).max(1440).default(30),
        session_absolute_hours: z.number().int().min(1).max(720).default(12),
        binding: z.enum(['strict', 'relaxed']).default('strict'),
        /** The public origin browsers use, e.g. behind a reverse proxy; "" derives https://hostname[:port]. */
        origin: z
          .union([z.literal(''), z.string().regex(/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/)])
          .default(''),
        max_connections: count(5000),
        max_connections_per_address: count(100),
      })
      .strict()
      .prefault({}),
    accounts: z
      .object({
        default_quota: size(0),
      })
      .strict()
      .prefault({}),
    dns: z
      .object({
        servers: z.array(z.string().min(1)).default([]),
        timeout_ms: count(5000, 100),
        /** The first server validates DNSSEC and its AD bit is trusted: DANE (RFC 7672) is used. */
        dnssec: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema> & {
  /** Absolute path of the file the config came from (null: defaults and environment only). */
  readonly sourceFile: string | null;
};

/** What to tell a person whose value for this key is wrong. */
export const FIXES: Record<string, string> = {
  hostname: 'set hostname to the fully qualified name the server is reached at, e.g. "mail.example.com"',
  data_dir: 'set data_dir to a directory Sealpost may write to, e.g. "/var/lib/sealpost"',
  workers: 'use 0 for one worker process per CPU core, or a number from 1 to 256',
  'mx.host': 'set mx.host to an IP address to listen on, e.g. "0.0.0.0" or "::"',
  'mx.port': 'set mx.port to a TCP port from 0 to 65535 (25 for a public MX)',
  'mx.max_message_size': 'use a whole number of bytes or a size such as "25MiB"',
  'mx.max_line_length': 'use at least 1000 (RFC 5321 §4.5.3.1.6 requires 1000 octets per line)',
  'mx.dmarc_reject': 'use "reject", "quarantine" or "accept"',
  'mx.analysis_threads': 'use "auto" (one per spare core), 0 (on the main thread) or a number of threads',
  'mx.quota_exceeded': 'use "temporary" (452 4.2.2) or "permanent" (552 5.2.2)',
  'submission.port':
    'set submission.port to a TCP port from 0 to 65535 (465 for submission over implicit TLS)',
  'submission.starttls_port': 'use 587 for submission with STARTTLS, or 0 to leave it closed',
  'delivery.queue_lifetime_hours':
    'use a positive number of hours up to 720 (120 = 5 days, as RFC 5321 §4.5.4.1 suggests)',
  'abuse.admin_address':
    'use "" (postmaster@ the account\'s domain) or one address, e.g. "abuse@example.com"',
  'abuse.spike_factor': "use a number from 2 to 1000 (10: ten times the account's usual hourly volume)",
  'imap.port': 'set imap.port to a TCP port from 0 to 65535 (993 for IMAP over implicit TLS)',
  'imap.starttls_port': 'use 0 to leave the cleartext port closed, or 143 to offer IMAP with STARTTLS',
  'imap.append_limit': 'use a size such as "50MiB" (the largest message a client may APPEND)',
  'imap.idle_timeout_seconds': 'use at least 60; RFC 9051 §5.4 asks for at least 1800 (30 minutes)',
  'pop3.port': 'set pop3.port to a TCP port from 0 to 65535 (995 for POP3 over implicit TLS)',
  'pop3.starttls_port': 'use 0 to leave the cleartext port closed, or 110 to offer POP3 with STLS',
  'web.port': 'set web.port to a TCP port from 0 to 65535 (443 for HTTPS)',
  'web.session_idle_minutes': 'use a number of minutes from 1 to 1440 (a session unused this long ends)',
  'web.session_absolute_hours': 'use a number of hours from 1 to 720 (a session ends this long after login)',
  'web.binding':
    'use "strict" (same address and browser) or "relaxed" (same browser, same /24 or /64 network)',
  'web.origin':
    'use "" (derived from hostname and port) or an origin such as "https://mail.example.com" (no path)',
  'web.max_connections_per_address':
    'use a positive number (browsers open up to 6 connections each; NAT puts many behind one address)',
  'accounts.default_quota': 'use 0 for no quota, or a size such as "10GiB"',
  'dns.servers': 'list resolver addresses such as ["127.0.0.1", "[::1]:53", "10.0.0.2:5353"]',
  'log.level': 'use one of trace, debug, info, warn, error, fatal, silent',
};
