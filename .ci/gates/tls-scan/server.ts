// A real Sealpost for the TLS gate: a temporary installation made with the `sealpost`
// CLI (init, domain add) whose [tls] cert_file/key_file are the scan CA's certificate,
// started with `sealpost start` in a child process with every TLS listener open on a
// free loopback port (MX, submission 465 + 587, IMAP implicit + STARTTLS, POP3 implicit
// + STLS, web HTTPS). The listeners are read from the server's own startup banner, so a
// listener added later is scanned (or, with an unknown scheme, fails the gate) without
// editing this file. stop() sends SIGTERM (SIGKILL after 20 s).

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const CLI = path.join(ROOT, 'src/cli/main.ts');
const run = promisify(execFile);

export type ListenerMode =
  | { kind: 'implicit'; http: boolean }
  | { kind: 'starttls'; protocol: 'smtp' | 'imap' | 'pop3' };

export interface Listener {
  /** e.g. "imap-starttls". */
  readonly name: string;
  readonly role: string;
  readonly url: string;
  readonly port: number;
  readonly mode: ListenerMode;
}

/** The listeners the gate insists on: a missing one fails the gate. */
export const EXPECTED_LISTENERS = [
  'mx-starttls',
  'submission-implicit',
  'submission-starttls',
  'imap-implicit',
  'imap-starttls',
  'pop3-implicit',
  'pop3-starttls',
  'web-implicit',
] as const;

export interface RunningServer {
  readonly listeners: readonly Listener[];
  /** Banner lines naming a listener the gate does not know how to scan. */
  readonly unknown: readonly string[];
  readonly logFile: string;
  stop(): Promise<void>;
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const s = net.createServer();
      return new Promise<net.Server>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve(s));
      });
    }),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
  return ports;
}

const IMPLICIT = new Set(['smtps', 'imaps', 'pop3s', 'https']);
const STARTTLS = new Set(['smtp', 'imap', 'pop3']);

/** "  imap       imap://127.0.0.1:12143  (STARTTLS offered, login only after it)" */
export function parseBanner(text: string): { listeners: Listener[]; unknown: string[] } {
  const listeners: Listener[] = [];
  const unknown: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s+([a-z0-9_-]+)\s+([a-z0-9]+):\/\/(\S+):(\d+)\s+\((.*)\)\s*$/.exec(line);
    if (m === null) continue;
    const [, role, scheme, host, port] = m as unknown as [string, string, string, string, string];
    const url = `${scheme}://${host}:${port}`;
    if (IMPLICIT.has(scheme))
      listeners.push({
        name: `${role}-implicit`,
        role,
        url,
        port: Number(port),
        mode: { kind: 'implicit', http: scheme === 'https' },
      });
    else if (STARTTLS.has(scheme))
      listeners.push({
        name: `${role}-starttls`,
        role,
        url,
        port: Number(port),
        mode: { kind: 'starttls', protocol: scheme as 'smtp' | 'imap' | 'pop3' },
      });
    else unknown.push(line.trim());
  }
  return { listeners, unknown };
}

export async function startSealpost(opts: {
  readonly dir: string;
  readonly hostname: string;
  readonly certFile: string;
  readonly keyFile: string;
}): Promise<RunningServer> {
  const configFile = path.join(opts.dir, 'sealpost.toml');
  const logFile = path.join(opts.dir, 'server.log');
  // Placed where `sealpost init` looks (data_dir/tls), so init keeps them instead of
  // writing its self-signed development certificate.
  mkdirSync(path.join(opts.dir, 'tls'), { recursive: true, mode: 0o700 });
  copyFileSync(opts.certFile, path.join(opts.dir, 'tls/cert.pem'));
  copyFileSync(opts.keyFile, path.join(opts.dir, 'tls/key.pem'));

  const [mx, sub, subTls, imap, imapTls, pop3, pop3Tls, web] = (await freePorts(8)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? opts.dir,
    SEALPOST_CONFIG: configFile,
    // No DNS is needed to serve TLS; point the resolver at a closed port.
    SEALPOST_DNS_SERVERS: '127.0.0.1:9',
    SEALPOST_DNS_TIMEOUT_MS: '1000',
    SEALPOST_LOG_LEVEL: 'warn',
    SEALPOST_MX_PORT: String(mx),
    SEALPOST_SUBMISSION_PORT: String(sub),
    SEALPOST_SUBMISSION_STARTTLS_PORT: String(subTls),
    SEALPOST_IMAP_PORT: String(imap),
    SEALPOST_IMAP_STARTTLS_PORT: String(imapTls),
    SEALPOST_POP3_PORT: String(pop3),
    SEALPOST_POP3_STARTTLS_PORT: String(pop3Tls),
    SEALPOST_WEB_PORT: String(web),
  };
  const cli = (...args: string[]) =>
    run(NODE, [CLI, ...args, '--config', configFile], { cwd: ROOT, env, timeout: 60_000 });
  await cli('init', '--hostname', opts.hostname, '--mx-host', '127.0.0.1', '--mx-port', String(mx));
  await cli('domain', 'add', 'sealpost.test');

  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(NODE, [CLI, 'start', '--config', configFile], {
    cwd: ROOT,
    env,
    stdio: ['ignore', out, out],
  });
  let exited: string | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exit;
    clearTimeout(timer);
  };
  try {
    const deadline = Date.now() + 60_000;
    let seenAt = 0;
    for (;;) {
      const text = readFileSync(logFile, 'utf8');
      if (exited !== null) throw new Error(`sealpost start ${exited}:\n${text}`);
      if (text.includes('Sealpost is running')) {
        seenAt ||= Date.now();
        const parsed = parseBanner(text);
        const names = new Set(parsed.listeners.map((l) => l.name));
        if (EXPECTED_LISTENERS.every((n) => names.has(n)) || Date.now() - seenAt > 5_000)
          return { ...parsed, logFile, stop };
      }
      if (Date.now() > deadline) throw new Error(`sealpost start did not report running in 60 s:\n${text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await stop();
    throw e;
  }
}
