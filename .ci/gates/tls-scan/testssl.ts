// Runs testssl.sh (Debian's 3.0.8) against one TLS endpoint and reads its flat JSON
// report. Checks: -p protocols, -s cipher categories, -f forward secrecy, -P server
// preferences, -S server defaults and certificate, -U vulnerabilities (renegotiation,
// CRIME, BREACH, ROBOT, POODLE, SWEET32, ...), -e every cipher offered, and -h HTTP
// headers on HTTPS. Client simulation (-c) is left out: it rates nothing and costs a
// third of the run time. Each scan runs in its own process group so an aborted gate can
// end it with everything it started.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from './evaluate.ts';

export const FULL_CHECKS = ['-p', '-s', '-f', '-P', '-S', '-U', '-e'] as const;

export interface ScanRequest {
  readonly name: string;
  /** host:port; the host is the certificate's name (SNI), the address is 127.0.0.1. */
  readonly target: string;
  readonly starttls?: 'smtp' | 'imap' | 'pop3';
  readonly http?: boolean;
  readonly checks: readonly string[];
  readonly caFile: string;
  readonly outDir: string;
}

export interface ScanResult {
  readonly name: string;
  readonly exitCode: number | null;
  readonly seconds: number;
  readonly jsonFile: string;
  /** null when the report is missing or unreadable. */
  readonly findings: Finding[] | null;
  readonly error?: string;
}

const running = new Set<ChildProcess>();

/** Ends every scan still running (process groups), e.g. when the gate is interrupted. */
export function killAllScans(): void {
  for (const child of running) {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export async function runTestssl(req: ScanRequest, timeoutMs = 6 * 60_000): Promise<ScanResult> {
  const base = path.join(req.outDir, req.name);
  const jsonFile = `${base}.json`;
  const csvFile = `${base}.csv`;
  const logFile = `${base}.log`;
  // testssl.sh refuses to overwrite an existing report.
  for (const f of [jsonFile, csvFile, logFile]) rmSync(f, { force: true });
  const args = [
    '--quiet',
    '--warnings',
    'batch',
    '--color',
    '0',
    '--add-ca',
    req.caFile,
    '--ip',
    '127.0.0.1',
    '--nodns',
    'none',
    '--connect-timeout',
    '10',
    '--openssl-timeout',
    '10',
    ...req.checks,
    ...(req.http ? ['-h'] : []),
    ...(req.starttls ? ['--starttls', req.starttls] : []),
    '--jsonfile',
    jsonFile,
    '--csvfile',
    csvFile,
    '--logfile',
    logFile,
    req.target,
  ];
  const started = Date.now();
  const child = spawn('testssl', args, { detached: true, stdio: 'ignore' });
  running.add(child);
  const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('exit', (code) => resolve(code));
  });
  clearTimeout(timer);
  running.delete(child);
  const seconds = Math.round((Date.now() - started) / 1000);
  if (!existsSync(jsonFile))
    return { name: req.name, exitCode, seconds, jsonFile, findings: null, error: 'no JSON report' };
  try {
    const parsed = JSON.parse(readFileSync(jsonFile, 'utf8')) as unknown;
    if (!Array.isArray(parsed)) throw new Error('report is not a JSON array');
    const findings = parsed.map((f: Record<string, unknown>) => ({
      id: String(f['id'] ?? ''),
      severity: String(f['severity'] ?? ''),
      finding: String(f['finding'] ?? ''),
    }));
    return { name: req.name, exitCode, seconds, jsonFile, findings };
  } catch (e) {
    return { name: req.name, exitCode, seconds, jsonFile, findings: null, error: (e as Error).message };
  }
}
