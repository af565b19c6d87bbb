#!/usr/bin/env bash
# Fuzz gate (issue 6, item 3): type-check the fuzz targets, then run every target of
# fuzz/targets for FUZZ_SECONDS (default 30) with its committed seed corpus, two at a
# time: 8 targets × 30 s / 2 ≈ 2 minutes, well under the 6-minute budget. A violated
# property, an input over its time limit or a hang fails the gate; the counterexample
# (shrunk by fast-check) and the command that replays it are printed and kept, with
# per-target statistics, in $RESULTS/fuzz/. FUZZ_SEED fixes the seed (default: random,
# printed, so a failure can be reproduced).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${RESULTS:?RESULTS must name the artefact folder}"
mkdir -p "$RESULTS/fuzz"
node_modules/.bin/tsc --noEmit -p fuzz
args=(--seconds "${FUZZ_SECONDS:-30}" --jobs "${FUZZ_JOBS:-2}")
[ -n "${FUZZ_SEED:-}" ] && args+=(--seed "$FUZZ_SEED")
# The whole run is bounded: targets × seconds / jobs, plus shrinking; 6 minutes is the hard stop.
timeout 360 node_modules/.bin/node fuzz/run.ts "${args[@]}" 2>&1 | tee "$RESULTS/fuzz/run.log"
exit "${PIPESTATUS[0]}"
