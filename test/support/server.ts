// Test harness: a real Sealpost installation in a temp directory, started on free
// loopback ports — in this process (startInProcess) or as a child process that a
// test may kill -9 (startChild). DNS comes from a local test DNS server; nothing of
// ours is mocked.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addAccount, addDomain } from '../../src/admin/accounts.ts';
import { initInstallation } from '../../src/app/init.ts';
import { openRuntime, type Runtime } from '../../src/app/runtime.ts';
import { type RunningServer, startServer } from '../../src/app/start.ts';
import { type Config, loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { type DnsTestServer, startDnsServer } from './dns-server.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const NODE = path.join(ROOT, 'node_modules/.bin/node');
export const CLI = path.join(ROOT, 'src/cli/main.ts');
export const HOSTNAME = 'mx.sealpost.test';
export const PASSWORD = 'correct horse battery staple';

export interface Installation {
  readonly dir: string;
  readonly configFile: string;
  readonly dns: DnsTestServer;
  /** Environment for the server and the CLI (config path, DNS, overrides). */
  readonly env: NodeJS.ProcessEnv;
  config(): Config;
  cleanup(): Promise<void>;
}

export interface InstallOptions {
  readonly domains?: readonly string[];
  readonly users?: readonly string[];
  /** Extra SEALPOST_* overrides. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Create an installation with domains and users; the server is not started. */
export async function install(options: InstallOptions = {}): Promise<Installation> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-test-'));
  const configFile = path.join(dir, 'sealpost.toml');
  const dns = await startDnsServer();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    SEALPOST_CONFIG: configFile,
    SEALPOST_DNS_SERVERS: `127.0.0.1:${dns.port}`,
    SEALPOST_DNS_TIMEOUT_MS: '2000',
    SEALPOST_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const r = await initInstallation({
    configFile,
    hostname: HOSTNAME,
    dataDir: '.',
    mxHost: '127.0.0.1',
    mxPort: 0,
    imapPort: 0,
    pop3Port: 0,
    webPort: 0,
    submissionPort: 0,
    submissionStarttlsPort: 0,
    env,
  });
  const rt = await openRuntime(r.config, { env });
  try {
    for (const d of options.domains ?? ['sealpost.test']) await addDomain(rt, 'test', d);
    for (const u of options.users ?? ['alice@sealpost.test'])
      await addAccount(rt, 'test', { address: u, password: PASSWORD });
  } finally {
    await rt.close();
  }
  return {
    dir,
    configFile,
    dns,
    env,
    config: () => loadConfig({ file: configFile, env }),
    async cleanup() {
      await dns.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface InProcess {
  readonly server: RunningServer;
  readonly mxPort: number;
}

export async function startInProcess(inst: Installation): Promise<InProcess> {
  const server = await startServer(inst.config(), { logger: silentLogger(), env: inst.env });
  const mx = server.listening.find((l) => l.role === 'mx');
  if (mx === undefined) throw new Error('mx did not start');
  return { server, mxPort: mx.port };
}

/** Open the installation's store for assertions (a second connection, like the CLI). */
export async function openStore(inst: Installation): Promise<Runtime> {
  return openRuntime(inst.config(), { env: inst.env });
}

export interface Child {
  readonly process: ChildProcess;
  readonly mxPort: number;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Start `sealpost start` as a child process on a fixed port; resolves when it listens. */
export async function startChild(inst: Installation, mxPort: number): Promise<Child> {
  const child = spawn(NODE, [CLI, 'start', '--config', inst.configFile], {
    env: { ...inst.env, SEALPOST_MX_PORT: String(mxPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    const check = () => {
      if (output.includes('Sealpost is running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    process: child,
    mxPort,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Run the CLI as a user would; returns exit code and output. */
export function runCli(
  inst: Pick<Installation, 'env'>,
  args: readonly string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [CLI, ...args], { env: inst.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdin.end(input ?? '');
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
