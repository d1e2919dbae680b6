#!/usr/bin/env bash
# The SOAK command: N minutes (default 10) of mixed load against the whole stack, then a check that nothing was lost.
# With --outages, the OUTAGE SCENARIOS instead (about 15 minutes): PostgreSQL, Azurite and the worker taken down
# around orders and report downloads, with the app's production settings (results in tests/Performance/Soak/results/outages.md).
#
#   ./tests/Performance/Soak/run.sh [--minutes 10] [--workers 8] [--think-ms 20] [--drain-minutes 5]
#   ./tests/Performance/Soak/run.sh --outages
#
# Provisions PostgreSQL and Azurite with the repo's infra/local scripts on their own ports and state folder (so it can
# run beside run.sh and test.sh), builds tests/Performance/Soak in Release (which builds the app and the migrations tool), migrates
# and seeds, then runs the soak program: the service simulator in-process with realistic latencies, the app through
# the local Functions host, a fixed number of callers for the given time. It writes tests/Performance/Soak/results/soak.md,
# prints a summary, stops what it started (on every exit path), and exits non-zero when a caller saw a 5xx or no
# answer, or an order was lost, left unfinished, charged or captured twice, or finished with an open authorization.
# The outage scenarios stop and start PostgreSQL and Azurite through the command lines exported as
# STOREFRONT_POSTGRES_CTL and STOREFRONT_AZURITE_CTL, always leave them running, and exit non-zero when any
# scenario's check failed.
#
# Environment (defaults): STOREFRONT_STATE_DIR (/tmp/soak-state), STOREFRONT_PG_PORT (55481),
# STOREFRONT_AZURITE_PORT (10080, queue and table on the next two), SOAK_OUTPUT (tests/Performance/Soak/results).
set -euo pipefail

SOAK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SOAK_DIR/../../.." && pwd)"
LOCAL="$REPO_ROOT/infra/local"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; }
log() { printf '[soak] %s\n' "$*" >&2 2>/dev/null || true; }
die() {
  log "error: $*"
  exit 1
}

# --- Arguments ---------------------------------------------------------------------------------------------------
soak_args=()
command_line="./tests/Performance/Soak/run.sh"
mode="soak"
while (($# > 0)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --minutes | --workers | --think-ms | --drain-minutes)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$1 needs a number"
      soak_args+=("$1" "$2")
      command_line+=" $1 $2"
      shift 2
      ;;
    --outages)
      soak_args+=("$1")
      command_line+=" $1"
      mode="outages"
      shift
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

# Ports and state distinct from run.sh (dev), test.sh (test) and the benchmarks; all can be overridden.
export STOREFRONT_STATE_DIR="${STOREFRONT_STATE_DIR:-/tmp/soak-state}"
export STOREFRONT_PG_PORT="${STOREFRONT_PG_PORT:-55481}"
export STOREFRONT_AZURITE_PORT="${STOREFRONT_AZURITE_PORT:-10080}"
output="${SOAK_OUTPUT:-$SOAK_DIR/results}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The scripts' "dev" instance, under this run's state folder and ports: nothing of run.sh's is touched.
pg() { "$LOCAL/postgres.sh" --instance dev "$@"; }
az() { "$LOCAL/azurite.sh" --instance dev "$@"; }

started_pg=""
started_az=""
# shellcheck disable=SC2317  # invoked through trap
cleanup() {
  local status=$?
  trap '' INT TERM HUP
  if [[ -n "$started_az" ]]; then az stop >&2 || true; fi
  if [[ -n "$started_pg" ]]; then pg stop >&2 || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- PostgreSQL and Azurite ----------------------------------------------------------------------------------------
if ! pg status >/dev/null 2>&1; then started_pg=1; fi
pg start >&2
if ! az status >/dev/null 2>&1; then started_az=1; fi
az start >/dev/null
pg_cs="$(pg connection-string)"
az_cs="$(az connection-string)"

# --- Build, migrate, seed ------------------------------------------------------------------------------------------
log "building tests/Performance/Soak (Release; builds the app, the local host, the simulator and the migrations tool)"
dotnet build "$SOAK_DIR/Soak.csproj" -c Release --nologo -v quiet >&2
# shellcheck source=infra/local/lib.sh
source "$LOCAL/lib.sh"
sf_migrate_and_seed "$pg_cs" >&2

# --- Run -----------------------------------------------------------------------------------------------------------
# Shell command lines for the program (it runs them with bash -c "<line> stop|start"); %q keeps odd repo paths intact.
# They act on this run's instances: the state folder and ports are exported above.
STOREFRONT_POSTGRES_CTL="$(printf '%q' "$LOCAL/postgres.sh") --instance dev --port $STOREFRONT_PG_PORT"
STOREFRONT_AZURITE_CTL="$(printf '%q' "$LOCAL/azurite.sh") --instance dev --port $STOREFRONT_AZURITE_PORT"
export STOREFRONT_POSTGRES_CTL STOREFRONT_AZURITE_CTL

mkdir -p "$output" "$STOREFRONT_STATE_DIR/dev/logs"
log "running the $mode; results in $output/$mode.md"
set +e
ConnectionStrings__Postgres="$pg_cs" AzureWebJobsStorage="$az_cs" \
  dotnet "$SOAK_DIR/bin/Release/net10.0/Storefront.Soak.dll" "${soak_args[@]}" \
  --app "$REPO_ROOT/functions/Storefront.Api/bin/Release/net10.0" \
  --output "$output" \
  --host-log "$STOREFRONT_STATE_DIR/dev/logs/$mode-host.log" \
  --postgres-log "$STOREFRONT_STATE_DIR/dev/logs/postgres.log" \
  --command "$command_line"
soak_rc=$?
set -e
exit "$soak_rc"
