// Fuzz target: the config loader (src/config/load.ts): a TOML file plus SEALPOST_*
// environment overrides, validated by the schema. Inputs set known keys to values of
// the right type, the wrong type or odd TOML (dates, inf, huge integers, inline
// tables, arrays), add unknown keys and sections, are byte-mutated, and come with
// environment variables (known names with any text, unknown SEALPOST_ names).
// Properties:
// - loadConfig returns a Config or throws a SealpostError (config.invalid or
//   config.missing), never anything else (a TypeError from a BigInt or a Date would
//   reach the operator as a stack trace);
// - a schema error names the key of every issue ("<key> = <value> (from …)" or
//   "unknown key(s)"), a TOML error its line, an environment error the variable;
// - an accepted config honours a valid environment override (it wins over the file).

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { SealpostError } from '../../src/core/errors.ts';
import type { FuzzTarget } from '../target.ts';
import { applyEdits } from './mutate.ts';

const defaults = configSchema.parse({}) as Record<string, unknown>;
/** [section or null, key, default] for every leaf of the schema. */
const KEYS: [string | null, string, unknown][] = Object.entries(defaults).flatMap(([k, v]) =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.entries(v as Record<string, unknown>).map(([leaf, d]): [string | null, string, unknown] => [
        k,
        leaf,
        d,
      ])
    : [[null, k, v] as [string | null, string, unknown]],
);

const oddToml = fc.constantFrom(
  '1979-05-27T07:32:00Z',
  '1979-05-27',
  '07:32:00',
  'inf',
  '-inf',
  'nan',
  '9007199254740993',
  '0x7fffffffffffffffff',
  '1e400',
  '-0',
  '0o777',
  '0b101',
  '{ a = 1 }',
  '[1, "a", true]',
  '[[1], [2]]',
  '"""multi\nline"""',
  "'literal'",
  '""',
  '"25MiB"',
  '"1.5 GB"',
  '"12 parsecs"',
  '"auto"',
  '"::1"',
  '"localhost"',
  '"127.0.0.1"',
  '"999.1.1.1"',
  '-1',
  '65536',
  '1.5',
  'true',
  '"a@b"',
  '["mx.example.org", "-bad-"]',
);
const value = (d: unknown): fc.Arbitrary<string> =>
  fc.oneof(
    typeof d === 'number'
      ? fc.oneof(
          fc.integer({ min: -10, max: 100_000 }).map(String),
          fc.double({ noNaN: true }).filter(Number.isFinite).map(String),
        )
      : fc.constant(JSON.stringify(d)),
    typeof d === 'boolean' ? fc.boolean().map(String) : fc.constant(JSON.stringify(d)),
    fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
    oddToml,
  );
const KEY_VALUE = fc
  .constantFrom(...KEYS)
  .chain(([section, key, d]) => value(d).map((v) => ({ section, line: `${key} = ${v}` })));
const junk = fc.oneof(
  fc.constantFrom(
    '[__proto__]',
    '[constructor]',
    'toString = 1',
    '[mx.sub]',
    'x.y.z = 1',
    '[[mx]]',
    'mx = 5',
    '"" = 1',
    '[imap]\n[imap]',
    '__proto__ = { polluted = true }',
  ),
  fc.string({ maxLength: 30 }),
);

const tomlArb = fc
  .tuple(fc.array(KEY_VALUE, { maxLength: 8 }), fc.array(junk, { maxLength: 2 }))
  .map(([kvs, extra]) => {
    const top = kvs.filter((k) => k.section === null).map((k) => k.line);
    const bySection = new Map<string, string[]>();
    for (const k of kvs)
      if (k.section !== null) bySection.set(k.section, [...(bySection.get(k.section) ?? []), k.line]);
    const body = [...bySection].map(([s, lines]) => `[${s}]\n${lines.join('\n')}`);
    return [...top, ...body, ...extra].join('\n');
  });

const envName = fc.oneof(
  fc.constantFrom(...KEYS).map(([s, k]) => `SEALPOST_${s === null ? '' : `${s}_`}${k}`.toUpperCase()),
  fc.constantFrom(
    'SEALPOST_NOPE',
    'SEALPOST_MX',
    'SEALPOST_CONFIG',
    'SEALPOST_MASTER_KEY',
    'HOME',
    'SEALPOST___PROTO__',
  ),
);
const envValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('2525', '0', 'yes', 'off', '1,2,,3', ' 25 ', '1.5', 'auto', '99999999999999999999'),
);

export interface ConfigInput {
  readonly toml: Buffer;
  readonly env: Readonly<Record<string, string>>;
}

const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-fuzz-config-'));
const file = path.join(dir, 'sealpost.toml');
const KEY_LINE = /^(unknown key\(s\) |[A-Za-z_][\w.]* = )/;

export function checkConfig(input: ConfigInput): void {
  writeFileSync(file, input.toml);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ file, env: { ...input.env } });
  } catch (e) {
    if (!(e instanceof SealpostError)) throw e;
    assert.ok(e.code === 'config.invalid' || e.code === 'config.missing', e.code);
    const m = e.message;
    if (m.startsWith('invalid configuration:')) {
      const issues = m.slice(m.indexOf('\n  - ') + 5).split('\n  - ');
      for (const issue of issues)
        assert.match(issue, KEY_LINE, `an issue that names no key: ${issue.slice(0, 200)}`);
    } else {
      assert.match(
        m,
        /is not valid TOML at line \d+, column \d+|environment variable SEALPOST_\w* names no configuration key/,
        m.slice(0, 300),
      );
    }
    return;
  }
  assert.equal(typeof config.hostname, 'string');
  assert.ok(path.isAbsolute(config.data_dir));
  const port = input.env['SEALPOST_MX_PORT'];
  if (port !== undefined && /^\d+$/.test(port.trim()))
    assert.equal(config.mx.port, Number(port.trim()), 'env override lost');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'prototype polluted');
}

export const config: FuzzTarget<ConfigInput> = {
  name: 'config',
  description:
    'config loader: a Config or a SealpostError naming the key/line/variable, never another exception',
  arbitrary: fc.record({
    toml: fc
      .tuple(
        tomlArb,
        fc.oneof(
          fc.constant([]),
          fc.array(fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat(255) }), {
            maxLength: 2,
          }),
        ),
      )
      .map(([t, edits]) => applyEdits(Buffer.from(t, 'utf8'), edits)),
    env: fc.dictionary(envName, envValue, { maxKeys: 3 }),
  }),
  fromCorpus: (bytes) => ({ toml: bytes, env: {} }),
  check: checkConfig,
  // a file write and two schema passes per input: 250 ms is still far from a hang
  limits: { maxMillis: 250 },
};
