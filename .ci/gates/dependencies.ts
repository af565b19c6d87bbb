// The dependency gate's checker (issue 6, item 2), run by 20-dependencies.sh:
//
//   node .ci/gates/dependencies.ts <project-dir> [--results DIR] [--npm CMD] [--only a,b]
//
// Four checks over <project-dir>'s package.json and package-lock.json (so the gate can
// be pointed at a throwaway copy with a planted flaw):
//   audit     `npm audit --omit=dev --json`: high or critical fails; the report is kept
//             as DIR/audit.json. An audit that could not run fails too, unless
//             DEPENDENCY_AUDIT_UNAVAILABLE=warn says to accept that (see the gate).
//   scripts   packages with an install script (lockfile `hasInstallScript`, or the
//             installed package.json when node_modules is there) are exactly those
//             package.json `allowScripts` allows.
//   pins      exact versions in package.json, lockfileVersion 3, every package a
//             registry tarball with a sha512 integrity, and npm's registry config
//             pointing at the public registry.
//   licences  every runtime package (lockfile entries without `dev`) under an allowed
//             licence; the list is written to DIR/licences.txt.
// Exit 0 when every check passes, 1 when one fails, 2 on a usage or read error.
// The rules live in dependencies-{lock,licences,audit}.ts; this file only does I/O.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { auditFails, readAudit } from './dependencies-audit.ts';
import { judgeLicence, LICENCE_ALLOW, manifestLicence } from './dependencies-licences.ts';
import {
  type LockPackage,
  lockPackageProblems,
  lockPackages,
  type Manifest,
  manifestHasInstallScript,
  manifestProblems,
  registryConfigProblems,
  scriptProblems,
} from './dependencies-lock.ts';

type Check = 'audit' | 'scripts' | 'pins' | 'licences';
const CHECKS: readonly Check[] = ['audit', 'scripts', 'pins', 'licences'];

interface Context {
  dir: string;
  results: string;
  npm: string;
  manifest: Manifest;
  lock: unknown;
  packages: LockPackage[];
}

interface Outcome {
  ok: boolean;
  /** Passed only because a missing result was explicitly accepted. */
  warning?: boolean;
  summary: string;
  problems: string[];
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The installed package.json of a lockfile path, when node_modules holds it. */
function installed(ctx: Context, p: LockPackage): Record<string, unknown> | undefined {
  const file = join(ctx.dir, p.path, 'package.json');
  return existsSync(file) ? (readJson(file) as Record<string, unknown>) : undefined;
}

function runNpm(ctx: Context, args: string[]): { stdout: string; status: number | null } {
  const r = spawnSync(ctx.npm, args, {
    cwd: ctx.dir,
    encoding: 'utf8',
    timeout: 180_000,
    maxBuffer: 64 << 20,
  });
  return { stdout: r.stdout ?? '', status: r.status };
}

function checkAudit(ctx: Context): Outcome {
  const { stdout } = runNpm(ctx, ['audit', '--omit=dev', '--audit-level=high', '--json']);
  writeFileSync(join(ctx.results, 'audit.json'), stdout);
  const result = readAudit(stdout);
  if (!result.ran) {
    const accept = process.env['DEPENDENCY_AUDIT_UNAVAILABLE'] === 'warn';
    writeFileSync(join(ctx.results, 'AUDIT-NOT-RUN.txt'), `${result.reason}\n`);
    return {
      ok: accept,
      warning: accept,
      summary: accept
        ? `NOT RUN, accepted by DEPENDENCY_AUDIT_UNAVAILABLE=warn: ${result.reason}`
        : `could not run: ${result.reason}`,
      problems: [],
    };
  }
  const c = result.counts;
  const line = `${result.dependencies} packages audited; critical ${c.critical}, high ${c.high}, moderate ${c.moderate}, low ${c.low}, info ${c.info}`;
  return { ok: !auditFails(result), summary: line, problems: result.blocking };
}

function checkScripts(ctx: Context): Outcome {
  const withScripts = new Set<string>();
  for (const p of ctx.packages) {
    const pkg = installed(ctx, p);
    const gyp = existsSync(join(ctx.dir, p.path, 'binding.gyp'));
    if (p.hasInstallScript || (pkg !== undefined && manifestHasInstallScript(pkg, gyp)))
      withScripts.add(p.path);
  }
  const problems = scriptProblems(ctx.packages, withScripts, ctx.manifest.allowScripts);
  const names = ctx.packages.filter((p) => withScripts.has(p.path)).map((p) => `${p.name}@${p.version}`);
  return {
    ok: problems.length === 0,
    summary: `${ctx.packages.length} packages; with install scripts: ${names.join(', ') || 'none'}; allowScripts: ${JSON.stringify(ctx.manifest.allowScripts ?? {})}`,
    problems,
  };
}

function checkPins(ctx: Context): Outcome {
  const problems = manifestProblems(ctx.manifest, ctx.lock);
  for (const p of ctx.packages) problems.push(...lockPackageProblems(p));
  const unresolved = ctx.packages.filter((p) => p.resolved === undefined).length;
  const config = runNpm(ctx, ['config', 'ls', '--json']);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(config.stdout) as Record<string, unknown>;
  } catch {
    problems.push(`npm config ls --json failed (exit ${config.status}); cannot tell which registry npm uses`);
  }
  problems.push(...registryConfigProblems(parsed, unresolved > 0));
  return {
    ok: problems.length === 0,
    summary:
      `${ctx.packages.length} lockfile packages (${unresolved} without "resolved", fetched from npm's registry ` +
      `${String(parsed['registry'] ?? '?')})` +
      (problems.length === 0 ? '; every spec exact, every source the registry, every integrity sha512' : ''),
    problems,
  };
}

function checkLicences(ctx: Context): Outcome {
  const rows: string[] = [];
  const problems: string[] = [];
  const tally = new Map<string, number>();
  const runtime = ctx.packages.filter((p) => !p.dev);
  for (const p of runtime) {
    const pkg = p.license === undefined ? installed(ctx, p) : undefined;
    const licence = p.license ?? (pkg === undefined ? undefined : manifestLicence(pkg));
    const verdict = judgeLicence(licence);
    tally.set(licence ?? '(none)', (tally.get(licence ?? '(none)') ?? 0) + 1);
    rows.push(
      `${p.name}@${p.version}\t${licence ?? '(none)'}\t${verdict.ok ? 'allowed' : `REFUSED: ${verdict.reason}`}`,
    );
    if (!verdict.ok) problems.push(`${p.name}@${p.version} (${p.path}): ${verdict.reason}`);
  }
  rows.sort();
  const counts = [...tally].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`);
  const header = [
    `# Licences of the runtime dependencies (lockfile packages without dev: true): ${runtime.length}`,
    `# Allowed: ${[...LICENCE_ALLOW].join(', ')} (SPDX: OR needs one side allowed, AND needs all)`,
    `# Counts: ${counts.join(', ')}`,
  ];
  writeFileSync(join(ctx.results, 'licences.txt'), `${[...header, ...rows].join('\n')}\n`);
  return {
    ok: problems.length === 0,
    summary: `${runtime.length} runtime packages: ${counts.join(', ')}`,
    problems,
  };
}

function parseArgs(argv: string[]): { dir: string; results?: string; npm: string; only: Check[] } {
  let dir: string | undefined;
  let results: string | undefined;
  let npm = 'npm';
  let only: Check[] = [...CHECKS];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--results') results = argv[++i];
    else if (a === '--npm') npm = argv[++i] ?? npm;
    else if (a === '--only') only = (argv[++i] ?? '').split(',') as Check[];
    else if (!a.startsWith('--') && dir === undefined) dir = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (dir === undefined)
    throw new Error('usage: dependencies.ts <project-dir> [--results DIR] [--npm CMD] [--only a,b]');
  const bad = only.filter((c) => !CHECKS.includes(c));
  if (bad.length > 0) throw new Error(`unknown check ${bad.join(', ')}; known: ${CHECKS.join(', ')}`);
  return { dir: resolve(dir), ...(results === undefined ? {} : { results: resolve(results) }), npm, only };
}

function main(): number {
  let ctx: Context;
  let only: Check[];
  try {
    const args = parseArgs(process.argv.slice(2));
    only = args.only;
    const results = args.results ?? join(args.dir, 'ci-results', 'dependencies');
    mkdirSync(results, { recursive: true });
    const lock = readJson(join(args.dir, 'package-lock.json'));
    const manifest = readJson(join(args.dir, 'package.json')) as Manifest;
    ctx = { dir: args.dir, results, npm: args.npm, manifest, lock, packages: lockPackages(lock) };
  } catch (err) {
    console.error(`dependencies: ${(err as Error).message}`);
    return 2;
  }
  const run: Record<Check, (c: Context) => Outcome> = {
    audit: checkAudit,
    scripts: checkScripts,
    pins: checkPins,
    licences: checkLicences,
  };
  let failed = 0;
  for (const check of only) {
    const outcome = run[check](ctx);
    const verdict = outcome.warning ? 'WARNING' : outcome.ok ? 'ok' : 'FAILED';
    console.log(`dependencies: ${check}: ${verdict}: ${outcome.summary}`);
    for (const p of outcome.problems) console.log(`dependencies:   ${p}`);
    if (!outcome.ok) failed++;
  }
  console.log(
    `dependencies: ${only.length - failed} of ${only.length} checks passed; artefacts in ${ctx.results}`,
  );
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = main();
