// `sealpost init [--hostname H] [--data-dir D] [--mx-host A] [--mx-port P]`

import path from 'node:path';
import { initInstallation } from '../../app/init.ts';
import { SealpostError } from '../../core/errors.ts';
import { type CommandContext, emit, flagString } from '../context.ts';

export async function initCommand(ctx: CommandContext): Promise<void> {
  const port = Number(flagString(ctx, 'mx-port') ?? 25);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SealpostError(
      'input.invalid',
      `--mx-port ${flagString(ctx, 'mx-port')} is not a TCP port (0-65535)`,
    );
  }
  const dataDir = flagString(ctx, 'data-dir');
  const r = await initInstallation({
    configFile: ctx.configFile,
    hostname: flagString(ctx, 'hostname') ?? 'localhost',
    dataDir: dataDir === undefined ? '.' : path.resolve(dataDir),
    mxHost: flagString(ctx, 'mx-host') ?? '0.0.0.0',
    mxPort: port,
    env: ctx.io.env,
  });
  emit(
    ctx,
    { config: ctx.configFile, dataDir: r.config.data_dir, created: r.created, kept: r.kept },
    [
      ...r.created.map((f) => `created ${f}`),
      ...r.kept.map((f) => `kept    ${f} (already there)`),
      `next: sealpost domain add example.com --config ${ctx.configFile}`,
    ].join('\n'),
  );
}
