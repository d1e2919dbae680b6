#!/usr/bin/env bash
# Local Azure Storage emulator (Azurite, from infra/local/package.json) for the storefront.
#
#   infra/local/azurite.sh [--instance dev|test] [--port BLOB_PORT] [--connection-string CS] start|stop|status|connection-string|install
#
# start   npm ci on first use, then run Azurite on 127.0.0.1: blob BLOB_PORT, queue BLOB_PORT+1, table BLOB_PORT+2
#         (dev 10000-10002, test 10010-10012), data on disk in .local/<instance>/azurite (queued messages survive a
#         stop/start), pid in .local/<instance>/azurite.pid, log in .local/<instance>/logs/azurite.log. Waits until
#         the queue port answers, then prints the connection string. Reuses an instance that is already running.
# stop    SIGTERM (Azurite saves its metadata), SIGKILL after 30 s.
# status  exit 0 when running, 3 when not.
# connection-string  print the storage connection string for this instance.
# install only install Azurite (npm ci --prefix infra/local).
#
# Environment: STOREFRONT_AZURITE_PORT (blob port; queue/table follow), STOREFRONT_AZURITE (use that existing
# emulator or account: start/stop become no-ops), STOREFRONT_STATE_DIR (state root, default <repo>/.local).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SF_LOG_TAG="azurite"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

sf_parse_service_args STOREFRONT_AZURITE "start|stop|status|connection-string|install" "$@"

sf_az_init "$instance" "$port"

case "$command" in
  start)
    sf_az_start
    sf_az_connection_string
    ;;
  stop) sf_az_stop ;;
  status) sf_az_status ;;
  connection-string) sf_az_connection_string ;;
  install) sf_az_install ;;
esac
