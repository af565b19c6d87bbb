// Loading configuration: a TOML file, then SEALPOST_* environment overrides, then one
// validation pass. Every error names the key, the bad value, where it came from and
// the fix. Environment names: SEALPOST_<SECTION>_<KEY> in upper case, e.g.
// SEALPOST_MX_PORT=2525 or SEALPOST_HOSTNAME=mail.example.com; lists are comma-separated.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { SealpostError } from '../core/errors.ts';
import { type Config, configSchema, FIXES } from './schema.ts';

/** Environment variables that are not config keys (handled elsewhere). */
const RESERVED_ENV = new Set(['SEALPOST_CONFIG', 'SEALPOST_MASTER_KEY']);

export interface LoadOptions {
  /** Path of the TOML file; null to use defaults and the environment only. */
  readonly file: string | null;
  readonly env?: NodeJS.ProcessEnv;
}

export function loadConfig(options: LoadOptions): Config {
  const env = options.env ?? process.env;
  const file = options.file === null ? null : path.resolve(options.file);
  const raw: Record<string, unknown> = file === null ? {} : readToml(file);
  const origins = new Map<string, string>();
  applyEnv(raw, env, origins);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new SealpostError('config.invalid', describeIssues(result.error.issues, raw, origins, file), {
      file,
    });
  }
  const cfg = result.data;
  // Paths in the file are relative to the file's directory; data paths to data_dir.
  const base = file === null ? process.cwd() : path.dirname(file);
  const dataDir = path.resolve(base, cfg.data_dir);
  return {
    ...cfg,
    data_dir: dataDir,
    keys: { master_key_file: path.resolve(dataDir, cfg.keys.master_key_file) },
    tls: {
      cert_file: path.resolve(dataDir, cfg.tls.cert_file),
      key_file: path.resolve(dataDir, cfg.tls.key_file),
    },
    sourceFile: file,
  };
}

function readToml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SealpostError(
      'config.missing',
      code === 'ENOENT'
        ? `config file ${file} does not exist. Fix: run \`sealpost init --config ${file}\` to create one, or pass --config with the right path.`
        : `config file ${file} cannot be read (${code}). Fix: make it readable by the user Sealpost runs as.`,
      { file },
    );
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const where = e instanceof TomlError ? ` at line ${e.line}, column ${e.column}` : '';
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new SealpostError(
      'config.invalid',
      `config file ${file} is not valid TOML${where}: ${why}. Fix: correct the syntax there.`,
      { file },
    );
  }
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, origins: Map<string, string>): void {
  const known = knownKeys();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SEALPOST_') || RESERVED_ENV.has(name) || value === undefined) continue;
    const key = known.get(name);
    if (key === undefined) {
      throw new SealpostError(
        'config.invalid',
        `environment variable ${name} names no configuration key. Fix: unset it, or use one of: ${[...known.keys()].join(', ')}.`,
      );
    }
    const [section, leaf] = key.includes('.') ? key.split('.') : [null, key];
    const target = section === null ? raw : ensureSection(raw, section!);
    target[leaf!] = coerceEnv(value, key);
    origins.set(key, `environment variable ${name}`);
  }
}

function ensureSection(raw: Record<string, unknown>, section: string): Record<string, unknown> {
  const existing = raw[section];
  if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
    return existing as Record<string, unknown>;
  }
  const fresh: Record<string, unknown> = {};
  raw[section] = fresh;
  return fresh;
}

/** Environment values are strings; give them the type the schema expects. */
function coerceEnv(value: string, key: string): unknown {
  const defaults = configSchema.parse({}) as Record<string, unknown>;
  const [section, leaf] = key.includes('.') ? key.split('.') : [null, key];
  const sample = section === null ? defaults[leaf!] : (defaults[section!] as Record<string, unknown>)[leaf!];
  if (Array.isArray(sample)) {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }
  if (typeof sample === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    return value;
  }
  if ((typeof sample === 'number' || sample === 'auto') && /^\d+(\.\d+)?$/.test(value.trim()))
    return Number(value.trim());
  return value;
}

/** Map of environment variable name -> dotted config key, from the schema's shape. */
function knownKeys(): Map<string, string> {
  const out = new Map<string, string>();
  const defaults = configSchema.parse({}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(defaults)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const leaf of Object.keys(v)) out.set(`SEALPOST_${k}_${leaf}`.toUpperCase(), `${k}.${leaf}`);
    } else {
      out.set(`SEALPOST_${k}`.toUpperCase(), k);
    }
  }
  return out;
}

function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: Record<string, unknown>,
  origins: Map<string, string>,
  file: string | null,
): string {
  const lines = issues.map((issue) => {
    const key = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const where = key === '' ? 'at the top level' : `in [${key}]`;
      return `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} ${where}. Fix: remove them or correct the spelling (see the commented config written by \`sealpost init\`).`;
    }
    const value = lookup(raw, issue.path);
    const origin = origins.get(key) ?? (file === null ? 'defaults' : file);
    const fix = FIXES[key] ?? `see the comment above ${key} in the config written by \`sealpost init\``;
    return `${key} = ${JSON.stringify(value)} (from ${origin}): ${issue.message}. Fix: ${fix}.`;
  });
  return `invalid configuration:\n  - ${lines.join('\n  - ')}`;
}

function lookup(raw: Record<string, unknown>, keyPath: readonly PropertyKey[]): unknown {
  let node: unknown = raw;
  for (const part of keyPath) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}
