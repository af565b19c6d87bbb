// Unit tests of the dependency gate's rules (dependencies-{lock,licences,audit}.ts),
// run by 20-dependencies.sh before the gate itself (`npm test` covers src/ and test/
// only). Each rule is shown passing a good input and refusing each kind of flaw.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditFails, readAudit } from './dependencies-audit.ts';
import { judgeLicence, manifestLicence } from './dependencies-licences.ts';
import {
  type LockPackage,
  lockPackageProblems,
  lockPackages,
  manifestHasInstallScript,
  manifestProblems,
  parsePolicy,
  registryConfigProblems,
  registryTarball,
  scriptProblems,
  scriptVerdict,
} from './dependencies-lock.ts';

const SHA = `sha512-${'A'.repeat(86)}==`;

function pkg(over: Partial<LockPackage> & { path: string }): LockPackage {
  const name = over.name ?? over.path.slice(over.path.lastIndexOf('node_modules/') + 13);
  return {
    name,
    version: '1.2.3',
    resolved: undefined,
    integrity: SHA,
    license: 'MIT',
    dev: false,
    link: false,
    inBundle: false,
    hasInstallScript: false,
    ...over,
  };
}

describe('manifest pins', () => {
  const lockFor = (deps: Record<string, string>, version = 3) => ({
    lockfileVersion: version,
    packages: { '': { dependencies: deps } },
  });

  it('accepts exact versions mirrored in the lockfile root', () => {
    const deps = { a: '1.0.0', '@s/b': '2.0.0-rc.1' };
    assert.deepEqual(manifestProblems({ dependencies: deps }, lockFor(deps)), []);
  });

  for (const spec of [
    '^1.0.0',
    '~1.0.0',
    '*',
    'latest',
    '1.x',
    '>=1.0.0',
    'github:a/b',
    'file:../a',
    'https://x/a.tgz',
    'npm:b@1.0.0',
  ]) {
    it(`refuses ${spec}`, () => {
      const problems = manifestProblems(
        { devDependencies: { a: spec } },
        { lockfileVersion: 3, packages: { '': { devDependencies: { a: spec } } } },
      );
      assert.deepEqual(problems, [`package.json devDependencies: a "${spec}" is not an exact version`]);
    });
  }

  it('refuses another lockfile version and a root out of step with package.json', () => {
    const problems = manifestProblems(
      { dependencies: { a: '1.0.0' } },
      lockFor({ a: '1.0.1', z: '1.0.0' }, 2),
    );
    assert.equal(problems.length, 3);
    assert.match(problems[0]!, /lockfileVersion is 2/);
    assert.match(problems[1]!, /a is "1.0.1", package.json says "1.0.0"/);
    assert.match(problems[2]!, /z is not in package.json/);
  });
});

describe('lockfile packages', () => {
  it('reads names from paths and alias entries', () => {
    const got = lockPackages({
      packages: {
        '': {},
        'node_modules/@s/a/node_modules/b': { version: '1.0.0' },
        'node_modules/alias': { name: 'real', version: '2.0.0', dev: true, hasInstallScript: true },
      },
    });
    assert.deepEqual(
      got.map((p) => [p.path, p.name, p.dev, p.hasInstallScript]),
      [
        ['node_modules/@s/a/node_modules/b', 'b', false, false],
        ['node_modules/alias', 'real', true, true],
      ],
    );
  });

  it('accepts a registry tarball, with or without resolved', () => {
    const resolved = registryTarball('@s/a', '1.2.3');
    assert.equal(resolved, 'https://registry.npmjs.org/@s/a/-/a-1.2.3.tgz');
    assert.deepEqual(lockPackageProblems(pkg({ path: 'node_modules/@s/a', resolved })), []);
    assert.deepEqual(lockPackageProblems(pkg({ path: 'node_modules/@s/a' })), []);
  });

  const flawed: [string, Partial<LockPackage>, RegExp][] = [
    ['another host', { resolved: 'https://evil.example/a/-/a-1.2.3.tgz' }, /not the registry tarball/],
    ['plain http', { resolved: 'http://registry.npmjs.org/a/-/a-1.2.3.tgz' }, /not the registry tarball/],
    [
      'git',
      { resolved: 'git+ssh://git@github.com/a/a.git#abc', version: '1.2.3' },
      /not the registry tarball/,
    ],
    [
      'a tarball of another name',
      { resolved: 'https://registry.npmjs.org/b/-/b-1.2.3.tgz' },
      /not the registry/,
    ],
    ['a range version', { version: '^1.2.3' }, /not an exact version/],
    ['no integrity', { integrity: undefined }, /no integrity/],
    ['a sha1 integrity', { integrity: 'sha1-abc=' }, /not a single sha512/],
    ['a link', { link: true, resolved: '../a' }, /link to a local folder/],
    ['a bundled package', { inBundle: true }, /bundled/],
  ];
  for (const [what, over, problem] of flawed) {
    it(`refuses ${what}`, () => {
      const problems = lockPackageProblems(pkg({ path: 'node_modules/a', ...over }));
      assert.ok(
        problems.some((p) => problem.test(p)),
        problems.join('\n'),
      );
    });
  }

  it('refuses a workspace folder', () => {
    assert.match(lockPackageProblems(pkg({ path: 'packages/a' }))[0]!, /local workspace/);
  });

  it('checks the registry npm uses only when some package has no resolved URL', () => {
    const mirror = { registry: 'https://mirror.example/' };
    assert.deepEqual(registryConfigProblems(mirror, false), []);
    assert.match(registryConfigProblems(mirror, true)[0]!, /registry is https:\/\/mirror.example\//);
    assert.deepEqual(registryConfigProblems({ registry: 'https://registry.npmjs.org' }, true), []);
    assert.match(registryConfigProblems({ '@s:registry': 'https://x.example/' }, false)[0]!, /@s:registry/);
  });
});

describe('install scripts (npm allowScripts)', () => {
  const node = pkg({ path: 'node_modules/node', name: 'node', version: '24.21.0', hasInstallScript: true });
  const resolvedNode = { ...node, resolved: registryTarball('node', '24.21.0') };
  const scripted = (p: LockPackage[]) => new Set(p.filter((x) => x.hasInstallScript).map((x) => x.path));

  it('parses name-only and pinned keys and refuses the rest', () => {
    const { entries, errors } = parsePolicy({
      a: true,
      '@s/b@1.0.0 || 1.0.1': true,
      c: false,
      'd@^1.0.0': true,
      'e@latest': true,
      'github:x/y': true,
      f: 'yes',
    });
    assert.deepEqual(
      entries.map((e) => [e.name, e.versions, e.allow]),
      [
        ['a', null, true],
        ['@s/b', ['1.0.0', '1.0.1'], true],
        ['c', null, false],
      ],
    );
    assert.equal(errors.length, 4);
  });

  it('follows npm: deny wins, pins need a resolved URL, bundles are never allowed', () => {
    assert.equal(scriptVerdict(node, parsePolicy({ node: true }).entries), true);
    assert.equal(scriptVerdict(node, parsePolicy({ node: true, 'node@24.21.0': false }).entries), false);
    assert.equal(scriptVerdict(node, parsePolicy({ 'node@24.21.0': true }).entries), null);
    assert.equal(scriptVerdict(resolvedNode, parsePolicy({ 'node@24.21.0': true }).entries), true);
    assert.equal(scriptVerdict(resolvedNode, parsePolicy({ 'node@24.20.0': true }).entries), null);
    assert.equal(scriptVerdict({ ...node, inBundle: true }, parsePolicy({ node: true }).entries), null);
    assert.equal(scriptVerdict(node, parsePolicy({ other: true }).entries), null);
  });

  it('passes when exactly the allowed packages have scripts', () => {
    const all = [node, pkg({ path: 'node_modules/plain' })];
    assert.deepEqual(scriptProblems(all, scripted(all), { node: true }), []);
  });

  it('names a package whose script is not allowed, and an allow that matches nothing', () => {
    const evil = pkg({ path: 'node_modules/evil', hasInstallScript: true });
    const all = [node, evil];
    assert.deepEqual(scriptProblems(all, scripted(all), { node: true, gone: true }), [
      'evil@1.2.3 (node_modules/evil): has an install script not in package.json allowScripts',
      'allowScripts "gone": allows a package that has no install script in the lockfile; remove it',
    ]);
    assert.match(scriptProblems([node], scripted([node]), { node: false })[0]!, /denied by allowScripts/);
    assert.match(scriptProblems([node], scripted([node]), { 'node@24.21.0': true })[0]!, /cannot verify/);
  });

  it('reads install scripts from an installed package.json', () => {
    assert.equal(manifestHasInstallScript({ scripts: { postinstall: 'x' } }, false), true);
    assert.equal(manifestHasInstallScript({ scripts: { test: 'x', prepare: 'y' } }, false), false);
    assert.equal(manifestHasInstallScript({}, true), true);
  });
});

describe('licences', () => {
  const allowed = [
    'MIT',
    'ISC',
    'BSD-2-Clause',
    'BlueOak-1.0.0',
    '(MIT OR EUPL-1.1+)',
    'MIT OR Apache-2.0',
    'mit or gpl-3.0',
    '(MIT AND Zlib) OR 0BSD',
    'Apache-2.0 WITH LLVM-exception',
    'MIT AND (ISC OR GPL-2.0)',
  ];
  for (const l of allowed) it(`allows ${l}`, () => assert.deepEqual(judgeLicence(l), { ok: true }));

  const refused: [string | undefined, RegExp][] = [
    ['GPL-3.0-only', /not on the allow-list: GPL-3.0-only/],
    ['MIT AND GPL-2.0', /GPL-2.0/],
    ['(MIT AND Zlib) OR GPL-2.0', /Zlib, GPL-2.0/],
    ['BSD', /not on the allow-list: BSD/],
    ['SEE LICENSE IN LICENSE.md', /not an SPDX expression/],
    ['UNLICENSED', /not on the allow-list/],
    ['(MIT OR', /not an SPDX expression/],
    ['MIT OR OR ISC', /not an SPDX expression/],
    [undefined, /no licence declared/],
    ['  ', /no licence declared/],
  ];
  for (const [l, reason] of refused) {
    it(`refuses ${String(l)}`, () => {
      const v = judgeLicence(l);
      assert.equal(v.ok, false);
      assert.match((v as { reason: string }).reason, reason);
    });
  }

  it('reads licence fields of installed packages', () => {
    assert.equal(manifestLicence({ license: 'ISC' }), 'ISC');
    assert.equal(manifestLicence({ license: { type: 'MIT' } }), 'MIT');
    assert.equal(manifestLicence({ licenses: [{ type: 'MIT' }, { type: 'GPL-2.0' }] }), '(MIT OR GPL-2.0)');
    assert.equal(manifestLicence({}), undefined);
  });
});

describe('npm audit report', () => {
  // The shape of `npm audit --json` (auditReportVersion 2, from @npmcli/arborist's
  // AuditReport.toJSON); counts and names made up for the test.
  const report = (high: number, critical: number) =>
    JSON.stringify({
      auditReportVersion: 2,
      vulnerabilities:
        critical > 0
          ? {
              minimist: {
                name: 'minimist',
                severity: 'critical',
                via: [
                  {
                    title: 'Prototype Pollution in minimist',
                    url: 'https://github.com/advisories/GHSA-xvch-5gv4-984h',
                  },
                ],
                range: '<=0.2.3',
              },
              mkdirp: { name: 'mkdirp', severity: 'critical', via: ['minimist'], range: '0.4.1 - 0.5.1' },
            }
          : {},
      metadata: {
        vulnerabilities: { info: 0, low: 1, moderate: 2, high, critical, total: 3 + high + critical },
        dependencies: { total: 40 },
      },
    });

  it('passes a report with nothing above moderate', () => {
    const r = readAudit(report(0, 0));
    assert.equal(r.ran, true);
    assert.equal(auditFails(r as Extract<typeof r, { ran: true }>), false);
  });

  it('fails on high or critical and names the advisories', () => {
    const r = readAudit(report(0, 2));
    assert.ok(r.ran);
    assert.equal(auditFails(r), true);
    assert.deepEqual(r.blocking, [
      'critical minimist <=0.2.3: Prototype Pollution in minimist https://github.com/advisories/GHSA-xvch-5gv4-984h',
      'critical mkdirp 0.4.1 - 0.5.1: via minimist',
    ]);
    const h = readAudit(report(1, 0));
    assert.ok(h.ran && auditFails(h));
  });

  it('never reads an error or empty output as a clean audit', () => {
    const refused = JSON.stringify({
      message: '405 Method Not Allowed - POST …/advisories/bulk',
      statusCode: 405,
      error: { summary: '' },
    });
    assert.deepEqual(readAudit(refused), {
      ran: false,
      reason: 'npm audit did not produce a report: 405 Method Not Allowed - POST …/advisories/bulk',
    });
    assert.equal(readAudit('').ran, false);
    assert.equal(readAudit('{"auditReportVersion":2}').ran, false);
  });
});
