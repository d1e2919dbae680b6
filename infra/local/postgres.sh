#!/usr/bin/env bash
# Local PostgreSQL for the storefront: a throwaway cluster per instance, no Docker, no system service.
#
#   infra/local/postgres.sh [--instance dev|test] [--port N] [--connection-string CS] start|stop|status|connection-string|psql [ARGS...]
#
# start   initdb on first use (.local/<instance>/postgres, or /tmp/storefront-<hash>/<instance>/postgres when the
#         repo is not reachable by the cluster's OS user), listen on 127.0.0.1:<port> only, unix socket inside the
#         data folder, create role + database "storefront" (password "storefront") if missing, wait until ready.
#         Reuses a cluster that is already running; clears a stale postmaster.pid after a crash.
# stop    fast shutdown (no-op when not running).
# status  exit 0 when running, 3 when not.
# connection-string  print the Npgsql connection string.
# psql    open psql as storefront on the storefront database (extra args go to psql).
#
# Environment: STOREFRONT_PG_PORT (port; dev 55432, test 55433), STOREFRONT_POSTGRES (use that existing server:
# start/stop become no-ops), STOREFRONT_STATE_DIR (state root, default <repo>/.local),
# STOREFRONT_PG_OS_USER (as root: the OS user that runs the cluster, default postgres; created when missing).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SF_LOG_TAG="postgres"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

sf_parse_service_args STOREFRONT_POSTGRES "start|stop|status|connection-string|psql" "$@"

sf_pg_init "$instance" "$port"

case "$command" in
  start) sf_pg_start ;;
  stop) sf_pg_stop ;;
  status) sf_pg_status ;;
  connection-string) sf_pg_connection_string ;;
  psql)
    sf_pg_find_bins
    if [[ -n "$SF_PG_EXTERNAL" ]]; then
      sf_die "psql shortcut is for the local cluster; use psql with your own server's parameters"
    fi
    PGPASSWORD="$SF_DB_PASSWORD" exec "$SF_PSQL" -h 127.0.0.1 -p "$SF_PG_PORT" -U "$SF_DB_USER" -d "$SF_DB_NAME" "$@"
    ;;
esac
