// The TLS gate's artefact: summary.txt (one row per listener with finding counts per
// severity, the protocols and ciphers offered, the STARTTLS injection result, then every
// failure and exclusion with its reason, and the controls' detections) and summary.json
// (the same data for machines). Written into the results folder the CI run prints.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Verdict } from './evaluate.ts';
import type { ListenerReport } from './main.ts';
import type { InjectionResult } from './starttls-injection.ts';
import type { ScanResult } from './testssl.ts';

export interface Summary {
  readonly version: string;
  readonly seconds: number;
  readonly reports: readonly ListenerReport[];
  readonly control: {
    readonly scan: ScanResult;
    readonly verdict: Verdict | null;
    readonly naive: InjectionResult;
    readonly undetected: readonly string[];
  };
  readonly missing: readonly string[];
  readonly unknown: readonly string[];
  readonly pass: boolean;
}

const SEVERITIES = ['OK', 'INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => c.padEnd(widths[i] ?? 0))
    .join(' ')
    .trimEnd();
}

export function writeSummary(outDir: string, s: Summary): string {
  const lines: string[] = [];
  lines.push(`TLS scan gate: testssl.sh ${s.version}, ${new Date().toISOString()}, ${s.seconds} s`);
  lines.push(
    'Checks: -p -s -f -P -S -U -e (+ -h on HTTPS), --add-ca with the scan CA; STARTTLS injection by our own probe.',
  );
  lines.push('Counts are testssl severities; "excl" = MEDIUM+ findings waived by EXCLUSIONS (listed below).');
  lines.push('');
  const widths = [20, 28, 5, 4, 5, 4, 7, 5, 9, 5, 16, 8, 10];
  lines.push(
    row(['listener', 'url', 'gate', ...SEVERITIES, 'excl', 'protocols', 'ciphers', 'injection'], widths),
  );
  for (const r of s.reports) {
    const v = r.verdict;
    lines.push(
      row(
        [
          r.listener.name,
          r.listener.url,
          r.pass ? 'PASS' : 'FAIL',
          ...SEVERITIES.map((sev) => String(v?.counts[sev] ?? '-')),
          String(v?.excluded.length ?? '-'),
          v ? v.protocols.map((p) => (p === 'TLS1' ? '1.0' : p.replace('TLS1_', '1.'))).join(',') : '-',
          String(v?.ciphers.length ?? '-'),
          r.injection === null ? 'n/a' : r.injection.ok ? 'discarded' : 'FAIL',
        ],
        widths,
      ),
    );
  }
  lines.push('');
  const failures = s.reports.flatMap((r) => [
    ...(r.verdict === null
      ? [
          `${r.listener.name}: scan produced no report (${r.scan.error ?? 'unknown'}, exit ${r.scan.exitCode})`,
        ]
      : []),
    ...(r.verdict?.failures.map((f) => `${r.listener.name}: [${f.rule}] ${f.id}: ${f.detail}`) ?? []),
    ...(r.injection && !r.injection.ok
      ? [`${r.listener.name}: [starttls-injection] ${r.injection.detail}`]
      : []),
  ]);
  for (const m of s.missing) failures.push(`${m}: listener not found in the server's banner (not scanned)`);
  for (const u of s.unknown) failures.push(`unknown listener scheme, not scanned: ${u}`);
  for (const u of s.control.undetected)
    failures.push(`control: the gate did not detect the planted "${u}" flaw`);
  lines.push(failures.length === 0 ? 'Failures: none' : 'Failures:');
  for (const f of failures) lines.push(`  ${f}`);
  const excluded = new Map<string, string>();
  for (const r of s.reports)
    for (const e of r.verdict?.excluded ?? [])
      excluded.set(
        `${e.id} (${e.severity}: ${e.finding})`,
        `${e.reason} [${s.reports.filter((x) => x.verdict?.excluded.some((y) => y.id === e.id)).length} listeners]`,
      );
  lines.push(
    excluded.size === 0 ? 'Exclusions applied: none' : 'Exclusions and tolerated scan problems applied:',
  );
  for (const [k, reason] of excluded) lines.push(`  ${k}: ${reason}`);
  lines.push('');
  const cv = s.control.verdict;
  lines.push('Controls (must be caught):');
  lines.push(
    `  bare Node.js TLS server (TLS 1.0, OpenSSL defaults, RSA): ${
      cv === null
        ? `no report (${s.control.scan.error ?? 'unknown'})`
        : [...new Set(cv.failures.map((f) => f.rule))].join(', ')
    }`,
  );
  const reneg = cv?.failures.find((f) => f.rule === 'client-renegotiation');
  if (reneg) lines.push(`    client renegotiation: ${reneg.detail}`);
  lines.push(`  naive SMTP STARTTLS server: ${s.control.naive.ok ? 'NOT detected' : s.control.naive.detail}`);
  lines.push('');
  lines.push(`RESULT: ${s.pass ? 'PASS' : 'FAIL'}`);
  const file = path.join(outDir, 'summary.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  writeFileSync(
    path.join(outDir, 'summary.json'),
    `${JSON.stringify(
      {
        version: s.version,
        seconds: s.seconds,
        pass: s.pass,
        listeners: s.reports.map((r) => ({
          name: r.listener.name,
          url: r.listener.url,
          pass: r.pass,
          scanSeconds: r.scan.seconds,
          testsslExit: r.scan.exitCode,
          report: path.basename(r.scan.jsonFile),
          counts: r.verdict?.counts ?? null,
          failures: r.verdict?.failures ?? null,
          excluded: r.verdict?.excluded ?? null,
          protocols: r.verdict?.protocols ?? null,
          ciphers: r.verdict?.ciphers ?? null,
          starttlsInjection: r.injection,
        })),
        control: {
          failures: cv?.failures ?? null,
          naiveStarttls: s.control.naive,
          undetected: s.control.undetected,
        },
        missing: s.missing,
        unknown: s.unknown,
      },
      null,
      2,
    )}\n`,
  );
  return file;
}
