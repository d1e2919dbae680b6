#!/usr/bin/env bash
# Shared helpers for the local run/test scripts. Source it; do not execute it.
# Everything here works as root (Postgres then runs as an unprivileged OS user) and as a normal user.

# shellcheck disable=SC2034  # variables set here are used by the scripts that source this file

SF_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SF_REPO_ROOT="$(cd "$SF_LIB_DIR/../.." && pwd)"

# Well-known development account of the Azure Storage emulator (public, documented by Microsoft).
SF_AZURITE_ACCOUNT="devstoreaccount1"
SF_AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# Database, role and password that the provisioning creates (a throwaway local cluster).
SF_DB_NAME="storefront"
SF_DB_USER="storefront"
SF_DB_PASSWORD="storefront"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Never fails, even when stderr is a closed pipe (e.g. `| tee` after a Ctrl-C), so cleanup code keeps going.
sf_log() { printf '[%s] %s\n' "${SF_LOG_TAG:-local}" "$*" >&2 2>/dev/null || true; }
sf_die() {
  printf '[%s] error: %s\n' "${SF_LOG_TAG:-local}" "$*" >&2 2>/dev/null || true
  exit 1
}

# ---------------------------------------------------------------------------------------------------
# Instances and state folders
# ---------------------------------------------------------------------------------------------------

# sf_set_instance dev|test — sets SF_INSTANCE and SF_STATE_DIR (.local/<instance>, or $STOREFRONT_STATE_DIR/<instance>).
sf_set_instance() {
  case "$1" in
    dev | test) ;;
    *) sf_die "unknown instance '$1' (expected dev or test)" ;;
  esac
  SF_INSTANCE="$1"
  local root="${STOREFRONT_STATE_DIR:-$SF_REPO_ROOT/.local}"
  SF_STATE_DIR="$root/$SF_INSTANCE"
  SF_LOG_DIR="$SF_STATE_DIR/logs"
}

# Creates the state folders; new ones are made world-traversable (0755) whatever the umask, so that the
# cluster's OS user can reach its data folder when we run as root.
sf_ensure_state_dirs() {
  local d
  for d in "$(dirname "$SF_STATE_DIR")" "$SF_STATE_DIR" "$SF_LOG_DIR"; do
    if [[ ! -d "$d" ]]; then
      mkdir -p "$d"
      chmod 755 "$d"
    fi
  done
}

sf_default_pg_port() { if [[ "$1" == test ]]; then echo 55433; else echo 55432; fi; }
sf_default_azurite_port() { if [[ "$1" == test ]]; then echo 10010; else echo 10000; fi; }

sf_check_port_value() {
  if ! [[ "$1" =~ ^[0-9]+$ ]] || ((10#$1 < 1 || 10#$1 > 65535)); then sf_die "invalid port '$1'"; fi
}

# Moves an old log aside so each start begins with a fresh file but keeps the previous one.
sf_rotate_log() {
  local file="$1"
  if [[ -s "$file" ]]; then mv -f "$file" "$file.1"; fi
  : >"$file"
}

# True when something accepts TCP connections on 127.0.0.1:<port>.
sf_port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# sf_wait_port PORT SECONDS [PID] — waits until the port answers; fails early if PID dies.
sf_wait_port() {
  local port="$1" seconds="$2" pid="${3:-}" i
  for ((i = 0; i < seconds * 4; i++)); do
    if sf_port_open "$port"; then return 0; fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.25
  done
  return 1
}

# sf_pid_matches PID PATTERN — the process is alive and its command line contains PATTERN.
sf_pid_matches() {
  local pid="$1" pattern="$2" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"$pattern"* ]]
}

# sf_stop_pid PID [SECONDS] — SIGTERM, wait, then SIGKILL.
sf_stop_pid() {
  local pid="$1" seconds="${2:-20}" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < seconds * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  sf_log "process $pid did not stop within ${seconds}s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------

# Finds initdb/pg_ctl/postgres/psql: PATH first, then the newest /usr/lib/postgresql/<v>/bin.
sf_pg_find_bins() {
  local initdb_path dir
  if initdb_path="$(command -v initdb 2>/dev/null)"; then
    SF_PG_BIN="$(dirname "$(readlink -f "$initdb_path")")"
  else
    SF_PG_BIN=""
    local dirs=()
    mapfile -t dirs < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
    for dir in "${dirs[@]}"; do
      if [[ -x "$dir/initdb" ]]; then SF_PG_BIN="$dir"; fi
    done
    [[ -n "$SF_PG_BIN" ]] || sf_die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or in /usr/lib/postgresql/*/bin"
  fi
  [[ -x "$SF_PG_BIN/pg_ctl" && -x "$SF_PG_BIN/postgres" ]] || sf_die "pg_ctl/postgres missing next to $SF_PG_BIN/initdb"
  if [[ -x "$SF_PG_BIN/psql" ]]; then
    SF_PSQL="$SF_PG_BIN/psql"
  elif SF_PSQL="$(command -v psql 2>/dev/null)"; then
    :
  else
    sf_die "psql not found (expected $SF_PG_BIN/psql or psql on PATH)"
  fi
}

# sf_pg_init INSTANCE [PORT] — sets SF_PG_PORT, SF_PG_EXTERNAL, and for a local cluster SF_PG_DATA, SF_PG_OS_USER,
# SF_PG_LOG. Does not create anything.
sf_pg_init() {
  sf_set_instance "$1"
  SF_PG_PORT="${2:-${STOREFRONT_PG_PORT:-$(sf_default_pg_port "$SF_INSTANCE")}}"
  sf_check_port_value "$SF_PG_PORT"
  SF_PG_EXTERNAL="${STOREFRONT_POSTGRES:-}"
  SF_PG_LOG="$SF_LOG_DIR/postgres.log"
  SF_PG_DATA="$SF_STATE_DIR/postgres"
  SF_PG_OS_USER=""
  SF_PG_FALLBACK=""
  if [[ -n "$SF_PG_EXTERNAL" ]]; then return 0; fi
  if [[ $EUID -eq 0 ]]; then
    SF_PG_OS_USER="${STOREFRONT_PG_OS_USER:-postgres}"
  fi
  # A unix socket path is limited to ~107 bytes; "/.s.PGSQL.<port>" adds up to 17.
  local too_long=""
  if ((${#SF_PG_DATA} > 88)); then too_long=1; fi
  if [[ -n "$too_long" ]] || { [[ $EUID -eq 0 ]] && ! sf_pg_user_can_use "$SF_STATE_DIR"; }; then
    local hash
    hash="$(printf '%s' "$SF_REPO_ROOT" | sha256sum | cut -c1-12)"
    SF_PG_FALLBACK="/tmp/storefront-$hash/$SF_INSTANCE"
    SF_PG_DATA="$SF_PG_FALLBACK/postgres"
  fi
  if [[ $EUID -eq 0 && -d "$SF_PG_DATA" ]]; then
    # Reuse whoever owns an existing cluster (e.g. one created by a normal user before).
    local owner
    owner="$(stat -c %U "$SF_PG_DATA")"
    if [[ "$owner" != root && "$owner" != UNKNOWN ]]; then SF_PG_OS_USER="$owner"; fi
  fi
}

# Can the cluster's OS user reach (traverse) the given folder? Only meaningful as root. The folder's ancestors
# must be traversable; the folder itself may not exist yet, so the nearest existing ancestor is checked.
sf_pg_user_can_use() {
  local dir="$1"
  while [[ ! -d "$dir" ]]; do dir="$(dirname "$dir")"; done
  id -u "$SF_PG_OS_USER" >/dev/null 2>&1 || return 0 # the user is created later; checked again then
  (cd / && runuser -u "$SF_PG_OS_USER" -- test -x "$dir") 2>/dev/null
}

sf_pg_ensure_os_user() {
  [[ $EUID -eq 0 ]] || return 0
  if ! id -u "$SF_PG_OS_USER" >/dev/null 2>&1; then
    sf_log "creating system user '$SF_PG_OS_USER' to own the local PostgreSQL cluster"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SF_PG_OS_USER"
    # Re-evaluate the state folder now that the user exists.
    sf_pg_init "$SF_INSTANCE" "$SF_PG_PORT"
  fi
}

# Runs a PostgreSQL server binary as the cluster's OS user (root may not run initdb/pg_ctl).
sf_pg_as_owner() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u "$SF_PG_OS_USER" -- "$@")
  else
    "$@"
  fi
}

sf_pg_connection_string() {
  if [[ -n "$SF_PG_EXTERNAL" ]]; then
    printf '%s\n' "$SF_PG_EXTERNAL"
  else
    printf 'Host=127.0.0.1;Port=%s;Database=%s;Username=%s;Password=%s\n' \
      "$SF_PG_PORT" "$SF_DB_NAME" "$SF_DB_USER" "$SF_DB_PASSWORD"
  fi
}

# Exit status 0 when the local cluster is running: postmaster.pid names a live postgres process. (pg_ctl status
# alone would be fooled by a stale postmaster.pid whose PID was reused by another program after a crash.)
sf_pg_running() {
  [[ -f "$SF_PG_DATA/PG_VERSION" && -f "$SF_PG_DATA/postmaster.pid" ]] || return 1
  local pid
  pid="$(sf_pg_pid)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    sf_pid_matches "$pid" "postgres"
  else
    sf_pg_find_bins
    sf_pg_as_owner "$SF_PG_BIN/pg_ctl" status -D "$SF_PG_DATA" >/dev/null 2>&1
  fi
}

sf_pg_pid() { head -n 1 "$SF_PG_DATA/postmaster.pid" 2>/dev/null || true; }

# Port the running cluster actually listens on (line 4 of postmaster.pid).
sf_pg_running_port() { sed -n 4p "$SF_PG_DATA/postmaster.pid" 2>/dev/null || true; }

# True while a process still works in the data folder (PostgreSQL processes chdir into it): orphaned backends of a
# crashed postmaster. Only processes we may inspect are seen, which as root is all of them.
sf_pg_data_in_use() {
  local d
  for d in /proc/[0-9]*; do
    if [[ "$(readlink "$d/cwd" 2>/dev/null || true)" == "$SF_PG_DATA" ]]; then return 0; fi
  done
  return 1
}

sf_pid_is_zombie() {
  [[ "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)" == Z ]]
}

# Cleans up after a crash (call only when sf_pg_running said no): waits for a killed postmaster that is not yet
# reaped and for its orphaned children to go, then removes postmaster.pid and the socket lock files (the socket
# folder is private to this cluster), which could otherwise name a PID that is still a zombie or was reused.
sf_pg_clear_stale_pid() {
  local pidfile="$SF_PG_DATA/postmaster.pid" pid i
  pid="$(sf_pg_pid)"
  for ((i = 0; i < 120; i++)); do
    if sf_pg_data_in_use; then
      :
    elif [[ "$pid" =~ ^[0-9]+$ ]] && sf_pid_is_zombie "$pid"; then
      :
    else
      break
    fi
    if ((i == 0)); then sf_log "waiting for the processes of a stopped/crashed server to exit"; fi
    sleep 0.25
  done
  if sf_pg_data_in_use; then
    sf_die "processes still use $SF_PG_DATA although no postmaster runs; stop them first"
  fi
  if [[ -f "$pidfile" ]]; then
    sf_log "removing stale $pidfile (PID ${pid:-?} is not a running postmaster)"
    rm -f "$pidfile"
  fi
  rm -f "$SF_PG_DATA"/.s.PGSQL.*.lock
}

sf_pg_write_conf() {
  local conf="$SF_PG_DATA/storefront.conf" data_q
  data_q="${SF_PG_DATA//\'/\'\'}"
  {
    echo "# Written by infra/local/postgres.sh on every start; edit that script, not this file."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $SF_PG_PORT"
    echo "unix_socket_directories = '$data_q'"
    echo "max_connections = 200"
    echo "synchronous_commit = off"
    if [[ "$SF_INSTANCE" == test ]]; then
      # Throwaway test data: trade crash safety for speed (a clean stop still writes everything out).
      echo "fsync = off"
      echo "full_page_writes = off"
    fi
    echo "log_min_messages = warning"
    echo "log_connections = off"
    echo "log_disconnections = off"
  } | sf_pg_as_owner tee "$conf" >/dev/null
}

sf_pg_initdb() {
  sf_log "initializing a new PostgreSQL cluster in $SF_PG_DATA"
  local parent
  parent="$(dirname "$SF_PG_DATA")"
  mkdir -p "$parent"
  if [[ -n "$SF_PG_FALLBACK" ]]; then chmod 755 "$(dirname "$SF_PG_FALLBACK")" "$SF_PG_FALLBACK"; fi
  mkdir -p "$SF_PG_DATA"
  chmod 700 "$SF_PG_DATA"
  if [[ $EUID -eq 0 ]]; then chown "$SF_PG_OS_USER:" "$SF_PG_DATA"; fi
  sf_pg_as_owner "$SF_PG_BIN/initdb" -D "$SF_PG_DATA" --username=postgres --encoding=UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >>"$SF_PG_LOG" 2>&1 ||
    sf_die "initdb failed; see $SF_PG_LOG"
  echo "include_if_exists = 'storefront.conf'" | sf_pg_as_owner tee -a "$SF_PG_DATA/postgresql.conf" >/dev/null
}

# Creates the storefront role and database when missing (idempotent), as the cluster superuser over the socket.
sf_pg_provision() {
  "$SF_PSQL" -X -q -v ON_ERROR_STOP=1 -h "$SF_PG_DATA" -p "$SF_PG_PORT" -U postgres -d postgres >/dev/null <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$SF_DB_USER') THEN
    CREATE ROLE "$SF_DB_USER" LOGIN CREATEDB PASSWORD '$SF_DB_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE "$SF_DB_NAME" OWNER "$SF_DB_USER"'
WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = '$SF_DB_NAME')\gexec
SQL
}

sf_pg_start() {
  if [[ -n "$SF_PG_EXTERNAL" ]]; then
    sf_log "using the existing PostgreSQL server given by STOREFRONT_POSTGRES / --connection-string; nothing to start"
    return 0
  fi
  sf_pg_find_bins
  sf_ensure_state_dirs
  sf_pg_ensure_os_user
  if [[ -n "$SF_PG_FALLBACK" ]]; then
    sf_log "note: $SF_STATE_DIR is not usable by the cluster's OS user '${SF_PG_OS_USER:-$(id -un)}' (the repo is under a root-only folder such as /root, or its path is too long for a unix socket); the cluster lives in $SF_PG_FALLBACK instead"
  fi
  if [[ -f "$SF_PG_DATA/PG_VERSION" ]]; then
    if sf_pg_running; then
      local running_port
      running_port="$(sf_pg_running_port)"
      if [[ "$running_port" != "$SF_PG_PORT" ]]; then
        sf_die "the $SF_INSTANCE cluster is already running on port $running_port, not $SF_PG_PORT; stop it first (infra/local/postgres.sh --instance $SF_INSTANCE stop)"
      fi
      sf_log "PostgreSQL ($SF_INSTANCE) already running on 127.0.0.1:$SF_PG_PORT (pid $(sf_pg_pid)); reusing it"
      sf_pg_provision
      return 0
    fi
    sf_pg_clear_stale_pid
  else
    if [[ -e "$SF_PG_DATA" ]] && [[ -n "$(ls -A "$SF_PG_DATA" 2>/dev/null)" ]]; then
      sf_die "$SF_PG_DATA exists but is not a PostgreSQL cluster (no PG_VERSION); remove it"
    fi
    if sf_port_open "$SF_PG_PORT"; then
      sf_die "port $SF_PG_PORT is already in use by another program; free it or set STOREFRONT_PG_PORT / --port"
    fi
    sf_rotate_log "$SF_PG_LOG"
    sf_pg_initdb
  fi
  if sf_port_open "$SF_PG_PORT"; then
    sf_die "port $SF_PG_PORT is already in use by another program; free it or set STOREFRONT_PG_PORT / --port"
  fi
  [[ -f "$SF_PG_LOG" ]] || : >"$SF_PG_LOG"
  sf_pg_write_conf
  sf_log "starting PostgreSQL ($SF_INSTANCE) on 127.0.0.1:$SF_PG_PORT (data $SF_PG_DATA, log $SF_PG_LOG)"
  # No -l: the server inherits this redirection, so the log can live where only we (root) can write.
  if ! sf_pg_as_owner "$SF_PG_BIN/pg_ctl" start -D "$SF_PG_DATA" -w -t 60 -s >>"$SF_PG_LOG" 2>&1 </dev/null; then
    tail -n 20 "$SF_PG_LOG" >&2 || true
    sf_die "PostgreSQL did not start; see $SF_PG_LOG"
  fi
  local i
  for ((i = 0; i < 120; i++)); do
    if "$SF_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$SF_PG_PORT" 2>/dev/null || sf_port_open "$SF_PG_PORT"; then break; fi
    sleep 0.25
  done
  sf_pg_provision
  sf_log "PostgreSQL ($SF_INSTANCE) ready: $(sf_pg_connection_string)"
}

sf_pg_stop() {
  if [[ -n "$SF_PG_EXTERNAL" ]]; then
    sf_log "external PostgreSQL server in use; nothing to stop"
    return 0
  fi
  sf_pg_find_bins
  if ! sf_pg_running; then
    sf_log "PostgreSQL ($SF_INSTANCE) is not running"
    return 0
  fi
  sf_log "stopping PostgreSQL ($SF_INSTANCE, pid $(sf_pg_pid))"
  sf_pg_as_owner "$SF_PG_BIN/pg_ctl" stop -D "$SF_PG_DATA" -m fast -w -t 60 -s >>"$SF_PG_LOG" 2>&1 ||
    sf_die "pg_ctl stop failed; see $SF_PG_LOG"
}

# Exit 0 when running (or external), 3 when stopped, like pg_ctl status.
sf_pg_status() {
  if [[ -n "$SF_PG_EXTERNAL" ]]; then
    echo "external PostgreSQL server: $SF_PG_EXTERNAL"
    return 0
  fi
  if sf_pg_running; then
    echo "PostgreSQL ($SF_INSTANCE) running: pid $(sf_pg_pid), 127.0.0.1:$(sf_pg_running_port), data $SF_PG_DATA"
    return 0
  fi
  echo "PostgreSQL ($SF_INSTANCE) not running (data $SF_PG_DATA)"
  return 3
}

# ---------------------------------------------------------------------------------------------------
# Azurite
# ---------------------------------------------------------------------------------------------------

# sf_az_init INSTANCE [BLOB_PORT] — sets SF_AZ_BLOB_PORT/QUEUE/TABLE (consecutive), SF_AZ_EXTERNAL and paths.
sf_az_init() {
  sf_set_instance "$1"
  SF_AZ_BLOB_PORT="${2:-${STOREFRONT_AZURITE_PORT:-$(sf_default_azurite_port "$SF_INSTANCE")}}"
  sf_check_port_value "$SF_AZ_BLOB_PORT"
  SF_AZ_QUEUE_PORT=$((SF_AZ_BLOB_PORT + 1))
  SF_AZ_TABLE_PORT=$((SF_AZ_BLOB_PORT + 2))
  SF_AZ_EXTERNAL="${STOREFRONT_AZURITE:-}"
  SF_AZ_DATA="$SF_STATE_DIR/azurite"
  SF_AZ_PIDFILE="$SF_STATE_DIR/azurite.pid"
  SF_AZ_LOG="$SF_LOG_DIR/azurite.log"
  SF_AZ_BIN="$SF_LIB_DIR/node_modules/.bin/azurite"
}

sf_az_connection_string() {
  if [[ -n "$SF_AZ_EXTERNAL" ]]; then
    printf '%s\n' "$SF_AZ_EXTERNAL"
    return 0
  fi
  local base="http://127.0.0.1"
  printf 'DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s:%s/%s;QueueEndpoint=%s:%s/%s;TableEndpoint=%s:%s/%s;\n' \
    "$SF_AZURITE_ACCOUNT" "$SF_AZURITE_KEY" \
    "$base" "$SF_AZ_BLOB_PORT" "$SF_AZURITE_ACCOUNT" \
    "$base" "$SF_AZ_QUEUE_PORT" "$SF_AZURITE_ACCOUNT" \
    "$base" "$SF_AZ_TABLE_PORT" "$SF_AZURITE_ACCOUNT"
}

# Installs Azurite from infra/local/package-lock.json when missing or out of date.
sf_az_install() {
  local stamp="$SF_LIB_DIR/node_modules/.package-lock.json"
  if [[ -x "$SF_AZ_BIN" && -f "$stamp" && ! "$SF_LIB_DIR/package-lock.json" -nt "$stamp" ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || sf_die "npm not found; install Node.js 20+ (Azurite runs on it)"
  sf_log "installing Azurite (npm ci --prefix infra/local)"
  npm ci --prefix "$SF_LIB_DIR" --no-audit --no-fund --no-update-notifier --loglevel=error >&2 || sf_die "npm ci failed"
}

sf_az_pid() {
  local pid
  pid="$(cat "$SF_AZ_PIDFILE" 2>/dev/null || true)"
  if sf_pid_matches "$pid" "azurite"; then echo "$pid"; fi
}

sf_az_start() {
  if [[ -n "$SF_AZ_EXTERNAL" ]]; then
    sf_log "using the existing storage emulator/account given by STOREFRONT_AZURITE / --connection-string; nothing to start"
    return 0
  fi
  sf_ensure_state_dirs
  local pid
  pid="$(sf_az_pid)"
  if [[ -n "$pid" ]]; then
    if sf_pid_matches "$pid" "--queuePort $SF_AZ_QUEUE_PORT "; then
      sf_log "Azurite ($SF_INSTANCE) already running (pid $pid); reusing it"
      sf_wait_port "$SF_AZ_QUEUE_PORT" 60 "$pid" || sf_die "Azurite (pid $pid) does not answer on $SF_AZ_QUEUE_PORT"
      return 0
    fi
    sf_die "the $SF_INSTANCE Azurite (pid $pid) runs on other ports; stop it first (infra/local/azurite.sh --instance $SF_INSTANCE stop)"
  fi
  rm -f "$SF_AZ_PIDFILE"
  local port
  for port in "$SF_AZ_BLOB_PORT" "$SF_AZ_QUEUE_PORT" "$SF_AZ_TABLE_PORT"; do
    if sf_port_open "$port"; then
      sf_die "port $port is already in use by another program; free it or set STOREFRONT_AZURITE_PORT / --port (or STOREFRONT_AZURITE to use that emulator)"
    fi
  done
  sf_az_install
  mkdir -p "$SF_AZ_DATA"
  sf_rotate_log "$SF_AZ_LOG"
  sf_log "starting Azurite ($SF_INSTANCE) on 127.0.0.1:$SF_AZ_BLOB_PORT-$SF_AZ_TABLE_PORT (data $SF_AZ_DATA, log $SF_AZ_LOG)"
  # setsid: its own session, so a Ctrl-C in the terminal does not reach it; the scripts stop it in order.
  # The trailing "--silent" keeps "--queuePort N " matchable in its command line (see above).
  setsid "$SF_AZ_BIN" \
    --blobHost 127.0.0.1 --blobPort "$SF_AZ_BLOB_PORT" \
    --queueHost 127.0.0.1 --queuePort "$SF_AZ_QUEUE_PORT" \
    --tableHost 127.0.0.1 --tablePort "$SF_AZ_TABLE_PORT" \
    --location "$SF_AZ_DATA" \
    --disableTelemetry --skipApiVersionCheck --loose --silent \
    </dev/null >>"$SF_AZ_LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$SF_AZ_PIDFILE"
  if ! sf_wait_port "$SF_AZ_QUEUE_PORT" 60 "$pid"; then
    tail -n 20 "$SF_AZ_LOG" >&2 || true
    sf_die "Azurite did not start; see $SF_AZ_LOG"
  fi
  # The queue port is open; wait until the service answers HTTP as well.
  local i
  for ((i = 0; i < 60; i++)); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SF_AZ_QUEUE_PORT/$SF_AZURITE_ACCOUNT?comp=list" 2>/dev/null || true)" != 000 ]]; then
      break
    fi
    sleep 0.25
  done
  sf_log "Azurite ($SF_INSTANCE) ready (pid $pid)"
}

sf_az_stop() {
  if [[ -n "$SF_AZ_EXTERNAL" ]]; then
    sf_log "external storage in use; nothing to stop"
    return 0
  fi
  local pid
  pid="$(sf_az_pid)"
  if [[ -z "$pid" ]]; then
    sf_log "Azurite ($SF_INSTANCE) is not running"
    rm -f "$SF_AZ_PIDFILE"
    return 0
  fi
  sf_log "stopping Azurite ($SF_INSTANCE, pid $pid)"
  # SIGTERM lets Azurite close its metadata databases, so queued messages survive a restart.
  sf_stop_pid "$pid" 30
  rm -f "$SF_AZ_PIDFILE"
}

sf_az_status() {
  if [[ -n "$SF_AZ_EXTERNAL" ]]; then
    echo "external storage: $SF_AZ_EXTERNAL"
    return 0
  fi
  local pid
  pid="$(sf_az_pid)"
  if [[ -n "$pid" ]]; then
    echo "Azurite ($SF_INSTANCE) running: pid $pid, 127.0.0.1:$SF_AZ_BLOB_PORT (blob) $SF_AZ_QUEUE_PORT (queue) $SF_AZ_TABLE_PORT (table), data $SF_AZ_DATA"
    return 0
  fi
  echo "Azurite ($SF_INSTANCE) not running (data $SF_AZ_DATA)"
  return 3
}

# ---------------------------------------------------------------------------------------------------
# Sessions: what a run.sh / test.sh invocation started, so that it stops exactly that — also after the
# previous invocation was killed with SIGKILL (its leftovers are adopted or stopped).
# File format, one entry a line: "owner <pid>", "owns postgres|azurite", "child <name> <pid> <pattern>".
# ---------------------------------------------------------------------------------------------------

# sf_session_begin NAME — fails when another live invocation holds the session; adopts a dead one's leftovers.
sf_session_begin() {
  SF_SESSION_FILE="$SF_STATE_DIR/$1.session" # $1: run or test; the owner is recognised by "$1.sh"
  SF_SESSION_OWNS=""
  sf_ensure_state_dirs
  if [[ -f "$SF_SESSION_FILE" ]]; then
    local kind a b c
    while read -r kind a b c; do
      case "$kind" in
        owner)
          if [[ "$a" != "$$" ]] && sf_pid_matches "$a" "$1.sh"; then
            sf_die "another $1 is already running for the $SF_INSTANCE instance (pid $a); stop it first"
          fi
          ;;
        owns) SF_SESSION_OWNS="$SF_SESSION_OWNS $a" ;;
        child)
          if sf_pid_matches "$b" "$c"; then
            sf_log "stopping $a (pid $b) left over from an earlier run"
            sf_stop_tree "$b" 20
          fi
          ;;
      esac
    done <"$SF_SESSION_FILE"
    if [[ -n "$SF_SESSION_OWNS" ]]; then
      sf_log "adopting services started by an earlier run that did not clean up:$SF_SESSION_OWNS"
    fi
  fi
  {
    echo "owner $$"
    local s
    for s in $SF_SESSION_OWNS; do echo "owns $s"; done
  } >"$SF_SESSION_FILE"
}

sf_session_own() {
  SF_SESSION_OWNS="$SF_SESSION_OWNS $1"
  echo "owns $1" >>"$SF_SESSION_FILE"
}

sf_session_owns() { [[ " $SF_SESSION_OWNS " == *" $1 "* ]]; }

# sf_session_child NAME PID PATTERN — records a background process (PATTERN: part of its command line).
sf_session_child() { echo "child $1 $2 $3" >>"$SF_SESSION_FILE"; }

sf_session_end() { rm -f "$SF_SESSION_FILE"; }

# Background process launcher: setsid (own session and process group, so a terminal Ctrl-C does not reach it and
# the whole tree can be stopped at once), stdin from /dev/null. sf_spawn LOG|- CMD... ; "-" keeps our stdout/stderr
# (the app host prints to the terminal). Sets SF_SPAWNED_PID.
sf_spawn() {
  local log="$1"
  shift
  if [[ "$log" == - ]]; then
    setsid "$@" </dev/null &
  else
    sf_rotate_log "$log"
    setsid "$@" </dev/null >>"$log" 2>&1 &
  fi
  SF_SPAWNED_PID=$!
}

# sf_stop_tree PID [SECONDS] — SIGTERM to the process (graceful), then to its process group (children such as a
# worker process), SIGKILL to the group as a last resort. For processes started with sf_spawn.
sf_stop_tree() {
  local pid="$1" seconds="${2:-20}" i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -0 -- "-$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  sf_log "process group $pid did not stop; killing it"
  kill -KILL -- "-$pid" 2>/dev/null || true
}

# Starts (or reuses) the instance's PostgreSQL and Azurite for a run/test session, recording what this
# session started so that its cleanup stops exactly that and nothing else.
sf_session_start_storage() {
  if [[ -z "$SF_PG_EXTERNAL" ]] && ! sf_pg_running; then
    sf_session_own postgres # recorded first, so that an interrupted start is cleaned up as well
  fi
  sf_pg_start # a running cluster is reused (and its role and database ensured)

  if [[ -z "$SF_AZ_EXTERNAL" ]]; then sf_az_install; fi
  if [[ -z "$SF_AZ_EXTERNAL" && -z "$(sf_az_pid)" ]]; then
    sf_session_own azurite
  fi
  sf_az_start
}

# Parses the common arguments of postgres.sh and azurite.sh into the globals instance, port and command.
#   sf_parse_service_args EXTERNAL_VARIABLE "command1|command2|..." "$@"
sf_parse_service_args() {
  local external_variable="$1" commands="$2"
  shift 2
  instance="dev"
  port=""
  command=""
  while (($# > 0)); do
    case "$1" in
      --instance) instance="${2:?--instance needs a value}"; shift 2 ;;
      --instance=*) instance="${1#*=}"; shift ;;
      --port) port="${2:?--port needs a value}"; shift 2 ;;
      --port=*) port="${1#*=}"; shift ;;
      --connection-string) export "$external_variable=${2:?--connection-string needs a value}"; shift 2 ;;
      --connection-string=*) export "$external_variable=${1#*=}"; shift ;;
      -h | --help) usage; exit 0 ;;
      *)
        if [[ "|$commands|" == *"|$1|"* ]]; then
          command="$1"
          shift
          break
        fi
        usage >&2
        sf_die "unknown argument '$1'"
        ;;
    esac
  done
  [[ -n "$command" ]] || { usage >&2; exit 2; }
  (($# == 0)) || sf_die "unexpected arguments after '$command': $*"
}

# Applies the schema migrations and seeds the demo catalogue (STOREFRONT_SEED_PRODUCTS products, or the tool's
# default) in the database of the given connection string; the migrations tool must be built in Release.
sf_migrate_and_seed() {
  local connection="$1"
  local tool="$SF_REPO_ROOT/functions/Storefront.Migrations/bin/Release/net10.0/Storefront.Migrations.dll"
  [[ -f "$tool" ]] || sf_die "$tool not found: build in Release first"
  sf_log "applying migrations"
  dotnet "$tool" migrate --connection "$connection"
  sf_log "seeding demo data"
  local seed_args=(seed --connection "$connection")
  if [[ -n "${STOREFRONT_SEED_PRODUCTS:-}" ]]; then seed_args+=(--products "$STOREFRONT_SEED_PRODUCTS"); fi
  dotnet "$tool" "${seed_args[@]}"
}
