// `sealpost status`: what this installation is and whether its server runs.

import { readFileSync } from 'node:fs';
import { dataPaths } from '../../app/runtime.ts';
import { type CommandContext, emit, loadCliConfig, withRuntime } from '../context.ts';

function runningPid(pidFile: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** "host:993 (TLS), host:143 (STARTTLS)", or disabled. */
function clientPorts(c: { enabled: boolean; host: string; port: number; starttls_port: number }): string {
  if (!c.enabled) return 'disabled';
  const tls = `${c.host}:${c.port} (TLS)`;
  return c.starttls_port === 0 ? tls : `${tls}, ${c.host}:${c.starttls_port} (STARTTLS)`;
}

export async function statusCommand(ctx: CommandContext): Promise<void> {
  const config = loadCliConfig(ctx);
  return withRuntime(ctx, async (rt) => {
    const [domains, accounts, aliases, audit, queued] = await Promise.all([
      rt.store.listDomains(),
      rt.store.listAccounts(),
      rt.store.listAliases(),
      rt.audit.verify(),
      rt.store.countQueued(),
    ]);
    const pid = runningPid(dataPaths(config).pidFile);
    const s = {
      config: config.sourceFile,
      dataDir: config.data_dir,
      hostname: config.hostname,
      server: pid === null ? 'stopped' : `running (pid ${pid})`,
      mx: config.mx.enabled ? `${config.mx.host}:${config.mx.port}` : 'disabled',
      imap: clientPorts(config.imap),
      pop3: clientPorts(config.pop3),
      submission: config.submission.enabled
        ? `${config.submission.host}:${config.submission.port} (implicit TLS)` +
          (config.submission.starttls_port > 0 ? `, ${config.submission.starttls_port} (STARTTLS)` : '')
        : 'disabled',
      web: config.web.enabled ? `${config.web.host}:${config.web.port} (HTTPS)` : 'disabled',
      delivery: config.delivery.enabled ? `on, ${queued} message(s) queued` : 'disabled',
      workers: config.workers === 0 ? 'one per core' : config.workers,
      analysisThreads: config.mx.analysis_threads,
      domains: domains.length,
      users: accounts.length,
      aliases: aliases.length,
      masterKeyVersions: rt.keys.versions(),
      audit: audit.ok
        ? `intact (${audit.entries} entries)`
        : `BROKEN at entry ${audit.seq}: ${audit.problem}`,
    };
    emit(
      ctx,
      s,
      Object.entries(s)
        .map(([k, v]) => `${k.padEnd(18)} ${Array.isArray(v) ? v.join(', ') : v}`)
        .join('\n'),
    );
  });
}
