// Reading `npm audit --json` for the dependency gate (issue 6, item 2). Pure: the
// caller runs npm and passes its stdout.
//
// Invariants a change must keep:
// - Only a complete report (auditReportVersion 2 with metadata counts) counts as an
//   audit that ran. An error object (registry refused or unreachable), empty output
//   or anything else is "did not run", never "clean": the gate fails closed unless
//   its caller explicitly accepts an unavailable advisory service.
// - The gate's threshold is high: high or critical vulnerabilities fail it.

export type AuditResult =
  | {
      ran: true;
      counts: Record<'info' | 'low' | 'moderate' | 'high' | 'critical', number>;
      /** One line per high or critical vulnerable package, with its advisories. */
      blocking: string[];
      dependencies: number;
    }
  | { ran: false; reason: string };

interface Via {
  title?: string;
  url?: string;
  severity?: string;
  range?: string;
}

const BLOCKING = new Set(['high', 'critical']);

export function readAudit(stdout: string): AuditResult {
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    return {
      ran: false,
      reason: `npm audit printed no JSON report (${stdout.trim().slice(0, 120) || 'empty'})`,
    };
  }
  const meta = report['metadata'] as
    | { vulnerabilities?: Record<string, unknown>; dependencies?: { total?: unknown } }
    | undefined;
  const v = meta?.vulnerabilities;
  if (report['auditReportVersion'] !== 2 || v === undefined) {
    const error = report['error'] as { summary?: string; code?: string } | undefined;
    const why = [report['message'] ?? report['statusCode'], error?.code, error?.summary]
      .filter((s) => s !== undefined && s !== '')
      .join(' ');
    return { ran: false, reason: `npm audit did not produce a report: ${why || 'unknown error'}` };
  }
  const n = (key: string): number => (typeof v[key] === 'number' ? (v[key] as number) : 0);
  const blocking: string[] = [];
  const vulns = (report['vulnerabilities'] ?? {}) as Record<
    string,
    { severity?: string; range?: string; via?: unknown[] }
  >;
  for (const [name, vuln] of Object.entries(vulns)) {
    if (!BLOCKING.has(String(vuln.severity))) continue;
    const advisories = (vuln.via ?? [])
      .map((via) =>
        typeof via === 'string'
          ? `via ${via}`
          : `${(via as Via).title ?? '?'} ${(via as Via).url ?? ''}`.trim(),
      )
      .join('; ');
    blocking.push(`${vuln.severity} ${name} ${vuln.range ?? ''}: ${advisories}`);
  }
  return {
    ran: true,
    counts: {
      info: n('info'),
      low: n('low'),
      moderate: n('moderate'),
      high: n('high'),
      critical: n('critical'),
    },
    blocking,
    dependencies: typeof meta?.dependencies?.total === 'number' ? meta.dependencies.total : 0,
  };
}

/** Whether the audit result fails the gate (high or critical found). */
export function auditFails(result: AuditResult & { ran: true }): boolean {
  return result.counts.high + result.counts.critical > 0 || result.blocking.length > 0;
}
