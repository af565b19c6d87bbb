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

LINES=$(mktemp)
trap 'rm -f "$LINES"' EXIT
status=0
for round in $(seq 1 "$ROUNDS"); do
  echo "run-ingest.sh: round $round of $ROUNDS: postfix" >&2
  bash "$ROOT/bench/peers/postfix.sh" "${COMMON[@]}" | tee -a "$LINES" || status=1
  echo "run-ingest.sh: round $round of $ROUNDS: sealpost" >&2
  "$NODE" "$ROOT/bench/smtp-ingest.ts" "${COMMON[@]}" | tee -a "$LINES" || status=1
done
"$NODE" "$ROOT/bench/lib/ingest-summary.ts" "$LINES" || status=1
exit "$status"
