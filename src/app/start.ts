// `sealpost start`: run the roles of this node in one process. Each listener opens
// only after its role's readiness checks pass (DESIGN invariant 10): the store
// answers, the master key opens an account key, the certificate is valid.
// SIGTERM/SIGINT stop accepting, let connections finish briefly, then close the store.

import { rmSync, writeFileSync } from 'node:fs';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { AccountKeys } from '../mail/account-keys.ts';
import { createDnsResolver } from '../net/dns.ts';
import { openListener, type ReadinessCheck } from '../net/listener.ts';
import { createMxServer } from '../smtp/mx-server.ts';
import { CertificateSource, validateCertificate } from '../tls/index.ts';
import { dataPaths, loadKeys, openRuntime, type Runtime } from './runtime.ts';

export const ROLES = ['mx'] as const;
export type Role = (typeof ROLES)[number];

export interface Listening {
  readonly role: Role;
  readonly host: string;
  readonly port: number;
}

export interface RunningServer {
  readonly runtime: Runtime;
  readonly listening: readonly Listening[];
  stop(): Promise<void>;
}

export async function startServer(
  config: Config,
  options: { logger: Logger; roles?: readonly Role[]; env?: NodeJS.ProcessEnv },
): Promise<RunningServer> {
  const { logger } = options;
  const roles = options.roles ?? ROLES;
  const rt = await openRuntime(config, { logger, ...(options.env ? { env: options.env } : {}) });
  const certificates = await CertificateSource.fromFiles(config.tls.cert_file, config.tls.key_file, logger);
  certificates.on('reload', () => logger.info({ cert: config.tls.cert_file }, 'tls: certificate reloaded'));
  certificates.on('reload-error', (err: Error) =>
    logger.error({ err: { message: err.message } }, 'tls: new certificate refused, keeping the old one'),
  );
  const accountKeys = new AccountKeys(rt.store, rt.keys, () => loadKeys(config, options.env));
  const resolver = createDnsResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeout_ms });

  const checks: ReadinessCheck[] = [
    { name: 'store reachable', check: () => rt.store.ping() },
    { name: 'master key opens account keys', check: () => checkKeys(rt, accountKeys) },
    {
      name: 'certificate valid',
      check: async () => {
        const c = certificates.current();
        validateCertificate(c.certPem, c.keyPem);
      },
    },
  ];

  const closers: (() => Promise<void>)[] = [];
  const listening: Listening[] = [];
  try {
    if (roles.includes('mx') && config.mx.enabled) {
      const mx = createMxServer({
        rt,
        accountKeys,
        resolver,
        certificates,
        logger: logger.child({ role: 'mx' }),
      });
      const l = await openListener({
        name: 'mx',
        server: mx.server,
        host: config.mx.host,
        port: config.mx.port,
        checks,
        logger,
      });
      closers.push(() => l.close());
      listening.push({ role: 'mx', host: l.host, port: l.port });
    }
  } catch (e) {
    await Promise.allSettled(closers.map((c) => c()));
    certificates.close();
    await rt.close();
    throw e;
  }

  const pidFile = dataPaths(config).pidFile;
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  let stopped = false;
  return {
    runtime: rt,
    listening,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled(closers.map((c) => c()));
      certificates.close();
      await rt.close();
      rmSync(pidFile, { force: true });
    },
  };
}

/** Unwrap one account key, if any account exists: proves the master key fits the data. */
async function checkKeys(rt: Runtime, keys: AccountKeys): Promise<void> {
  const [first] = await rt.store.listAllAccountKeys();
  if (first !== undefined) await keys.current(first.accountId);
}
