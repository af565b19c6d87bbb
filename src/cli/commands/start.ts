// `sealpost start [--dev] [--roles mx]`
// --dev (what `npm start` runs): on first use, initialise ./data on loopback high
// ports with a test domain and user, print the credentials once; later runs reuse it.
// With `workers` other than 1 this process supervises worker processes (one per core
// by default), which are this same command run with the internal --worker flag.

import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { addAccount, addDomain } from '../../admin/accounts.ts';
import { startCluster } from '../../app/cluster.ts';
import { initInstallation } from '../../app/init.ts';
import { dataPaths, openRuntime } from '../../app/runtime.ts';
import { type Listening, ROLES, type Role, startServer } from '../../app/start.ts';
import { runWorker } from '../../app/worker.ts';
import { SealpostError } from '../../core/errors.ts';
import { createLogger } from '../../log/logger.ts';
import { type CommandContext, cliActor, flagString, loadCliConfig } from '../context.ts';
import { generatePassword } from '../password-input.ts';

export const DEV = {
  domain: 'sealpost.test',
  user: 'dev@sealpost.test',
  mxPort: 2525,
  imapPort: 9993,
  pop3Port: 9995,
  webPort: 9443,
  submissionPort: 9465,
  submissionStarttlsPort: 9587,
} as const;

export async function startCommand(ctx: CommandContext): Promise<void> {
  const dev = ctx.flags['dev'] === true;
  let firstRun: { user: string; password: string } | null = null;
  if (dev && !existsSync(ctx.configFile)) firstRun = await initDev(ctx);
  if (!existsSync(ctx.configFile)) {
    throw new SealpostError(
      'config.missing',
      `no config at ${ctx.configFile}. Fix: run \`sealpost init --config ${ctx.configFile}\` first (or \`npm start\` for a development server).`,
    );
  }
  const config = loadCliConfig(ctx);
  const logger = createLogger(config.log.level);
  const roles = parseRoles(flagString(ctx, 'roles'));
  if (ctx.flags['worker'] === true) return runWorker(config, { logger, roles, env: ctx.io.env });

  const workers = config.workers === 0 ? availableParallelism() : config.workers;
  const server =
    workers <= 1 ? await startServer(config, { logger, roles, env: ctx.io.env }) : await startWithWorkers();

  /**
   * Worker processes serve the MX; IMAP and POP3 sessions are long-lived and mostly
   * idle, so the supervising process serves them itself (handing off their cleartext
   * and TLS ports to workers is not built yet).
   */
  async function startWithWorkers(): Promise<{ listening: Listening[]; stop(): Promise<void> }> {
    const clusterRoles = roles.filter((r) => r === 'mx');
    const localRoles = roles.filter((r) => r !== 'mx');
    const cluster =
      clusterRoles.length === 0
        ? null
        : await startCluster({
            config,
            logger,
            roles: clusterRoles,
            workers,
            env: ctx.io.env,
            workerArgs: [process.argv[1]!, 'start', '--worker', '--config', ctx.configFile, '--roles', 'mx'],
          });
    const local =
      localRoles.length === 0
        ? null
        : await startServer(config, { logger, roles: localRoles, env: ctx.io.env });
    return {
      listening: [...(cluster?.listening ?? []), ...(local?.listening ?? [])],
      async stop() {
        await Promise.all([cluster?.stop(), local?.stop()]);
      },
    };
  }
  const pidFile = dataPaths(config).pidFile;
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });

  const processes = workers <= 1 ? 'one process' : `${workers} worker processes`;
  const lines = [`Sealpost is running (${config.hostname}), data in ${config.data_dir}, ${processes}`];
  for (const l of server.listening) lines.push(`  ${l.role.padEnd(10)} ${describeListener(l)}`);
  if (firstRun !== null) {
    lines.push(
      '',
      `Created domain ${DEV.domain} and user ${firstRun.user}`,
      `  password: ${firstRun.password}   (shown once; \`npm run sealpost -- user passwd ${firstRun.user}\` resets it)`,
    );
  }
  if (dev) {
    lines.push(
      '',
      'Send it a message:',
      `  swaks --server 127.0.0.1:${server.listening.find((l) => l.role === 'mx')?.port ?? DEV.mxPort} --from you@example.org --to ${DEV.user}`,
      'Send one as the user, through submission (asks for the password):',
      `  swaks --server 127.0.0.1:${server.listening.find((l) => l.role === 'submission' && l.security === 'tls')?.port ?? DEV.submissionPort} --tls-on-connect --auth-user ${DEV.user} --from ${DEV.user} --to ${DEV.user}`,
      'Read it with any IMAP client (the certificate is self-signed), e.g.:',
      `  curl -k --user ${DEV.user} "imaps://127.0.0.1:${server.listening.find((l) => l.role === 'imap')?.port ?? DEV.imapPort}/INBOX;UID=1"`,
      'Stop with Ctrl-C; `npm start` again reuses the same data.',
    );
  }
  ctx.io.err(lines.join('\n'));

  await new Promise<void>((resolve) => {
    const stop = () => {
      logger.info('shutting down');
      server
        .stop()
        .finally(() => rmSync(pidFile, { force: true }))
        .then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function describeListener(l: Listening): string {
  const scheme = { mx: 'smtp', submission: 'smtp', imap: 'imap', pop3: 'pop3', web: 'http', delivery: '' }[
    l.role
  ];
  if (l.role !== 'mx' && l.security === 'tls') return `${scheme}s://${l.host}:${l.port}  (implicit TLS)`;
  const offer = l.role === 'pop3' ? 'STLS' : 'STARTTLS';
  return `${scheme}://${l.host}:${l.port}  (${offer} offered${l.role === 'mx' ? '' : ', login only after it'})`;
}

function parseRoles(value: string | undefined): Role[] {
  if (value === undefined) return [...ROLES];
  const roles = value.split(',').map((r) => r.trim());
  for (const r of roles) {
    if (!(ROLES as readonly string[]).includes(r)) {
      throw new SealpostError(
        'input.invalid',
        `unknown role ${JSON.stringify(r)}; roles: ${ROLES.join(', ')}`,
      );
    }
  }
  return roles as Role[];
}

async function initDev(ctx: CommandContext): Promise<{ user: string; password: string }> {
  const r = await initInstallation({
    configFile: ctx.configFile,
    hostname: 'localhost',
    dataDir: '.',
    mxHost: '127.0.0.1',
    mxPort: DEV.mxPort,
    imapPort: DEV.imapPort,
    pop3Port: DEV.pop3Port,
    webPort: DEV.webPort,
    submissionPort: DEV.submissionPort,
    submissionStarttlsPort: DEV.submissionStarttlsPort,
    env: ctx.io.env,
  });
  const rt = await openRuntime(r.config, { env: ctx.io.env });
  try {
    const password = generatePassword();
    await addDomain(rt, cliActor(), DEV.domain);
    await addAccount(rt, cliActor(), { address: DEV.user, password });
    ctx.io.err(`Initialised a development installation in ${path.dirname(ctx.configFile)}`);
    return { user: DEV.user, password };
  } finally {
    await rt.close();
  }
}
