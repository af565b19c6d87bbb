#!/usr/bin/env bash
# IMAP side by side in one run, with the same flags: the Dovecot peer (bench/peers/dovecot.sh),
# then Sealpost (a temporary installation, see start_sealpost), each measured by
#   bench/imap.ts       operations/s of 10 clients over the fixed mix, and APPEND/s alone;
#   bench/imap-idle.ts  server memory per idle (IDLE) connection.
# Prints every JSON line, then one summary line with the ratios sealpost/dovecot. If Sealpost's
# IMAP server does not start, it says so on stderr and still prints Dovecot's numbers.
# Exit status 1 if a run failed (Sealpost not starting included).
#
# usage: bench/run-imap.sh [--clients 10] [--messages 10000] [--seconds 20] [--warmup 2]
#                          [--append-seconds 5] [--connections 1000]
#                          [--only dovecot|sealpost] [--skip-idle] [--dovecot-format maildir]
#                          [--keep-dovecot]   (leave the Dovecot instance running)
#                          [--fresh]          (new mailboxes for both servers)
# As root (Dovecot's master). The first run seeds both mailboxes (--messages APPENDs each:
# minutes for 10000); later runs reuse them: Dovecot's in /tmp/sealpost-bench-dovecot,
# Sealpost's installation in /tmp/sealpost-bench-imap-sealpost.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODE="$ROOT/node_modules/.bin/node"
SEALPOST="$ROOT/bin/sealpost"
USER_NAME=bench@bench.test
PASS=bench-password-1
CONNECTIONS=1000
ONLY=
SKIP_IDLE=0
KEEP_DOVECOT=0
FRESH=0
DOVECOT_FORMAT=maildir
DOVECOT_PORT=10993
# the runner's defaults are shorter than imap.ts's own (30 s, 10 s) to keep a run near 3 min
LOAD=(--clients 10 --messages 10000 --seconds 20 --warmup 2 --append-seconds 5)
while [ $# -gt 0 ]; do
  case "$1" in
    --clients | --messages | --seconds | --warmup | --append-seconds) LOAD+=("$1" "$2"); shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --skip-idle) SKIP_IDLE=1; shift ;;
    --keep-dovecot) KEEP_DOVECOT=1; shift ;;
    --fresh) FRESH=1; shift ;;
    --dovecot-format) DOVECOT_FORMAT=$2; shift 2 ;;
    *) echo "run-imap.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
log() { echo "run-imap.sh: $*" >&2; }
AUTH=(--user "$USER_NAME" --pass "$PASS")

# Every idle connection is a file descriptor here (and one or more in the server, which
# inherits this limit): 1024, a common default, is too low for --connections 1000.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((CONNECTIONS + 200)) ]; then
  log "WARNING: ulimit -n is $(ulimit -n); the idle test needs more than $CONNECTIONS (raise the hard limit)"
fi

# The load shares the machine with the servers: say so when something else is using it.
idle_check() {
  local a b
  read -r _ u n s i w q sq st _ </proc/stat; a="$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"
  sleep 2
  read -r _ u n s i w q sq st _ </proc/stat; b="$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"
  awk -v v="$a $b" 'BEGIN { split(v, j, " "); busy = (j[3] - j[1]) / (j[4] - j[2]);
    if (busy > 0.15) printf "run-imap.sh: WARNING: the machine is %d%% busy before the run; figures will be noisy\n", busy * 100 > "/dev/stderr" }'
}

LINES=$(mktemp)
SP_DIR=${TMPDIR:-/tmp}/sealpost-bench-imap-sealpost
SP_PID=
SP_NEW=0
DOVECOT_STARTED=0
cleanup() {
  stop_sealpost
  if [ "$DOVECOT_STARTED" = 1 ] && [ "$KEEP_DOVECOT" = 0 ]; then bash "$ROOT/bench/peers/dovecot.sh" stop || true; fi
  rm -f "$LINES"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
status=0

# Sets KEY = VALUE lines in [SECTION] of a TOML file: replaced where the key is, added at the
# end of the section otherwise; the section is appended if the file has none.
toml_set() {
  local file=$1 section=$2
  shift 2
  awk -v section="[$section]" -v pairs="$*" '
    function flush() { for (k in want) if (!(k in done)) print k " = " want[k]; delete want }
    BEGIN { n = split(pairs, p, " "); for (i = 1; i <= n; i++) { split(p[i], kv, "="); want[kv[1]] = kv[2] } }
    /^\[/ { if (inside) flush(); inside = ($0 == section); if (inside) seen = 1 }
    inside && match($0, /^[a-z_]+[ \t]*=/) {
      k = $0; sub(/[ \t]*=.*/, "", k)
      if (k in want) { print k " = " want[k]; done[k] = 1; next }
    }
    { print }
    END { if (inside) flush(); else if (!seen) { print ""; print section; flush() } }
  ' "$file" >"$file.new" && mv "$file.new" "$file"
}

free_port() {
  "$NODE" -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# ===== start_sealpost ==========================================================================
# Starts Sealpost with its IMAP listener on 127.0.0.1:SP_PORT (implicit TLS, its self-signed
# development certificate) and the account USER_NAME/PASS, the way bench/lib/sealpost-server.ts
# does for SMTP: `sealpost init` in a data dir of its own, `domain add`, `user add` (password
# on stdin), then `sealpost start` in the background with its output in SP_DIR/server.log.
# The [imap] keys (enabled, host, port, starttls_port, connection limits) are written into the
# config. Like Dovecot's run dir, SP_DIR is kept between runs so that the seeded mailbox is
# reused (--fresh starts over); an installation that no longer starts is remade once.
# Sets SP_PID and SP_PORT; returns 1 (log tail on stderr) if the port never opens.
start_sealpost() {
  local conf=$SP_DIR/sealpost.toml mx_port
  if [ "$FRESH" = 1 ] || [ "$(cat "$SP_DIR/bench-user" 2>/dev/null)" != "$USER_NAME $PASS" ]; then
    rm -rf "$SP_DIR"
  fi
  if [ ! -s "$conf" ]; then
    mkdir -p "$SP_DIR"
    mx_port=$(free_port)
    "$SEALPOST" init --config "$conf" --hostname imap.bench.test --mx-host 127.0.0.1 --mx-port "$mx_port" >&2 || return 1
    "$SEALPOST" domain add bench.test --config "$conf" >&2 || return 1
    printf '%s\n' "$PASS" | "$SEALPOST" user add "$USER_NAME" --config "$conf" >&2 || return 1
    echo "$USER_NAME $PASS" >"$SP_DIR/bench-user"
    SP_NEW=1
  fi
  SP_PORT=$(free_port)
  toml_set "$conf" imap enabled=true host='"127.0.0.1"' port="$SP_PORT" starttls_port=0 \
    max_connections_per_address=$((CONNECTIONS + 100)) max_connections=$((CONNECTIONS + 1000))
  if grep -q '^\[pop3\]' "$conf"; then toml_set "$conf" pop3 enabled=false; fi
  "$SEALPOST" start --config "$conf" >"$SP_DIR/server.log" 2>&1 &
  SP_PID=$!
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$SP_PORT") 2>/dev/null; then
      log "sealpost IMAP on 127.0.0.1:$SP_PORT (pid $SP_PID, $SP_DIR)"
      return 0
    fi
    kill -0 "$SP_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "sealpost's IMAP listener did not open 127.0.0.1:$SP_PORT; the end of its log:"
  tail -15 "$SP_DIR/server.log" >&2 || true
  stop_sealpost
  if [ "$SP_NEW" = 0 ]; then
    log "trying again with a new installation"
    FRESH=1 start_sealpost
    return $?
  fi
  return 1
}

stop_sealpost() {
  if [ -n "$SP_PID" ]; then
    kill "$SP_PID" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$SP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SP_PID" 2>/dev/null || true
    SP_PID=
  fi
}
# ===============================================================================================

# Runs both benchmarks against LABEL on PORT; PIDSPEC names the server's processes.
measure() {
  local label=$1 port=$2 pidspec=$3
  idle_check
  log "$label: imap.ts ${LOAD[*]}"
  "$NODE" "$ROOT/bench/imap.ts" --port "$port" "${AUTH[@]}" "${LOAD[@]}" --label "$label" | tee -a "$LINES" || status=1
  if [ "$SKIP_IDLE" = 0 ]; then
    if [ "$label" = sealpost ]; then
      # A fresh process for the idle test: after the mix, Sealpost's heap holds garbage that
      # a collection during the test frees, hiding what the connections cost (Dovecot's idle
      # sessions are new processes anyway).
      stop_sealpost
      start_sealpost || { status=1; return; }
      port=$SP_PORT pidspec=$SP_PID
    fi
    log "$label: imap-idle.ts --connections $CONNECTIONS"
    "$NODE" "$ROOT/bench/imap-idle.ts" --port "$port" "${AUTH[@]}" --connections "$CONNECTIONS" \
      --pid "$pidspec" --label "$label" | tee -a "$LINES" || status=1
  fi
}

if [ "$ONLY" != sealpost ]; then
  DOVECOT_STARTED=1
  if [ "$FRESH" = 1 ]; then bash "$ROOT/bench/peers/dovecot.sh" stop --purge; fi
  port=$(bash "$ROOT/bench/peers/dovecot.sh" --port "$DOVECOT_PORT" --user "$USER_NAME" --pass "$PASS" \
    --max-connections $((CONNECTIONS + 100)) --format "$DOVECOT_FORMAT")
  # the master and all its children (the login and imap processes come and go)
  measure dovecot "$port" "$(bash "$ROOT/bench/peers/dovecot.sh" pid)"
  if [ "$KEEP_DOVECOT" = 0 ]; then bash "$ROOT/bench/peers/dovecot.sh" stop; DOVECOT_STARTED=0; fi
fi

if [ "$ONLY" != dovecot ]; then
  if start_sealpost; then
    measure sealpost "$SP_PORT" "$SP_PID"
  else
    log "Sealpost's IMAP server did not start: no Sealpost figures in this run"
    status=1
  fi
  stop_sealpost
fi

"$NODE" "$ROOT/bench/imap-summary.ts" "$LINES" || status=1
exit "$status"
