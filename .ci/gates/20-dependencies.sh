#!/usr/bin/env bash
# Gate 20, dependencies (issue 6, item 2), run by .ci/gates/run-all from the project
# root with RESULTS set. First the checker's own unit tests, then the checker over the
# project: npm audit of the runtime tree (high or critical fails), install scripts only
# from package.json allowScripts, exact pins from the registry with sha512 integrity,
# and allow-listed licences of the runtime packages. Artefacts: $RESULTS/dependencies/
# (audit.json, licences.txt, and AUDIT-NOT-RUN.txt when npm audit produced no report).
#
# npm audit needs the registry's advisory endpoint (a POST). When that endpoint
# refuses or cannot be reached, the gate fails: an audit that did not run is not a
# clean audit. DEPENDENCY_AUDIT_UNAVAILABLE=warn turns only that case into a loud
# warning (the other three checks and a real high/critical finding still fail).
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${RESULTS:-$PWD/ci-results}/dependencies"
mkdir -p "$out"
node=node_modules/.bin/node
# The pinned npm if the project ever pins one; otherwise the npm that ran `npm ci`.
npm=npm
[ -x node_modules/.bin/npm ] && npm="$PWD/node_modules/.bin/npm"

# The checker's own code: type-checked (the project's tsconfig does not cover .ci/)
# and its rules unit-tested, so a broken checker cannot pass by accident.
node_modules/.bin/tsc --noEmit -p .ci/gates/tsconfig.json
"$node" --test --test-reporter=dot .ci/gates/dependencies.test.ts
echo "dependencies: the checker's unit tests passed"

"$node" .ci/gates/dependencies.ts . --results "$out" --npm "$npm"
