#!/usr/bin/env bash
# The Dovecot peer for bench/imap.ts and bench/imap-idle.ts: installs Debian's dovecot-imapd
# if needed and runs a private instance of it. Nothing of /etc/dovecot is read: the config is
# written here into the run directory (default /tmp/sealpost-bench-dovecot) with its own
# base_dir, state_dir, log file, a self-signed certificate (openssl), one passwd-file user
# and Maildirs owned by the unprivileged system user `sealbench` (created if missing).
# It listens on 127.0.0.1:PORT only, with implicit TLS (ssl=required; no cleartext port).
#
# Dovecot keeps Debian's defaults otherwise, which is how it is usually deployed:
#   - `service imap { client_limit = 1 }`: one imap process per logged-in connection;
#   - `service imap-login` in high-security mode (service_count = 1): one login process per
#     connection, which stays for the whole session as the TLS proxy in front of its imap
#     process (so an IDLE connection costs two processes). --login-mode high-performance
#     switches to service_count = 0 (a few login processes serving many connections).
#   - mail_fsync = optimized, Maildir with Dovecot's index and cache files. --format mdbox
#     (or sdbox) uses Dovecot's own storage formats instead: faster with many messages and
#     concurrent writers, since Maildir keeps flags in file names (a STORE is a rename that
#     makes every other session of the mailbox rescan its directory).
# Raised so that 1000+ idle connections fit: default_process_limit,
# default_client_limit, mail_max_userip_connections (10 by default, per user and address),
# and the auth/anvil client limits; the fd limit (ulimit -n) is raised to its hard limit.
# The password is hashed with argon2id at Sealpost's parameters (m=19 MiB, t=2, p=1) so that
# a LOGIN costs both servers about the same.
#
# Re-runs are idempotent and fast: an instance already running with the same config is left
# alone (the seeded Maildir survives between runs); a changed config restarts it.
#
# usage: bench/peers/dovecot.sh [start] [--port 10993] [--dir DIR] [--user bench@bench.test]
#                               [--pass PASSWORD] [--max-connections 2000]
#                               [--login-mode high-security|high-performance]
#                               [--format maildir|mdbox|sdbox]
#        bench/peers/dovecot.sh stop [--dir DIR] [--purge]   (--purge removes the run dir)
#        bench/peers/dovecot.sh pid [--dir DIR]               (the master's pid)
# `start` prints the port on stdout once Dovecot accepts connections; the rest goes to stderr.

set -euo pipefail

CMD=start
case "${1:-}" in start | stop | pid) CMD=$1; shift ;; esac
PORT=10993
DIR=${TMPDIR:-/tmp}/sealpost-bench-dovecot
USER_NAME=bench@bench.test
PASS=bench-password-1
MAX_CONN=2000
LOGIN_MODE=high-security
FORMAT=maildir
PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --user) USER_NAME=$2; shift 2 ;;
    --pass) PASS=$2; shift 2 ;;
    --max-connections) MAX_CONN=$2; shift 2 ;;
    --login-mode) LOGIN_MODE=$2; shift 2 ;;
    --format) FORMAT=$2; shift 2 ;;
    --purge) PURGE=1; shift ;;
    *) echo "dovecot.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NODE="$ROOT/node_modules/.bin/node"
CONF=$DIR/dovecot.conf
PIDFILE=$DIR/run/master.pid
log() { echo "dovecot.sh: $*" >&2; }

master_pid() {
  local pid
  [ -s "$PIDFILE" ] || return 1
  pid=$(tr -d ' \n' <"$PIDFILE")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

stop_instance() {
  local pid
  if pid=$(master_pid); then
    /usr/sbin/dovecot -c "$CONF" stop >&2 2>&1 || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "master $pid did not stop; killing it"; kill -9 "$pid" || true; fi
    log "stopped (master $pid)"
  fi
}

case "$CMD" in
  stop)
    stop_instance
    if [ "$PURGE" = 1 ]; then rm -rf "$DIR"; log "removed $DIR"; fi
    exit 0 ;;
  pid)
    master_pid || { log "not running ($DIR)"; exit 1; }
    exit 0 ;;
esac

if [ "$(id -u)" -ne 0 ]; then log "must run as root (installs Dovecot and runs its master)"; exit 1; fi
case "$LOGIN_MODE" in high-security) SERVICE_COUNT=1 ;; high-performance) SERVICE_COUNT=0 ;;
  *) log "--login-mode is high-security or high-performance"; exit 2 ;; esac
case "$FORMAT" in maildir) MAIL_LOCATION='maildir:~/Maildir' ;; mdbox | sdbox) MAIL_LOCATION="$FORMAT:~/$FORMAT" ;;
  *) log "--format is maildir, mdbox or sdbox"; exit 2 ;; esac

# --- install -------------------------------------------------------------------------------
if [ ! -x /usr/sbin/dovecot ] || [ ! -x /usr/lib/dovecot/imap ]; then
  log "installing dovecot-imapd from Debian"
  if ! apt-cache show dovecot-imapd >/dev/null 2>&1; then apt-get update -qq >&2; fi
  # policy-rc.d or not, the package's own instance is not wanted: it is stopped below
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd >&2
  if [ -x /usr/sbin/invoke-rc.d ]; then invoke-rc.d dovecot stop >/dev/null 2>&1 || true; fi
fi
if ! getent passwd sealbench >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sealbench
  log "created system user sealbench"
fi
MAIL_UID=$(id -u sealbench)
MAIL_GID=$(id -g sealbench)

# --- run directory, certificate, user ------------------------------------------------------
mkdir -p "$DIR/tls" "$DIR/run" "$DIR/state" "$DIR/mail"
chmod 755 "$DIR" "$DIR/mail"
chown sealbench:sealbench "$DIR/mail"
if [ ! -s "$DIR/tls/key.pem" ] || [ ! -s "$DIR/tls/cert.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -days 3650 -nodes \
    -subj "/CN=imap.dovecot.bench.test" -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null
  chmod 600 "$DIR/tls/key.pem"
fi
# the password file changes only when the user or password does (argon2id salts differ)
if [ ! -s "$DIR/users" ] || [ "$(cat "$DIR/users.id" 2>/dev/null)" != "$USER_NAME $PASS" ]; then
  HASH=$(cd "$ROOT" && printf '%s' "$PASS" | "$NODE" -e '
    const { hash } = await import("@node-rs/argon2");
    let p = ""; for await (const c of process.stdin) p += c;
    // Sealpost parameters (src/crypto/password.ts): argon2id, 19 MiB, t=2, p=1
    process.stdout.write(await hash(p, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }));
  ' --input-type=module)
  echo "$USER_NAME:{ARGON2ID}$HASH" >"$DIR/users"
  echo "$USER_NAME $PASS" >"$DIR/users.id"
  chmod 640 "$DIR/users" "$DIR/users.id"
  chgrp dovecot "$DIR/users"
fi

# Enough for MAX_CONN idle connections: each takes an imap process and (high-security) an
# imap-login process; auth and anvil talk to every login process.
PROCS=$((MAX_CONN + 100))
CLIENTS=$((3 * MAX_CONN + 1000))
NEW_CONF=$(
  cat <<EOF
# Written by bench/peers/dovecot.sh; a private instance, /etc/dovecot is not read.
base_dir = $DIR/run
state_dir = $DIR/state
instance_name = sealpost-bench-dovecot
log_path = $DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$DIR/tls/cert.pem
ssl_key = <$DIR/tls/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = username_format=%u $DIR/users
}
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$DIR/mail/%d/%n
}
mail_uid = $MAIL_UID
mail_gid = $MAIL_GID
first_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
mail_location = $MAIL_LOCATION
namespace inbox {
  inbox = yes
  separator = /
}
default_process_limit = $PROCS
default_client_limit = $CLIENTS
mail_max_userip_connections = $PROCS
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $PORT
    ssl = yes
  }
  # 1: Debian's default (high-security mode); 0: high-performance mode
  service_count = $SERVICE_COUNT
}
service imap {
  # Debian's default: one process per connection
  client_limit = 1
}
service auth {
  client_limit = $CLIENTS
}
service anvil {
  client_limit = $CLIENTS
}
EOF
)

# IDLE watches the Maildir with inotify, one instance per imap process; past the per-user
# limit (128 by default) Dovecot falls back to polling and logs a warning per process
INOTIFY=/proc/sys/fs/inotify/max_user_instances
if [ -r "$INOTIFY" ] && [ "$(cat "$INOTIFY")" -lt $((MAX_CONN + 100)) ]; then
  if echo $((MAX_CONN + 100)) >"$INOTIFY" 2>/dev/null; then
    log "raised fs.inotify.max_user_instances to $((MAX_CONN + 100)) (IDLE in every imap process)"
  else
    log "WARNING: fs.inotify.max_user_instances is $(cat "$INOTIFY"): IDLE past that many sessions polls"
  fi
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((2 * MAX_CONN + 200)) ]; then
  log "WARNING: ulimit -n is $(ulimit -n); Dovecot may refuse connections near $MAX_CONN"
fi

if pid=$(master_pid) && [ "$(cat "$CONF" 2>/dev/null)" = "$NEW_CONF" ]; then
  log "already running (master $pid, $DIR)"
else
  stop_instance
  printf '%s\n' "$NEW_CONF" >"$CONF"
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    log "127.0.0.1:$PORT is already in use; pick another with --port"; exit 1
  fi
  /usr/sbin/dovecot -c "$CONF" >&2
  log "$(/usr/sbin/dovecot --version | sed 's/^/Dovecot /') started ($DIR, $FORMAT, login mode $LOGIN_MODE)"
fi
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "$PORT"; exit 0; fi
  sleep 0.1
done
log "dovecot did not open 127.0.0.1:$PORT"
tail -20 "$DIR/dovecot.log" >&2 || true
exit 1
