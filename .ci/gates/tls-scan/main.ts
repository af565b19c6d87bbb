// The TLS scan gate (issue 6, item 1), run by .ci/gates/10-tls-scan.sh with RESULTS set.
// 1. A throwaway CA and a server certificate (ECDSA P-256, SHA-256, SAN = the scanned
//    name and 127.0.0.1) made with openssl; testssl.sh gets the CA with --add-ca.
// 2. A real Sealpost (server.ts) with every TLS listener open; each one is scanned with
//    testssl.sh (testssl.ts) and judged by evaluate.ts; each STARTTLS listener is also
//    probed for command injection (starttls-injection.ts; testssl 3.0.8 has no --SI).
// 3. Control listeners with planted flaws (control.ts) are scanned the same way and
//    must fail, so a gate that stopped detecting anything cannot pass.
// 4. $RESULTS/tls-scan/summary.txt (per listener), summary.json and the raw testssl
//    JSON/CSV/log per listener; the exit code is 0 only if every listener passed and
//    every control failed as expected. The server, the controls and the temporary
//    directory are removed on every path, including SIGINT/SIGTERM.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControlServers } from './control.ts';
import { evaluate, type RuleClass, type Verdict } from './evaluate.ts';
import { EXPECTED_LISTENERS, type Listener, startSealpost } from './server.ts';
import { type InjectionResult, probeStarttlsInjection } from './starttls-injection.ts';
import { writeSummary } from './summary.ts';
import { FULL_CHECKS, killAllScans, runTestssl, type ScanResult } from './testssl.ts';

const HOSTNAME = 'mx.sealpost.test';
const CONTROL_HOST = 'control.sealpost.test';
const CONCURRENCY = Number(process.env['TLS_SCAN_JOBS'] ?? 5);

export interface ListenerReport {
  readonly listener: Listener;
  readonly scan: ScanResult;
  readonly verdict: Verdict | null;
  readonly injection: InjectionResult | null;
  readonly pass: boolean;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA (10 days) and leaves (90 days, under the 825-day and over the 60-day warnings). */
function makeCertificates(dir: string) {
  const ext = (san: string, usage: string) =>
    [
      '[leaf]',
      'basicConstraints = critical, CA:false',
      `keyUsage = critical, ${usage}`,
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${san}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n');
  writeFileSync(
    path.join(dir, 'leaf.cnf'),
    ext(`DNS:${HOSTNAME}, DNS:localhost, IP:127.0.0.1`, 'digitalSignature'),
  );
  writeFileSync(path.join(dir, 'rsa.cnf'), ext(`DNS:${CONTROL_HOST}`, 'digitalSignature, keyEncipherment'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(
    [
      'req',
      '-x509',
      '-new',
      ...ec,
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '10',
      '-sha256',
      '-subj',
      '/CN=Sealpost TLS scan CA',
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const issue = (name: string, key: string[], cnf: string, cn: string) => {
    openssl(
      [
        'req',
        '-new',
        ...key,
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${cn}`,
      ],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '90',
        '-sha256',
        '-extfile',
        cnf,
        '-extensions',
        'leaf',
      ],
      dir,
    );
  };
  issue('server', ec, 'leaf.cnf', HOSTNAME);
  issue('control', ['-newkey', 'rsa:2048'], 'rsa.cnf', CONTROL_HOST);
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  return {
    caFile: path.join(dir, 'ca.pem'),
    ca: read('ca.pem'),
    server: {
      certFile: path.join(dir, 'server.pem'),
      keyFile: path.join(dir, 'server.key'),
      cert: read('server.pem'),
      key: read('server.key'),
    },
    control: { cert: read('control.pem'), key: read('control.key') },
  };
}

/** Runs tasks with at most `limit` at once, results in input order. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < tasks.length; i = next++) results[i] = await tasks[i]!();
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  return results;
}

async function main(): Promise<number> {
  const results = process.env['RESULTS'];
  if (!results) throw new Error('RESULTS is not set (run through .ci/gates/run-all)');
  const outDir = path.join(results, 'tls-scan');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const version =
    /testssl\s+(\S+)/.exec(
      execFileSync('testssl', ['--version'], { encoding: 'utf8' }).replace(/\x1b\[[0-9;]*m/g, ''),
    )?.[1] ?? 'unknown';

  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-tls-scan-'));
  let server: Awaited<ReturnType<typeof startSealpost>> | null = null;
  let controls: Awaited<ReturnType<typeof startControlServers>> | null = null;
  const cleanup = async () => {
    killAllScans();
    await server?.stop();
    if (server !== null) copyFileSync(server.logFile, path.join(outDir, 'server.log'));
    await controls?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      console.error(`tls-scan: ${sig}, cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });

  try {
    const certs = makeCertificates(dir);
    server = await startSealpost({ dir: path.join(dir, 'sealpost'), hostname: HOSTNAME, ...certs.server });
    controls = await startControlServers({ ecdsa: certs.server, rsa: certs.control });
    const { listeners, unknown } = server;
    console.log(
      `tls-scan: ${listeners.length} listeners: ${listeners.map((l) => `${l.name} ${l.url}`).join(', ')}`,
    );

    const scanOf = (l: Listener) => () =>
      runTestssl({
        name: l.name,
        target: `${HOSTNAME}:${l.port}`,
        ...(l.mode.kind === 'starttls' ? { starttls: l.mode.protocol } : { http: l.mode.http }),
        checks: FULL_CHECKS,
        caFile: certs.caFile,
        outDir,
      });
    const controlScan = () =>
      runTestssl({
        name: 'control-bare-node-tls',
        target: `${CONTROL_HOST}:${controls!.barePort}`,
        checks: ['-p', '-s', '-e', '-R'],
        caFile: certs.caFile,
        outDir,
      });
    const scans = await pool([controlScan, ...listeners.map(scanOf)], CONCURRENCY);
    // The probes run after the scans, one at a time: they wait for silence and must not
    // compete with testssl for the CPU.
    const injections: (InjectionResult | null)[] = [];
    for (const l of listeners)
      injections.push(
        l.mode.kind === 'starttls'
          ? await probeStarttlsInjection({
              protocol: l.mode.protocol,
              port: l.port,
              servername: HOSTNAME,
              ca: certs.ca,
            })
          : null,
      );
    const naive = await probeStarttlsInjection({
      protocol: 'smtp',
      port: controls.naiveStarttlsPort,
      servername: HOSTNAME,
      ca: certs.ca,
    });

    const reports: ListenerReport[] = listeners.map((listener, i) => {
      const scan = scans[i + 1]!;
      const verdict = scan.findings === null ? null : evaluate(scan.findings);
      const injection = injections[i] ?? null;
      const pass = verdict !== null && verdict.failures.length === 0 && (injection === null || injection.ok);
      return { listener, scan, verdict, injection, pass };
    });
    const controlScanResult = scans[0]!;
    const controlVerdict = controlScanResult.findings === null ? null : evaluate(controlScanResult.findings);
    const mustDetect: RuleClass[] = ['protocol', 'cipher-fs', 'cipher-aead', 'client-renegotiation'];
    const detected = new Set(controlVerdict?.failures.map((f) => f.rule) ?? []);
    const undetected = mustDetect.filter((r) => !detected.has(r));
    if (naive.ok) undetected.push('starttls-injection' as RuleClass);
    const names = new Set(listeners.map((l) => l.name));
    const missing = EXPECTED_LISTENERS.filter((n) => !names.has(n));

    const pass =
      reports.every((r) => r.pass) && undetected.length === 0 && missing.length === 0 && unknown.length === 0;
    const summaryFile = writeSummary(outDir, {
      version,
      seconds: Math.round((Date.now() - started) / 1000),
      reports,
      control: { scan: controlScanResult, verdict: controlVerdict, naive, undetected },
      missing,
      unknown,
      pass,
    });
    process.stdout.write(readFileSync(summaryFile, 'utf8'));
    console.log(`tls-scan: summary in ${summaryFile}; raw testssl reports in ${outDir}`);
    return pass ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`tls-scan: ${(e as Error).stack ?? String(e)}`);
    process.exit(2);
  },
);
