// Pure rules of the dependency gate (issue 6, item 2) over package.json and
// package-lock.json: exact pins, registry-only sources, and the install-script
// allow-list. No I/O here: dependencies.ts reads the files and prints; the tests in
// dependencies.test.ts drive these functions with small hand-written lockfiles.
//
// Invariants a change must keep:
// - Every dependency a manifest names is an exact version (npm's own `save-exact`
//   form): no ranges, tags, aliases, git, file or URL specs.
// - Every lockfile package is a registry tarball: either `resolved` is exactly
//   https://registry.npmjs.org/<name>/-/<base>-<version>.tgz, or `resolved` is absent
//   (npm's `omit-lockfile-registry-resolved`, which npm only does for registry
//   packages; the configured registry is then checked separately, see
//   registryConfigProblems), and `integrity` is a single sha512.
// - The install-script policy mirrors npm 11's `allowScripts` matcher
//   (@npmcli/arborist lib/script-allowed.js, RFC npm/rfcs#868): keys are `name` or
//   `name@1.2.3[ || 1.2.4]`, values booleans, a deny wins over an allow, and a pinned
//   key cannot match when the lockfile carries no resolved URL (npm cannot verify
//   the version then: an allow is refused, a deny still blocks). Bundled packages
//   can never be allowed.

export const REGISTRY = 'https://registry.npmjs.org/';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const SHA512 = /^sha512-[A-Za-z0-9+/]{86}==$/;
const NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;

export interface LockPackage {
  /** The key in package-lock.json `packages`, e.g. `node_modules/@scope/a/node_modules/b`. */
  path: string;
  /** The registry name: the entry's `name` (aliases) or the last path segment. */
  name: string;
  version: string | undefined;
  resolved: string | undefined;
  integrity: string | undefined;
  license: string | undefined;
  dev: boolean;
  link: boolean;
  inBundle: boolean;
  hasInstallScript: boolean;
}

export interface Manifest {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  allowScripts?: unknown;
}

export function isExactVersion(spec: string): boolean {
  return SEMVER.test(spec);
}

/** The part of a lockfile path after its last `node_modules/`. */
export function nameFromPath(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  return at < 0 ? path : path.slice(at + 'node_modules/'.length);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The packages of a lockfile (the root entry "" excluded). */
export function lockPackages(lock: unknown): LockPackage[] {
  const packages = (lock as { packages?: Record<string, Record<string, unknown>> })?.packages ?? {};
  const out: LockPackage[] = [];
  for (const [path, e] of Object.entries(packages)) {
    if (path === '') continue;
    out.push({
      path,
      name: str(e['name']) ?? nameFromPath(path),
      version: str(e['version']),
      resolved: str(e['resolved']),
      integrity: str(e['integrity']),
      license: str(e['license']),
      dev: e['dev'] === true,
      link: e['link'] === true,
      inBundle: e['inBundle'] === true,
      hasInstallScript: e['hasInstallScript'] === true,
    });
  }
  return out;
}

const SECTIONS = ['dependencies', 'devDependencies', 'optionalDependencies'] as const;

/** Problems with the manifest's own specs and the lockfile's root entry and version. */
export function manifestProblems(manifest: Manifest, lock: unknown): string[] {
  const problems: string[] = [];
  const l = lock as { lockfileVersion?: unknown; packages?: Record<string, Manifest> };
  if (l?.lockfileVersion !== 3) {
    problems.push(`package-lock.json: lockfileVersion is ${String(l?.lockfileVersion)}, expected 3`);
  }
  const root = l?.packages?.[''] ?? {};
  for (const section of SECTIONS) {
    const wanted = manifest[section] ?? {};
    const locked = root[section] ?? {};
    for (const [name, spec] of Object.entries(wanted)) {
      if (!isExactVersion(spec))
        problems.push(`package.json ${section}: ${name} "${spec}" is not an exact version`);
      if (locked[name] !== spec) {
        problems.push(
          `package-lock.json root ${section}: ${name} is "${locked[name] ?? '(missing)'}", package.json says "${spec}"`,
        );
      }
    }
    for (const name of Object.keys(locked)) {
      if (!(name in wanted))
        problems.push(`package-lock.json root ${section}: ${name} is not in package.json`);
    }
  }
  return problems;
}

/** The registry tarball URL npm writes for name@version. */
export function registryTarball(name: string, version: string): string {
  const base = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  return `${REGISTRY}${name}/-/${base}-${version}.tgz`;
}

/** Problems with one lockfile package's pin and source; empty when it is a pinned registry tarball. */
export function lockPackageProblems(p: LockPackage): string[] {
  const id = `${p.path}${p.version ? `@${p.version}` : ''}`;
  if (!p.path.startsWith('node_modules/')) return [`${id}: a local workspace package, not from the registry`];
  if (p.link) return [`${id}: a link to a local folder (${p.resolved ?? '?'}), not from the registry`];
  if (p.inBundle) return [`${id}: bundled inside another package, not pinned by an integrity of its own`];
  const problems: string[] = [];
  if (!NAME.test(p.name)) problems.push(`${id}: "${p.name}" is not a registry package name`);
  if (p.version === undefined || !isExactVersion(p.version)) {
    problems.push(`${id}: version "${p.version ?? '(missing)'}" is not an exact version`);
  }
  if (
    p.resolved !== undefined &&
    (p.version === undefined || p.resolved !== registryTarball(p.name, p.version))
  ) {
    problems.push(`${id}: resolved from ${p.resolved}, not the registry tarball ${REGISTRY}`);
  }
  if (p.integrity === undefined) problems.push(`${id}: no integrity`);
  else if (!SHA512.test(p.integrity))
    problems.push(`${id}: integrity is not a single sha512 (${p.integrity.slice(0, 20)}…)`);
  return problems;
}

/**
 * Problems with the npm configuration that decides where a lockfile package without
 * `resolved` is fetched from: `registry` must be the public registry, and no scope
 * may be sent elsewhere (`@scope:registry`). `config` is `npm config ls --json`.
 */
export function registryConfigProblems(config: Record<string, unknown>, needed: boolean): string[] {
  const problems: string[] = [];
  const registry = String(config['registry'] ?? REGISTRY).replace(/\/?$/, '/');
  if (needed && registry !== REGISTRY) problems.push(`npm config: registry is ${registry}, not ${REGISTRY}`);
  for (const [key, value] of Object.entries(config)) {
    if (/^@[^:]+:registry$/.test(key) && String(value).replace(/\/?$/, '/') !== REGISTRY) {
      problems.push(`npm config: ${key} sends a scope to ${String(value)}`);
    }
  }
  return problems;
}

// ---- install scripts: npm 11's allowScripts ----

export interface PolicyEntry {
  key: string;
  name: string;
  /** Exact versions the key is pinned to; null for a name-only key. */
  versions: string[] | null;
  allow: boolean;
}

/** Parse `allowScripts`; keys npm would ignore or reject are reported as errors. */
export function parsePolicy(allowScripts: unknown): { entries: PolicyEntry[]; errors: string[] } {
  const entries: PolicyEntry[] = [];
  const errors: string[] = [];
  if (allowScripts === undefined) return { entries, errors };
  if (allowScripts === null || typeof allowScripts !== 'object' || Array.isArray(allowScripts)) {
    return { entries, errors: ['package.json allowScripts: not an object of name -> boolean'] };
  }
  for (const [key, value] of Object.entries(allowScripts)) {
    if (typeof value !== 'boolean') {
      errors.push(`allowScripts "${key}": value ${JSON.stringify(value)} is not true or false`);
      continue;
    }
    const at = key.indexOf('@', 1);
    const name = at < 0 ? key : key.slice(0, at);
    const spec = at < 0 ? '' : key.slice(at + 1).trim();
    if (!NAME.test(name)) {
      errors.push(`allowScripts "${key}": only registry names are allowed (no git, file or URL keys)`);
      continue;
    }
    if (spec === '' || spec === '*') {
      entries.push({ key, name, versions: null, allow: value });
      continue;
    }
    const versions = spec.split('||').map((v) => v.trim());
    if (!versions.every(isExactVersion)) {
      errors.push(
        `allowScripts "${key}": "${spec}" is neither a name-only key nor exact versions joined by ||`,
      );
      continue;
    }
    entries.push({ key, name, versions, allow: value });
  }
  return { entries, errors };
}

/** npm's verdict for one package: true allowed, false denied, null not reviewed. */
export function scriptVerdict(p: LockPackage, entries: readonly PolicyEntry[]): boolean | null {
  if (p.inBundle) return null;
  let allow = false;
  let deny = false;
  for (const e of entries) {
    if (e.name !== p.name) continue;
    let matches: boolean;
    if (e.versions === null) matches = true;
    // Without a resolved URL npm cannot trust the version: fail closed.
    else if (p.resolved === undefined || p.version === undefined) matches = !e.allow;
    else matches = e.versions.includes(p.version);
    if (!matches) continue;
    if (e.allow) allow = true;
    else deny = true;
  }
  return deny ? false : allow ? true : null;
}

/**
 * Problems with install scripts: each package in `withScripts` must be allowed, and
 * each allowing entry must match a package that has an install script (an allow for a
 * package without one would silently let a future version run code).
 */
export function scriptProblems(
  packages: readonly LockPackage[],
  withScripts: ReadonlySet<string>,
  allowScripts: unknown,
): string[] {
  const { entries, errors } = parsePolicy(allowScripts);
  const problems = [...errors];
  const used = new Set<string>();
  for (const p of packages) {
    if (!withScripts.has(p.path)) continue;
    const verdict = scriptVerdict(p, entries);
    const id = `${p.name}@${p.version ?? '?'} (${p.path})`;
    if (verdict === true) {
      for (const e of entries) if (e.allow && e.name === p.name) used.add(e.key);
    } else if (verdict === false) {
      problems.push(`${id}: has an install script, denied by allowScripts`);
    } else if (p.inBundle) {
      problems.push(`${id}: has an install script and is bundled; bundled scripts cannot be allowed`);
    } else if (p.resolved === undefined && entries.some((e) => e.allow && e.name === p.name)) {
      problems.push(
        `${id}: has an install script; allowScripts pins a version, which npm cannot verify without a resolved URL (use "${p.name}": true)`,
      );
    } else {
      problems.push(`${id}: has an install script not in package.json allowScripts`);
    }
  }
  for (const e of entries) {
    if (e.allow && !used.has(e.key)) {
      problems.push(
        `allowScripts "${e.key}": allows a package that has no install script in the lockfile; remove it`,
      );
    }
  }
  return problems;
}

/** Whether an installed package.json runs code at install (npm: preinstall, install, postinstall, or binding.gyp). */
export function manifestHasInstallScript(
  pkg: { scripts?: Record<string, unknown> },
  hasBindingGyp: boolean,
): boolean {
  const s = pkg.scripts ?? {};
  if (s['preinstall'] || s['install'] || s['postinstall']) return true;
  return hasBindingGyp;
}
