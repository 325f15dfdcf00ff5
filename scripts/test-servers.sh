#!/usr/bin/env bash
# Throwaway real database servers on loopback for ilana's tests, benchmarks and CI.
#
#   scripts/test-servers.sh start   [pg|replica|pgbouncer|mysql|all]   (default all)
#   scripts/test-servers.sh stop    [pg|replica|pgbouncer|mysql|all]   (default all)
#   scripts/test-servers.sh restart [pg|replica|pgbouncer|mysql|all]   (default all)
#   scripts/test-servers.sh status
#   scripts/test-servers.sh env
#   scripts/test-servers.sh destroy        stop everything, delete the state dir
#
#   eval "$(scripts/test-servers.sh start)"
#
# `start` and `env` print `export ILANA_TEST_...=...` lines on stdout for the
# servers that are running; all progress and errors go to stderr. `start` is
# idempotent and reuses existing data directories (a second start only starts
# what is not running). `stop` fast-stops only servers this script started,
# found through their pid files; it keeps the data. `stop pg` + `start pg`
# simulates a primary restart (the replica and PgBouncer stay up and reconnect).
#
# Environment (all optional; the same names `env` prints, so after `eval` a
# later call addresses the same servers):
#   ILANA_TEST_STATE_DIR          default /tmp/ilana-test-servers
#   ILANA_TEST_PG_PORT            default 55432  (PostgreSQL primary)
#   ILANA_TEST_PG_REPLICA_PORT    default 55433  (streaming hot standby)
#   ILANA_TEST_PGBOUNCER_PORT     default 56432  (PgBouncer, transaction pooling)
#   ILANA_TEST_MYSQL_PORT         default 53306  (MariaDB)
#   ILANA_PG_BINDIR               default: newest /usr/lib/postgresql/*/bin
#
# Run as root (CI): PostgreSQL and PgBouncer run as the `postgres` user via
# runuser, MariaDB runs with --user=root. Run as another user: every server
# runs as that user (best effort; needs the binaries and a writable state dir).
#
# State dir layout:
#   pg/  pg-replica/        PostgreSQL data directories
#   run/                    unix sockets (PostgreSQL, PgBouncer, MariaDB), pid files
#   pgbouncer/              pgbouncer.ini, userlist.txt
#   mysql/                  MariaDB data directory
#   log/                    pg.log, pg-replica.log, pgbouncer.log, mysql.log
set -euo pipefail

# ---------------------------------------------------------------------------
# configuration

SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

STATE_DIR="${ILANA_TEST_STATE_DIR:-/tmp/ilana-test-servers}"
case "$STATE_DIR" in
  /*) ;;
  *) STATE_DIR="$(pwd)/$STATE_DIR" ;;
esac
STATE_DIR="${STATE_DIR%/}"

PG_PORT="${ILANA_TEST_PG_PORT:-55432}"
REPLICA_PORT="${ILANA_TEST_PG_REPLICA_PORT:-55433}"
PGBOUNCER_PORT="${ILANA_TEST_PGBOUNCER_PORT:-56432}"
MYSQL_PORT="${ILANA_TEST_MYSQL_PORT:-53306}"

HOST=127.0.0.1
TEST_USER=ilana
TEST_PASSWORD=ilana_pw
TEST_DB=ilana_test
BENCH_DB=bench

PG_DATA="$STATE_DIR/pg"
REPLICA_DATA="$STATE_DIR/pg-replica"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/log"
PGB_DIR="$STATE_DIR/pgbouncer"
MYSQL_DATA="$STATE_DIR/mysql"
PG_LOG="$LOG_DIR/pg.log"
REPLICA_LOG="$LOG_DIR/pg-replica.log"
PGB_LOG="$LOG_DIR/pgbouncer.log"
MYSQL_LOG="$LOG_DIR/mysql.log"
PGB_PID="$RUN_DIR/pgbouncer.pid"
MYSQL_PID="$RUN_DIR/mysql.pid"
MYSQL_SOCK="$RUN_DIR/mysql.sock"
MARKER="$STATE_DIR/.ilana-test-servers"

START_TIMEOUT=30

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# ---------------------------------------------------------------------------
# helpers

log() { printf 'test-servers: %s\n' "$*" >&2; }

die() {
  printf 'test-servers: ERROR: %s\n' "$*" >&2
  exit 1
}

# die, showing the tail of a log file
die_log() {
  local msg="$1" file="$2"
  {
    printf 'test-servers: ERROR: %s (log: %s)\n' "$msg" "$file"
    if [ -f "$file" ]; then
      printf -- '--- last lines of %s ---\n' "$file"
      tail -n 25 "$file" || true
      printf -- '---\n'
    fi
  } >&2
  exit 1
}

# Run a command as the PostgreSQL OS user (postgres when root, else ourselves).
as_pg() {
  if [ "$IS_ROOT" -eq 1 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# chown to postgres when root (no-op otherwise)
own_pg() {
  if [ "$IS_ROOT" -eq 1 ]; then
    chown postgres:postgres "$@"
  fi
}

find_pg_bindir() {
  if [ -n "${ILANA_PG_BINDIR:-}" ]; then
    [ -x "$ILANA_PG_BINDIR/pg_ctl" ] || die "ILANA_PG_BINDIR=$ILANA_PG_BINDIR has no pg_ctl"
    printf '%s\n' "$ILANA_PG_BINDIR"
    return
  fi
  local d
  d="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then
    printf '%s\n' "$d"
    return
  fi
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir)"
    if [ -x "$d/pg_ctl" ]; then
      printf '%s\n' "$d"
      return
    fi
  fi
  d="$(command -v pg_ctl 2>/dev/null || true)"
  [ -n "$d" ] || die "PostgreSQL server binaries not found (install postgresql; scripts/install-deps.sh)"
  dirname "$d"
}

PG_BIN=""
pg_bin() {
  [ -n "$PG_BIN" ] || PG_BIN="$(find_pg_bindir)"
  printf '%s/%s' "$PG_BIN" "$1"
}

# first of the named programs found in PATH or the sbin dirs
find_prog() {
  local p d
  for p in "$@"; do
    if command -v "$p" >/dev/null 2>&1; then
      command -v "$p"
      return 0
    fi
    for d in /usr/sbin /usr/local/sbin /sbin; do
      if [ -x "$d/$p" ]; then
        printf '%s\n' "$d/$p"
        return 0
      fi
    done
  done
  return 1
}

# Is pid alive (and not a zombie) and is its command name $2?
pid_is() {
  local pid="$1" comm="$2" state actual
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
  [ "$state" != "Z" ] && [ "$state" != "X" ] || return 1
  actual="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
  [ "$actual" = "$comm" ]
}

# pid from the first line of a pid file, or empty
read_pid() {
  [ -f "$1" ] || return 0
  head -n 1 "$1" 2>/dev/null | tr -dc '0-9' || true
}

# pid of a running server of ours, or empty (stale pid files count as stopped)
pg_pid_of() { # datadir
  local pid
  pid="$(read_pid "$1/postmaster.pid")"
  if pid_is "$pid" postgres; then printf '%s' "$pid"; fi
}
pg_pid() { pg_pid_of "$PG_DATA"; }
replica_pid() { pg_pid_of "$REPLICA_DATA"; }
pgbouncer_pid() {
  local pid
  pid="$(read_pid "$PGB_PID")"
  if pid_is "$pid" pgbouncer; then printf '%s' "$pid"; fi
}
mysql_pid() {
  local pid
  pid="$(read_pid "$MYSQL_PID")"
  if pid_is "$pid" mariadbd || pid_is "$pid" mysqld; then printf '%s' "$pid"; fi
}

is_running() { [ -n "$("${1}_pid")" ]; }

# wait until pid is gone; SIGKILL after $2 seconds
wait_gone() {
  local pid="$1" comm="$2" limit="${3:-30}" i=0
  while pid_is "$pid" "$comm"; do
    if [ "$i" -ge $((limit * 10)) ]; then
      log "$comm (pid $pid) did not exit after ${limit}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      return 0
    fi
    sleep 0.1
    i=$((i + 1))
  done
}

port_busy() {
  # true if something listens on 127.0.0.1:$1 (bash /dev/tcp probe)
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

check_port_free() { # port what
  if port_busy "$1"; then
    die "port $1 ($2) is already in use by another process; set the override variable or free the port"
  fi
}

# ---------------------------------------------------------------------------
# state dir

ensure_state_dir() {
  if [ -d "$STATE_DIR" ] && [ ! -e "$MARKER" ] && [ -n "$(ls -A "$STATE_DIR" 2>/dev/null)" ]; then
    die "$STATE_DIR exists, is not empty and was not created by this script; choose another ILANA_TEST_STATE_DIR"
  fi
  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR"
  touch "$MARKER"
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$PGB_DIR"
  chmod 755 "$RUN_DIR" "$LOG_DIR"
  chmod 700 "$PGB_DIR"
  own_pg "$RUN_DIR" "$LOG_DIR" "$PGB_DIR"
  if [ "$IS_ROOT" -eq 1 ] && ! runuser -u postgres -- test -w "$RUN_DIR"; then
    die "user postgres cannot reach $STATE_DIR (a parent directory is not searchable); choose another ILANA_TEST_STATE_DIR"
  fi
}

# Serialize concurrent invocations. fd 9 is closed for every daemon we launch
# (9>&-) so no server keeps the lock.
take_lock() {
  exec 9>"$STATE_DIR/.lock"
  if ! flock -w 180 9; then
    die "another test-servers.sh holds $STATE_DIR/.lock for more than 180 s"
  fi
}

# ---------------------------------------------------------------------------
# PostgreSQL primary

pg_psql() { # port, psql args...
  local port="$1"
  shift
  as_pg "$(pg_bin psql)" -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "$port" -U postgres "$@"
}

pg_init() {
  log "initializing PostgreSQL data directory $PG_DATA"
  rm -rf "$PG_DATA"
  # a replica of an older primary cannot follow the new one
  rm -rf "$REPLICA_DATA"
  mkdir -p "$PG_DATA"
  chmod 700 "$PG_DATA"
  own_pg "$PG_DATA"
  if ! as_pg "$(pg_bin initdb)" -D "$PG_DATA" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$LOG_DIR/initdb.log" 2>&1 </dev/null 9>&-; then
    die_log "initdb failed" "$LOG_DIR/initdb.log"
  fi
  as_pg tee "$PG_DATA/ilana.conf" >/dev/null <<EOF
# written by scripts/test-servers.sh (throwaway test server: durability off)
listen_addresses = '$HOST'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
wal_keep_size = '512MB'
max_wal_senders = 10
hot_standby = on
wal_retrieve_retry_interval = '200ms'
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  printf "\ninclude 'ilana.conf'\n" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<EOF
# written by scripts/test-servers.sh
# TYPE  DATABASE     USER      ADDRESS        METHOD
local   all          all                      trust
local   replication  all                      trust
host    all          postgres  127.0.0.1/32   trust
host    replication  all       127.0.0.1/32   trust
host    all          all       127.0.0.1/32   scram-sha-256
EOF
}

pg_setup_sql() {
  pg_psql "$PG_PORT" -d postgres <<EOF
SET password_encryption = 'scram-sha-256';
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$TEST_USER') THEN
    CREATE ROLE $TEST_USER LOGIN SUPERUSER;
  END IF;
END
\$\$;
ALTER ROLE $TEST_USER LOGIN SUPERUSER PASSWORD '$TEST_PASSWORD';
SELECT 'CREATE DATABASE $TEST_DB OWNER $TEST_USER ENCODING ''UTF8'''
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$TEST_DB') \gexec
SELECT 'CREATE DATABASE $BENCH_DB OWNER $TEST_USER ENCODING ''UTF8'''
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$BENCH_DB') \gexec
EOF
}

pg_start_cluster() { # datadir port logfile what [extra postgres options]
  local data="$1" port="$2" logf="$3" what="$4" extra="${5:-}"
  local pidf="$data/postmaster.pid"
  if [ -f "$pidf" ] && [ -z "$(pg_pid_of "$data")" ]; then
    log "removing stale $pidf"
    rm -f "$pidf"
  fi
  check_port_free "$port" "$what"
  # shellcheck disable=SC2094 # pg_ctl appends its own errors to the server log
  if ! as_pg "$(pg_bin pg_ctl)" -D "$data" -l "$logf" -w -t "$START_TIMEOUT" \
    -o "-p $port -k '$RUN_DIR' -c listen_addresses=$HOST $extra" start \
    >/dev/null 2>>"$logf" </dev/null 9>&-; then
    die_log "$what did not start on port $port" "$logf"
  fi
}

start_pg() { # [quiet]: called as a dependency
  if is_running pg; then
    [ "${1:-}" = quiet ] ||
      log "PostgreSQL primary already running (pid $(pg_pid), port $PG_PORT)"
    return 0
  fi
  if [ ! -f "$PG_DATA/PG_VERSION" ] || [ ! -f "$PG_DATA/ilana.conf" ]; then
    pg_init
  fi
  log "starting PostgreSQL primary on $HOST:$PG_PORT"
  touch "$PG_LOG"
  own_pg "$PG_LOG"
  pg_start_cluster "$PG_DATA" "$PG_PORT" "$PG_LOG" "PostgreSQL primary"
  if [ ! -f "$PG_DATA/ilana-setup-done" ]; then
    log "creating role $TEST_USER and databases $TEST_DB, $BENCH_DB"
    pg_setup_sql >>"$PG_LOG" 2>&1 || die_log "PostgreSQL role/database setup failed" "$PG_LOG"
    as_pg touch "$PG_DATA/ilana-setup-done"
  fi
}

stop_pg_cluster() { # datadir what
  local data="$1" what="$2" pid
  pid="$(pg_pid_of "$data")"
  if [ -z "$pid" ]; then
    if [ -f "$data/postmaster.pid" ]; then
      log "$what not running (removing stale pid file)"
      rm -f "$data/postmaster.pid"
    fi
    return 0
  fi
  log "stopping $what (pid $pid)"
  if ! as_pg "$(pg_bin pg_ctl)" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 </dev/null 9>&-; then
    log "pg_ctl stop failed for $what; sending SIGQUIT to pid $pid"
    kill -QUIT "$pid" 2>/dev/null || true
  fi
  wait_gone "$pid" postgres 10
}

stop_pg() { stop_pg_cluster "$PG_DATA" "PostgreSQL primary"; }

# ---------------------------------------------------------------------------
# PostgreSQL streaming replica

start_replica() {
  start_pg quiet
  if is_running replica; then
    log "PostgreSQL replica already running (pid $(replica_pid), port $REPLICA_PORT)"
    return 0
  fi
  if [ ! -f "$REPLICA_DATA/PG_VERSION" ] || [ ! -f "$REPLICA_DATA/standby.signal" ]; then
    log "taking base backup of the primary into $REPLICA_DATA"
    rm -rf "$REPLICA_DATA"
    mkdir -p "$REPLICA_DATA"
    chmod 700 "$REPLICA_DATA"
    own_pg "$REPLICA_DATA"
    touch "$REPLICA_LOG"
    own_pg "$REPLICA_LOG"
    if ! as_pg "$(pg_bin pg_basebackup)" -D "$REPLICA_DATA" -R -X stream -c fast --no-sync \
      -h "$HOST" -p "$PG_PORT" -U postgres >>"$REPLICA_LOG" 2>&1 </dev/null 9>&-; then
      rm -rf "$REPLICA_DATA"
      die_log "pg_basebackup from $HOST:$PG_PORT failed" "$REPLICA_LOG"
    fi
    rm -f "$REPLICA_DATA/ilana-setup-done"
  fi
  log "starting PostgreSQL replica on $HOST:$REPLICA_PORT"
  touch "$REPLICA_LOG"
  own_pg "$REPLICA_LOG"
  # primary_conninfo on the command line so a changed primary port is followed;
  # a short retry interval so the replica follows a `stop pg; start pg` quickly
  pg_start_cluster "$REPLICA_DATA" "$REPLICA_PORT" "$REPLICA_LOG" "PostgreSQL replica" \
    "-c primary_conninfo='host=$HOST port=$PG_PORT user=postgres application_name=ilana_replica' -c wal_retrieve_retry_interval=200ms"
  local rec
  rec="$(pg_psql "$REPLICA_PORT" -d postgres -At -c 'SELECT pg_is_in_recovery()' 2>>"$REPLICA_LOG" || true)"
  [ "$rec" = "t" ] || die_log "replica on port $REPLICA_PORT is not in recovery (pg_is_in_recovery=$rec)" "$REPLICA_LOG"
}

stop_replica() { stop_pg_cluster "$REPLICA_DATA" "PostgreSQL replica"; }

# ---------------------------------------------------------------------------
# PgBouncer

pgbouncer_write_config() {
  as_pg tee "$PGB_DIR/userlist.txt" >/dev/null <<EOF
"$TEST_USER" "$TEST_PASSWORD"
EOF
  chmod 600 "$PGB_DIR/userlist.txt"
  as_pg tee "$PGB_DIR/pgbouncer.ini" >/dev/null <<EOF
; written by scripts/test-servers.sh
[databases]
$TEST_DB = host=$HOST port=$PG_PORT dbname=$TEST_DB
$BENCH_DB = host=$HOST port=$PG_PORT dbname=$BENCH_DB
* = host=$HOST port=$PG_PORT

[pgbouncer]
listen_addr = $HOST
listen_port = $PGBOUNCER_PORT
unix_socket_dir = $RUN_DIR
auth_type = scram-sha-256
auth_file = $PGB_DIR/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
ignore_startup_parameters = extra_float_digits,options,search_path
server_login_retry = 1
logfile = $PGB_LOG
pidfile = $PGB_PID
admin_users = $TEST_USER
stats_users = $TEST_USER
log_connections = 0
log_disconnections = 0
EOF
  chmod 600 "$PGB_DIR/pgbouncer.ini"
}

start_pgbouncer() {
  start_pg quiet
  if is_running pgbouncer; then
    log "PgBouncer already running (pid $(pgbouncer_pid), port $PGBOUNCER_PORT)"
    return 0
  fi
  local prog
  prog="$(find_prog pgbouncer)" || die "pgbouncer not found (install pgbouncer; scripts/install-deps.sh)"
  [ -f "$PGB_PID" ] && rm -f "$PGB_PID"
  check_port_free "$PGBOUNCER_PORT" PgBouncer
  pgbouncer_write_config
  touch "$PGB_LOG"
  own_pg "$PGB_LOG"
  log "starting PgBouncer on $HOST:$PGBOUNCER_PORT"
  if ! as_pg "$prog" -d "$PGB_DIR/pgbouncer.ini" </dev/null >>"$PGB_LOG" 2>&1 9>&-; then
    die_log "PgBouncer did not start" "$PGB_LOG"
  fi
  local i=0
  while ! { is_running pgbouncer && port_busy "$PGBOUNCER_PORT"; }; do
    [ "$i" -lt $((START_TIMEOUT * 10)) ] || die_log "PgBouncer did not come up on port $PGBOUNCER_PORT within ${START_TIMEOUT}s" "$PGB_LOG"
    sleep 0.1
    i=$((i + 1))
  done
}

stop_pgbouncer() {
  local pid
  pid="$(pgbouncer_pid)"
  if [ -z "$pid" ]; then
    if [ -f "$PGB_PID" ]; then
      log "PgBouncer not running (removing stale pid file)"
      rm -f "$PGB_PID"
    fi
    return 0
  fi
  log "stopping PgBouncer (pid $pid)"
  # SIGTERM: immediate shutdown in PgBouncer 1.18
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" pgbouncer 10
  rm -f "$PGB_PID"
}

# ---------------------------------------------------------------------------
# MariaDB

mysql_prog() {
  case "$1" in
    server) find_prog mariadbd mysqld ;;
    install) find_prog mariadb-install-db mysql_install_db ;;
    client) find_prog mariadb mysql ;;
    admin) find_prog mariadb-admin mysqladmin ;;
  esac
}

mysql_root() { # root over the unix socket, SQL on stdin
  local client
  client="$(mysql_prog client)" || die "mariadb client not found (install mariadb-client)"
  "$client" --no-defaults --protocol=socket --socket="$MYSQL_SOCK" -uroot
}

mysql_init() {
  local prog
  prog="$(mysql_prog install)" || die "mariadb-install-db not found (install mariadb-server; scripts/install-deps.sh)"
  log "initializing MariaDB data directory $MYSQL_DATA"
  rm -rf "$MYSQL_DATA"
  mkdir -p "$MYSQL_DATA"
  chmod 750 "$MYSQL_DATA"
  local user_opt=()
  [ "$IS_ROOT" -eq 1 ] && user_opt=(--user=root)
  if ! "$prog" --no-defaults "${user_opt[@]}" --datadir="$MYSQL_DATA" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 \
    >"$LOG_DIR/mysql-install.log" 2>&1 </dev/null 9>&-; then
    die_log "mariadb-install-db failed" "$LOG_DIR/mysql-install.log"
  fi
  touch "$MYSQL_DATA/ilana-installed"
}

mysql_setup_sql() {
  local u
  {
    # anonymous accounts would shadow ours
    printf "DELETE FROM mysql.global_priv WHERE User = '';\n"
    printf "FLUSH PRIVILEGES;\n"
    for u in "'$TEST_USER'@'127.0.0.1'" "'$TEST_USER'@'localhost'"; do
      printf "CREATE USER IF NOT EXISTS %s IDENTIFIED BY '%s';\n" "$u" "$TEST_PASSWORD"
      printf "ALTER USER %s IDENTIFIED BY '%s';\n" "$u" "$TEST_PASSWORD"
      printf "GRANT ALL PRIVILEGES ON *.* TO %s WITH GRANT OPTION;\n" "$u"
    done
    printf "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';\n"
    printf "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n"
    printf "CREATE DATABASE IF NOT EXISTS \`%s\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n" "$TEST_DB"
    printf "CREATE DATABASE IF NOT EXISTS \`%s\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n" "$BENCH_DB"
    printf "FLUSH PRIVILEGES;\n"
  } | mysql_root
}

start_mysql() {
  if is_running mysql; then
    log "MariaDB already running (pid $(mysql_pid), port $MYSQL_PORT)"
    return 0
  fi
  local server admin
  server="$(mysql_prog server)" || die "mariadbd not found (install mariadb-server; scripts/install-deps.sh)"
  admin="$(mysql_prog admin)" || die "mariadb-admin not found (install mariadb-client)"
  if [ -f "$MYSQL_PID" ]; then
    log "removing stale $MYSQL_PID"
    rm -f "$MYSQL_PID"
  fi
  rm -f "$MYSQL_SOCK" "$MYSQL_SOCK.lock"
  check_port_free "$MYSQL_PORT" MariaDB
  if [ ! -f "$MYSQL_DATA/ilana-installed" ]; then
    mysql_init
  fi
  mkdir -p "$STATE_DIR/mysql-tmp"
  local user_opt=()
  [ "$IS_ROOT" -eq 1 ] && user_opt=(--user=root)
  log "starting MariaDB on $HOST:$MYSQL_PORT"
  printf '\n=== test-servers.sh start %s ===\n' "$(date '+%F %T')" >>"$MYSQL_LOG"
  setsid -f "$server" --no-defaults "${user_opt[@]}" \
    --datadir="$MYSQL_DATA" \
    --port="$MYSQL_PORT" --bind-address="$HOST" \
    --socket="$MYSQL_SOCK" --pid-file="$MYSQL_PID" \
    --log-error="$MYSQL_LOG" --tmpdir="$STATE_DIR/mysql-tmp" \
    --skip-log-bin --skip-name-resolve \
    --max-connections=300 \
    --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=128M \
    --innodb-doublewrite=0 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --max-allowed-packet=64M \
    </dev/null >>"$MYSQL_LOG" 2>&1 9>&-
  local i=0
  while ! "$admin" --no-defaults --protocol=socket --socket="$MYSQL_SOCK" -uroot \
    --connect-timeout=1 ping >/dev/null 2>&1; do
    if [ "$i" -ge $((START_TIMEOUT * 5)) ]; then
      die_log "MariaDB did not answer on $MYSQL_SOCK / port $MYSQL_PORT within ${START_TIMEOUT}s" "$MYSQL_LOG"
    fi
    sleep 0.2
    i=$((i + 1))
  done
  if [ ! -f "$MYSQL_DATA/ilana-setup-done" ]; then
    log "creating MariaDB users $TEST_USER, root@127.0.0.1 and databases $TEST_DB, $BENCH_DB"
    mysql_setup_sql >>"$MYSQL_LOG" 2>&1 || die_log "MariaDB user/database setup failed" "$MYSQL_LOG"
    touch "$MYSQL_DATA/ilana-setup-done"
  fi
}

stop_mysql() {
  local pid
  pid="$(mysql_pid)"
  if [ -z "$pid" ]; then
    if [ -f "$MYSQL_PID" ]; then
      log "MariaDB not running (removing stale pid file)"
      rm -f "$MYSQL_PID"
    fi
    return 0
  fi
  log "stopping MariaDB (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null || echo mariadbd)" 30
  rm -f "$MYSQL_PID"
}

# ---------------------------------------------------------------------------
# env / status

print_env() {
  local any=0
  emit() { printf 'export %s=%q\n' "$1" "$2"; }
  if is_running pg; then
    any=1
    emit ILANA_TEST_PG_HOST "$HOST"
    emit ILANA_TEST_PG_PORT "$PG_PORT"
    emit ILANA_TEST_PG_USER "$TEST_USER"
    emit ILANA_TEST_PG_PASSWORD "$TEST_PASSWORD"
    emit ILANA_TEST_PG_DATABASE "$TEST_DB"
    if is_running replica; then emit ILANA_TEST_PG_REPLICA_PORT "$REPLICA_PORT"; fi
    if is_running pgbouncer; then emit ILANA_TEST_PGBOUNCER_PORT "$PGBOUNCER_PORT"; fi
    emit ILANA_BENCH_PG_URL "postgresql://$TEST_USER:$TEST_PASSWORD@$HOST:$PG_PORT/$BENCH_DB"
  fi
  if is_running mysql; then
    any=1
    emit ILANA_TEST_MYSQL_HOST "$HOST"
    emit ILANA_TEST_MYSQL_PORT "$MYSQL_PORT"
    emit ILANA_TEST_MYSQL_USER "$TEST_USER"
    emit ILANA_TEST_MYSQL_PASSWORD "$TEST_PASSWORD"
    emit ILANA_TEST_MYSQL_DATABASE "$TEST_DB"
    emit ILANA_BENCH_MYSQL_URL "mysql://root@$HOST:$MYSQL_PORT/$BENCH_DB"
  fi
  if [ "$any" -eq 1 ]; then
    emit ILANA_TEST_SERVERS_SCRIPT "$SCRIPT_PATH"
    emit ILANA_TEST_STATE_DIR "$STATE_DIR"
  else
    log "no test server is running (state dir $STATE_DIR)"
  fi
}

print_status() {
  local name port pid what
  printf 'state dir: %s\n' "$STATE_DIR"
  for name in pg replica pgbouncer mysql; do
    case "$name" in
      pg) port="$PG_PORT" what="PostgreSQL primary" ;;
      replica) port="$REPLICA_PORT" what="PostgreSQL replica" ;;
      pgbouncer) port="$PGBOUNCER_PORT" what="PgBouncer" ;;
      mysql) port="$MYSQL_PORT" what="MariaDB" ;;
    esac
    pid="$("${name}_pid")"
    if [ -n "$pid" ]; then
      printf '%-10s running  pid %-8s %s:%s  (%s)\n' "$name" "$pid" "$HOST" "$port" "$what"
    else
      printf '%-10s stopped                                (%s)\n' "$name" "$what"
    fi
  done
}

# ---------------------------------------------------------------------------
# main

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") start   [pg|replica|pgbouncer|mysql|all]
       $(basename "$0") stop    [pg|replica|pgbouncer|mysql|all]
       $(basename "$0") restart [pg|replica|pgbouncer|mysql|all]
       $(basename "$0") status | env | destroy
state dir: $STATE_DIR (ILANA_TEST_STATE_DIR)
EOF
  exit 2
}

targets_for() {
  case "${1:-all}" in
    all) echo "pg replica pgbouncer mysql" ;;
    pg | replica | pgbouncer | mysql) echo "$1" ;;
    postgres | postgresql) echo pg ;;
    mariadb | mysqld) echo mysql ;;
    *) usage ;;
  esac
}

do_start() {
  local t
  ensure_state_dir
  take_lock
  for t in $(targets_for "${1:-all}"); do
    "start_$t"
  done
}

do_stop() {
  local t order=()
  [ -d "$STATE_DIR" ] || return 0
  take_lock
  # dependents first
  for t in pgbouncer replica pg mysql; do
    case " $(targets_for "${1:-all}") " in *" $t "*) order+=("$t") ;; esac
  done
  for t in "${order[@]}"; do
    "stop_$t"
  done
}

main() {
  [ $# -ge 1 ] || usage
  local cmd="$1"
  shift
  [ $# -le 1 ] || usage
  if [ $# -eq 1 ]; then targets_for "$1" >/dev/null; fi
  # postgres cannot enter the caller's cwd (e.g. /root)
  cd /
  case "$cmd" in
    start)
      local t0=$SECONDS
      do_start "${1:-all}"
      log "ready in $((SECONDS - t0))s (logs in $LOG_DIR)"
      print_env
      ;;
    stop)
      do_stop "${1:-all}"
      ;;
    restart)
      do_stop "${1:-all}"
      do_start "${1:-all}"
      print_env
      ;;
    status)
      [ $# -eq 0 ] || usage
      print_status
      ;;
    env)
      [ $# -eq 0 ] || usage
      print_env
      ;;
    destroy)
      [ $# -eq 0 ] || usage
      if [ -d "$STATE_DIR" ]; then
        [ -e "$MARKER" ] || die "$STATE_DIR was not created by this script; not removing it"
        do_stop all
        case "$STATE_DIR" in
          / | /tmp | /root | /home | "") die "refusing to remove $STATE_DIR" ;;
        esac
        log "removing $STATE_DIR"
        rm -rf "$STATE_DIR"
      fi
      ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
