#!/usr/bin/env bash
# Gate: TLS scan (issue 6, item 1). Starts a real Sealpost with every TLS listener open
# (certificate from a throwaway CA), scans each listener with testssl.sh (Debian's
# package, installed by .ci/run; STARTTLS ports with --starttls smtp|imap|pop3) and
# fails on a finding rated MEDIUM or worse, a protocol below TLS 1.2, a cipher without
# forward secrecy or AEAD, client-initiated renegotiation, or STARTTLS command injection
# (our own probe: testssl.sh 3.0.8 has no --SI). Control listeners with planted flaws
# must be caught in the same run. Rules and the only exclusions: .ci/gates/tls-scan/evaluate.ts.
# Artefacts: $RESULTS/tls-scan/summary.txt, summary.json and testssl's JSON/CSV/log per listener.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${RESULTS:?RESULTS must be set (run .ci/gates/run-all)}"
if ! command -v testssl >/dev/null 2>&1; then
  echo "tls-scan: testssl (Debian package testssl.sh) is not installed" >&2
  exit 1
fi
exec node_modules/.bin/node .ci/gates/tls-scan/main.ts
