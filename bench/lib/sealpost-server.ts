// Runs a real Sealpost for a benchmark: a temporary installation made with the `sealpost`
// CLI (init, domain add, user add), then `sealpost start` in a child process with its
// output in a log file, ready once its MX port answers. Stopping sends SIGTERM (SIGKILL
// after a bound) and removes the temporary directory.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'src/cli/main.ts');
const run = promisify(execFile);

export interface SealpostOptions {
  readonly hostname: string;
  readonly domain: string;
  readonly user: string;
  /** Environment added for every command (e.g. SEALPOST_DNS_SERVERS). */
  readonly env: Readonly<Record<string, string>>;
  /** Extra node flags for the server child, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/p']. */
  readonly nodeFlags?: readonly string[];
  /** Keep the temporary directory (for inspection). */
  readonly keep?: boolean;
  readonly log: (line: string) => void;
}

export interface RunningSealpost {
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  /** Messages stored for `user`, per mailbox (reads the store; call after stop()). */
  storedMessages(): Promise<Record<string, number>>;
  stop(): Promise<void>;
  /** Removes the temporary directory (unless kept). */
  cleanup(): void;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startSealpost(options: SealpostOptions): Promise<RunningSealpost> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-bench-'));
  const configFile = path.join(dir, 'sealpost.toml');
  const logFile = path.join(dir, 'server.log');
  const env = { ...process.env, ...options.env };
  const cleanup = () => {
    if (options.keep) options.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  const cli = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, [CLI, ...args, '--config', configFile, '--json'], {
      cwd: ROOT,
      env,
      timeout: 60_000,
    });
    return stdout;
  };

  let child: ReturnType<typeof spawn> | null = null;
  try {
    const port = await freePort();
    await cli('init', '--hostname', options.hostname, '--mx-host', '127.0.0.1', '--mx-port', String(port));
    await cli('domain', 'add', options.domain);
    await cli('user', 'add', options.user, '--generate');

    const out = openSync(logFile, 'a');
    child = spawn(process.execPath, [...(options.nodeFlags ?? []), CLI, 'start', '--config', configFile], {
      cwd: ROOT,
      env,
      stdio: ['ignore', out, out],
    });
    const spawned = child;
    let exited: string | null = null;
    const exit = new Promise<void>((resolve) => {
      spawned.once('exit', (code, signal) => {
        exited = `exited with ${signal ?? code}`;
        resolve();
      });
    });
    const deadline = Date.now() + 60_000;
    while (!(await canConnect(port))) {
      if (exited !== null || Date.now() > deadline) {
        throw new Error(`sealpost start ${exited ?? 'did not open its port in 60 s'}:\n${tail(logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    let stopped = false;
    return {
      port,
      pid: spawned.pid ?? 0,
      dir,
      logFile,
      async stop() {
        if (stopped) return;
        stopped = true;
        if (exited === null) spawned.kill('SIGTERM');
        const timer = setTimeout(() => {
          options.log('sealpost did not stop in 20 s; killing it');
          spawned.kill('SIGKILL');
        }, 20_000);
        await exit;
        clearTimeout(timer);
      },
      async storedMessages() {
        const store = await openSqliteStore({ path: path.join(dir, 'sealpost.db') });
        try {
          const account = await store.getAccountByAddress(options.user);
          if (account === null) throw new Error(`no account ${options.user}`);
          const counts: Record<string, number> = {};
          for (const m of await store.listMailboxes(account.id))
            if (m.messageCount > 0) counts[m.name] = m.messageCount;
          return counts;
        } finally {
          await store.close();
        }
      },
      cleanup,
    };
  } catch (e) {
    child?.kill('SIGKILL');
    cleanup();
    throw e;
  }
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
