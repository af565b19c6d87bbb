#!/usr/bin/env bash
# SMTP ingest, side by side in one run: the Postfix peer (smtp-source and smtp-load, up to
# delivery into Maildir), then Sealpost (smtp-load, up to the durable 250), --rounds times
# in alternation. Prints every JSON line, then one summary line with the ratio
# sealpost/postfix (medians over the rounds). Exit status 1 if a run failed.
#
# usage: bench/run-ingest.sh [--count 2000] [--concurrency 20] [--size 10240] [--warmup 100]
#                            [--rounds 1]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE="$ROOT/node_modules/.bin/node"
ROUNDS=1
COMMON=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --count | --concurrency | --size | --warmup) COMMON+=("$1" "$2"); shift 2 ;;
    *) echo "run-ingest.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# The load shares the machine with the servers: say so when something else is using it.
idle_check() {
  local a b
  read -r _ u n s i w q sq st _ </proc/stat; a="$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"
  sleep 2
  read -r _ u n s i w q sq st _ </proc/stat; b="$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"
  awk -v v="$a $b" 'BEGIN { split(v, j, " "); busy = (j[3] - j[1]) / (j[4] - j[2]);
    if (busy > 0.15) printf "run-ingest.sh: WARNING: the machine is %d%% busy before the run; figures will be noisy\n", busy * 100 > "/dev/stderr" }'
}

LINES=$(mktemp)
trap 'rm -f "$LINES"' EXIT
status=0
for round in $(seq 1 "$ROUNDS"); do
  idle_check
  echo "run-ingest.sh: round $round of $ROUNDS: postfix" >&2
  bash "$ROOT/bench/peers/postfix.sh" "${COMMON[@]}" | tee -a "$LINES" || status=1
  idle_check
  echo "run-ingest.sh: round $round of $ROUNDS: sealpost" >&2
  "$NODE" "$ROOT/bench/smtp-ingest.ts" "${COMMON[@]}" | tee -a "$LINES" || status=1
done
"$NODE" "$ROOT/bench/lib/ingest-summary.ts" "$LINES" || status=1
exit "$status"
