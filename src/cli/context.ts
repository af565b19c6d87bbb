// What every CLI command receives: parsed flags, where to print, the config path,
// and helpers to open the runtime and print results as text or JSON (--json).

import { userInfo } from 'node:os';
import path from 'node:path';
import { openRuntime, type Runtime } from '../app/runtime.ts';
import { type Config, loadConfig } from '../config/index.ts';
import { SealpostError } from '../core/errors.ts';

export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

export interface CommandContext {
  readonly io: Io;
  readonly json: boolean;
  readonly configFile: string;
  readonly args: readonly string[];
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
}

export const DEFAULT_CONFIG = './data/sealpost.toml';

export function configPathOf(flag: string | boolean | undefined, env: NodeJS.ProcessEnv): string {
  if (typeof flag === 'string') return path.resolve(flag);
  return path.resolve(env['SEALPOST_CONFIG'] || DEFAULT_CONFIG);
}

export function loadCliConfig(ctx: CommandContext): Config {
  return loadConfig({ file: ctx.configFile, env: ctx.io.env });
}

export async function withRuntime<T>(ctx: CommandContext, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await openRuntime(loadCliConfig(ctx), { env: ctx.io.env });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** The audit actor for CLI actions: the Unix user who ran the command. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

/** Print either JSON (one document) or the human text. */
export function emit(ctx: CommandContext, value: unknown, text: string): void {
  ctx.io.out(ctx.json ? JSON.stringify(value, null, 2) : text);
}

export function arg(ctx: CommandContext, index: number, name: string): string {
  const v = ctx.args[index];
  if (v === undefined || v === '') throw new SealpostError('input.invalid', `missing ${name}`);
  return v;
}

export function flagString(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** A time for people in CLI output, in UTC to the minute (`2026-12-02 01:03`), as app-password list always showed it; '-' for none. */
export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
