#!/usr/bin/env node
// The `sealpost` command. Parses global flags, dispatches to one command module, and
// turns errors into one clear line on stderr and a non-zero exit code (2 for usage
// and input errors, 1 for everything else). Internal stack traces only with --debug.

import { parseArgs } from 'node:util';
import { isSealpostError } from '../core/errors.ts';
import { type CommandContext, configPathOf, type Io } from './context.ts';

type Command = (ctx: CommandContext) => Promise<void>;

// Loaded on demand: `start` pulls in every protocol stack, which an admin command
// such as `user list` should not pay for at every run.
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./commands/init.ts')).initCommand,
  start: async () => (await import('./commands/start.ts')).startCommand,
  domain: async () => (await import('./commands/domain.ts')).domainCommand,
  user: async () => (await import('./commands/user.ts')).userCommand,
  alias: async () => (await import('./commands/alias.ts')).aliasCommand,
  'app-password': async () => (await import('./commands/app-password.ts')).appPasswordCommand,
  keys: async () => (await import('./commands/keys.ts')).keysCommand,
  dkim: async () => (await import('./commands/dkim.ts')).dkimCommand,
  audit: async () => (await import('./commands/audit.ts')).auditCommand,
  queue: async () => (await import('./commands/queue.ts')).queueCommand,
  sending: async () => (await import('./commands/sending.ts')).sendingCommand,
  quickstart: async () => (await import('./commands/quickstart.ts')).quickstartCommand,
  status: async () => (await import('./commands/status.ts')).statusCommand,
};

export const HELP = `usage: sealpost <command> [options]

commands:
  init        create config, data directory, master key and a development certificate
  start       run the server (--dev: first-run setup on loopback; --roles mx,submission,...)
  domain      add|list|remove NAME
  user        add|list|passwd|disable|enable|quota|delete ADDRESS
              | sessions ADDRESS [revoke ID|revoke-all] | factors ADDRESS [remove ID]
              | security-log ADDRESS [--limit N]   a user's web sessions, second factors, log
  alias       add SOURCE DEST... | remove SOURCE | list   (SOURCE @domain = catch-all)
  app-password add ADDRESS --name N --scopes imap,pop3,smtp [--expires 90d] [--networks CIDR,..]
              | list ADDRESS | revoke ADDRESS ID   passwords for mail clients (shown once)
  keys        rotate                rotate the master key, re-wrapping account keys
  dkim        generate DOMAIN | activate DOMAIN SELECTOR.. [--force] [--overlap 7d]
              | retire DOMAIN SELECTOR.. | list [DOMAIN] | dns DOMAIN   DKIM signing keys
  audit       verify | list         check or show the tamper-evident admin log
  quickstart  DOMAIN [--no-dkim]   host a domain and print every DNS record it needs
  queue       list | show ID [--headers] | retry ID|--all | delete ID   the outbound queue
  sending     status ADDRESS | resume ADDRESS | suspend ADDRESS --reason TEXT   the abuse guard
  status      show the installation and whether the server runs

global options:
  --config PATH   config file (default $SEALPOST_CONFIG or ./data/sealpost.toml)
  --json          machine-readable output
  --debug         show stack traces on errors
`;

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean' },
        debug: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        dev: { type: 'boolean' },
        worker: { type: 'boolean' },
        roles: { type: 'string' },
        hostname: { type: 'string' },
        'data-dir': { type: 'string' },
        'mx-host': { type: 'string' },
        'mx-port': { type: 'string' },
        generate: { type: 'boolean' },
        quota: { type: 'string' },
        domain: { type: 'string' },
        yes: { type: 'boolean' },
        from: { type: 'string' },
        limit: { type: 'string' },
        name: { type: 'string' },
        scopes: { type: 'string' },
        expires: { type: 'string' },
        networks: { type: 'string' },
        headers: { type: 'boolean' },
        'no-dkim': { type: 'boolean' },
        all: { type: 'boolean' },
        force: { type: 'boolean' },
        overlap: { type: 'string' },
        reason: { type: 'string' },
      },
    });
  } catch (e) {
    io.err(`sealpost: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const [name, ...args] = parsed.positionals;
  if (parsed.values['help'] || name === undefined || name === 'help') {
    io.out(HELP);
    return name === undefined && !parsed.values['help'] ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.err(`sealpost: unknown command ${JSON.stringify(name)}\n\n${HELP}`);
    return 2;
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>;
  const ctx: CommandContext = {
    io,
    json: flags['json'] === true,
    configFile: configPathOf(flags['config'], io.env),
    args,
    flags,
  };
  try {
    const command = await load();
    await command(ctx);
    return 0;
  } catch (e) {
    if (flags['debug'] === true) io.err(String((e as Error).stack));
    const message = e instanceof Error ? e.message : String(e);
    if (ctx.json)
      io.out(JSON.stringify({ error: { code: isSealpostError(e) ? e.code : 'internal', message } }));
    io.err(`sealpost: ${message}`);
    return isSealpostError(e, 'input.invalid') || e instanceof TypeError ? 2 : 1;
  }
}

if (import.meta.main) {
  const io: Io = {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    stdin: process.stdin,
    env: process.env,
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`sealpost: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
