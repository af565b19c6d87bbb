#!/usr/bin/env bash
# The Postfix peer for bench/smtp-ingest: installs Postfix from Debian if needed, runs a
# private instance of it (its own config, queue and data directories in a temp dir, no
# chroot) listening on 127.0.0.1:PORT only, delivering the virtual domain bench.test into a
# Maildir, and measures ingest with the same load as Sealpost gets:
#   1. Postfix's own smtp-source (a new connection per message: its default without -d);
#   2. our bench/lib/smtp-load.ts, through `bench/smtp-ingest.ts --port` (DKIM-signed 10 KB
#      messages, the very bytes Sealpost is sent).
# A message counts once Postfix has delivered it into Maildir/new (not at its 250): the rate
# is messages / (time from the start of the load until the last file exists).
# Postfix keeps its defaults otherwise (queue files are fsync'd, delivery fsyncs the
# Maildir file, in_flow_delay is on). The default instance in /etc/postfix is not touched,
# nothing listens on port 25, and the instance is stopped and removed on exit.
#
# usage: bench/peers/postfix.sh [--count 2000] [--concurrency 20] [--size 10240]
#                               [--warmup 100] [--port 2526] [--tools smtp-source,smtp-load]
#                               [--keep]   (keep the temp dir: config, maillog, Maildir)
# Prints one JSON line per measurement on stdout; everything else goes to stderr.

set -euo pipefail

COUNT=2000
CONCURRENCY=20
SIZE=10240
WARMUP=100
PORT=2526
TOOLS=smtp-source,smtp-load
DELIVERY_TIMEOUT=300
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "postfix.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NODE="$ROOT/node_modules/.bin/node"
log() { echo "postfix.sh: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (installs Postfix and runs its master)"; exit 1
fi

# --- install -------------------------------------------------------------------------------
if [ ! -x /usr/sbin/postfix ] || [ ! -x /usr/sbin/smtp-source ]; then
  log "installing postfix from Debian"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  if ! apt-cache show postfix >/dev/null 2>&1; then apt-get update -qq >&2; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >&2
fi
log "$(/usr/sbin/postconf -d -h mail_version | sed 's/^/Postfix /')"

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  log "127.0.0.1:$PORT is already in use; pick another with --port"; exit 1
fi

# --- a private instance --------------------------------------------------------------------
BASE=$(mktemp -d "${TMPDIR:-/tmp}/sealpost-bench-postfix.XXXXXX")
CONF=$BASE/etc
MAILBASE=$BASE/mail
MAILDIR=$MAILBASE/bench.test/rcpt
STARTED=0
CHILD=
# Runs a command in the background and waits, so that a signal is handled at once.
run_child() {
  local rc=0
  "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=
  return "$rc"
}
cleanup() {
  if [ -n "$CHILD" ]; then kill "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  if [ "$STARTED" = 1 ]; then
    /usr/sbin/postfix -c "$CONF" stop >&2 2>&1 || true
    pidfile=$BASE/spool/pid/master.pid
    for _ in $(seq 1 100); do
      [ -s "$pidfile" ] && kill -0 "$(tr -d ' ' <"$pidfile")" 2>/dev/null || break
      sleep 0.1
    done
  fi
  if [ "$KEEP" = 1 ]; then log "kept $BASE"; else rm -rf "$BASE"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

chmod 755 "$BASE"
mkdir -p "$CONF" "$BASE/spool" "$BASE/data" "$MAILDIR"/{tmp,new,cur}
chown postfix:postfix "$BASE/data"
# deliveries run as nobody:nogroup (virtual_uid_maps), so the Maildir tree is theirs
chown -R 65534:65534 "$MAILBASE"
echo "rcpt@bench.test bench.test/rcpt/" >"$CONF/vmailbox"

cat >"$CONF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $BASE/spool
data_directory = $BASE/data
myhostname = mx.postfix.bench.test
mydomain = postfix.bench.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
append_dot_mydomain = no
biff = no
# no DNS of its own: nothing here may stall on a resolver
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = bench.test
virtual_mailbox_base = $MAILBASE
virtual_mailbox_maps = texthash:$CONF/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
message_size_limit = 26214400
syslog_name = postfix-bench
maillog_file = $BASE/maillog
maillog_file_prefixes = $BASE
EOF

# Debian's master.cf, less the pipe examples, with chroot off everywhere and smtpd on loopback.
cat >"$CONF/master.cf" <<EOF
127.0.0.1:$PORT inet n - n - - smtpd
pickup     unix n - n 60 1 pickup
cleanup    unix n - n - 0 cleanup
qmgr       unix n - n 300 1 qmgr
rewrite    unix - - n - - trivial-rewrite
bounce     unix - - n - 0 bounce
defer      unix - - n - 0 bounce
trace      unix - - n - 0 bounce
verify     unix - - n - 1 verify
flush      unix n - n 1000? 0 flush
proxymap   unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp       unix - - n - - smtp
relay      unix - - n - - smtp
showq      unix n - n - - showq
error      unix - - n - - error
retry      unix - - n - - error
discard    unix - - n - - discard
local      unix - n n - - local
virtual    unix - n n - - virtual
lmtp       unix - - n - - lmtp
anvil      unix - - n - 1 anvil
scache     unix - - n - 1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF

/usr/sbin/postfix -c "$CONF" check >&2
/usr/sbin/postfix -c "$CONF" start >&2
STARTED=1
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { log "postfix did not open 127.0.0.1:$PORT"; tail -20 "$BASE/maillog" >&2 || true; exit 1; }
log "postfix listening on 127.0.0.1:$PORT, Maildir $MAILDIR"

# --- measuring -----------------------------------------------------------------------------
shopt -s nullglob
DELIVERED=0
# Sets DELIVERED to the number of messages in Maildir/new (no subshell: cheap to poll).
count_delivered() {
  local files=("$MAILDIR"/new/*)
  DELIVERED=${#files[@]}
}
# Waits (bounded) until the Maildir holds $1 messages; DELIVERED is the count reached.
wait_delivered() {
  local want=$1 deadline=$((SECONDS + DELIVERY_TIMEOUT))
  while count_delivered && [ "$DELIVERED" -lt "$want" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.01
  done
}
now_us() { echo "${EPOCHREALTIME/./}"; }
# "busy total" jiffies of all CPUs (/proc/stat): user nice system idle iowait irq softirq steal
cpu_now() {
  local _c u n s i w q sq st _rest
  read -r _c u n s i w q sq st _rest </proc/stat
  echo "$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st))"
}

run_smtp_source() {
  local count=$1
  run_child /usr/sbin/smtp-source -s "$CONCURRENCY" -m "$count" -l "$SIZE" -M load.bench.test \
    -f sender@sender.bench.test -t rcpt@bench.test "127.0.0.1:$PORT" >&2
}

if [[ ",$TOOLS," == *",smtp-source,"* ]]; then
  if [ "$WARMUP" -gt 0 ]; then
    count_delivered
    run_smtp_source "$WARMUP" || log "smtp-source warmup failed"
    wait_delivered $((DELIVERED + WARMUP))
  fi
  count_delivered
  base=$DELIVERED
  cpu0=$(cpu_now)
  t0=$(now_us)
  rc=0
  run_smtp_source "$COUNT" || rc=$?
  t1=$(now_us)
  wait_delivered $((base + COUNT))
  t2=$(now_us)
  cpu1=$(cpu_now)
  got=$((DELIVERED - base))
  [ "$rc" -eq 0 ] || log "smtp-source exited with $rc"
  awk -v got="$got" -v count="$COUNT" -v c="$CONCURRENCY" -v size="$SIZE" \
    -v ack=$((t1 - t0)) -v total=$((t2 - t0)) -v rc="$rc" -v cpu="$cpu0 $cpu1" 'BEGIN {
      split(cpu, j, " ")
      printf "{\"bench\":\"smtp-ingest\",\"target\":\"postfix\",\"tool\":\"smtp-source\",\"messages\":%d,", count
      printf "\"concurrency\":%d,\"size\":%d,\"msgs_per_s\":%.1f,\"smtp_msgs_per_s\":%.1f,", c, size, got / (total / 1e6), count / (ack / 1e6)
      printf "\"seconds\":%.3f,\"p50_ms\":null,\"p99_ms\":null,\"failed\":%d,\"delivered\":%d,\"exit\":%d,", total / 1e6, count - got, got, rc
      printf "\"new_connection_per_message\":true,\"cpu_busy\":%.2f}\n", (j[3] - j[1]) / (j[4] - j[2])
    }'
fi

if [[ ",$TOOLS," == *",smtp-load,"* ]]; then
  run_child "$NODE" "$ROOT/bench/smtp-ingest.ts" --host 127.0.0.1 --port "$PORT" --target postfix \
    --maildir "$MAILDIR" --count "$COUNT" --concurrency "$CONCURRENCY" --size "$SIZE" --warmup "$WARMUP"
fi

if grep -qE 'status=(bounced|deferred)|fatal:|panic:' "$BASE/maillog"; then
  log "problems in the Postfix log:"
  grep -E 'status=(bounced|deferred)|fatal:|panic:' "$BASE/maillog" | head -5 >&2
fi
