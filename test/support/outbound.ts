// Shared pieces of the outbound-mail tests and benchmarks: a sending Sealpost installation
// (delivery to loopback addresses allowed, a chosen source address), its DNS (SPF, DMARC,
// the DKIM keys `sealpost dkim` made, published exactly as `sealpost dkim dns` prints
// them, then activated), submission through nodemailer, SASL PLAIN, and polling.

import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import type { DnsTestServer } from './dns-server.ts';
import { type Installation, PASSWORD, runCli } from './server.ts';

/** Poll `fn` until it gives something other than null. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null> | T | null,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** RFC 4616 PLAIN initial response. */
export function saslPlain(user: string, pass: string): string {
  return Buffer.from(`\0${user}\0${pass}`).toString('base64');
}

export interface SenderEnvOptions {
  readonly dnsPort: number;
  readonly hostname: string;
  /** Where outgoing connections start (its SPF names it). */
  readonly sourceAddress: string;
  /** The next hops' SMTP port. */
  readonly remotePort: number;
}

/** Environment of an installation that sends to loopback receivers. */
export function senderEnv(o: SenderEnvOptions): Record<string, string> {
  return {
    SEALPOST_DNS_SERVERS: `127.0.0.1:${o.dnsPort}`,
    SEALPOST_LOG_LEVEL: 'warn',
    SEALPOST_HOSTNAME: o.hostname,
    SEALPOST_DELIVERY_ALLOW_PRIVATE_ADDRESSES: 'true',
    SEALPOST_DELIVERY_REMOTE_PORT: String(o.remotePort),
    SEALPOST_DELIVERY_SOURCE_ADDRESS: o.sourceAddress,
  };
}

/** Environment of a receiving installation whose MX listens on `address`:`mxPort`. */
export function receiverEnv(o: {
  dnsPort: number;
  hostname: string;
  address: string;
  mxPort: number;
}): Record<string, string> {
  return {
    SEALPOST_DNS_SERVERS: `127.0.0.1:${o.dnsPort}`,
    SEALPOST_LOG_LEVEL: 'warn',
    SEALPOST_HOSTNAME: o.hostname,
    SEALPOST_MX_HOST: o.address,
    SEALPOST_MX_PORT: String(o.mxPort),
  };
}

/**
 * Publish SPF (the source address), DMARC p=reject and the host's A record for `domain`,
 * make a DKIM pair with the CLI, publish what `dkim dns` prints and activate it.
 * Returns the selectors, sorted.
 */
export async function publishSender(
  inst: Installation,
  dns: DnsTestServer,
  domain: string,
  hostname: string,
  sourceAddress: string,
): Promise<string[]> {
  dns.set(domain, 'TXT', [`v=spf1 ip4:${sourceAddress} -all`]);
  dns.set(`_dmarc.${domain}`, 'TXT', ['v=DMARC1; p=reject']);
  dns.set(hostname, 'A', [sourceAddress]);
  const gen = await runCli(inst, ['dkim', 'generate', domain]);
  assert.equal(gen.code, 0, gen.stderr);
  const generation = new RegExp(`sealpost dkim activate ${domain.replace(/\./g, '\\.')} (sp\\d{6})`).exec(
    gen.stdout,
  )?.[1];
  assert.ok(generation, gen.stdout);
  const listed = await runCli(inst, ['dkim', 'dns', domain, '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const records = JSON.parse(listed.stdout) as { name: string; value: string }[];
  for (const r of records) dns.set(r.name, 'TXT', [r.value]);
  const act = await runCli(inst, ['dkim', 'activate', domain, generation]);
  assert.equal(act.code, 0, act.stderr);
  return records.map((r) => r.name.split('.')[0]!).sort();
}

/** Submit one message on implicit-TLS submission; returns the reply and the queue id. */
export async function submit(
  port: number,
  user: string,
  mail: { to: string; subject: string; text: string; from?: string },
  pass = PASSWORD,
): Promise<{ response: string; queueId: string }> {
  const info = await nodemailer
    .createTransport({
      host: '127.0.0.1',
      port,
      secure: true,
      auth: { user, pass },
      tls: { rejectUnauthorized: false },
    })
    .sendMail({ from: mail.from ?? user, to: mail.to, subject: mail.subject, text: mail.text });
  const queueId = /queued as (que_\S+)/.exec(info.response)?.[1];
  assert.ok(queueId, info.response);
  return { response: info.response, queueId };
}
