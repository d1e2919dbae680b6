#!/usr/bin/env bash
# The benchmark command (see README.md): provisions PostgreSQL and Azurite with the repo's scripts on their own
# ports and state folder, builds in Release, runs the benchmark program (simulator, local host, wrk, hey), writes
# tests/Performance/Benchmarks/results/results.md and chart.svg, prints the headline ratios, and stops what it started.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/../../.." && pwd)"
LOCAL="$REPO_ROOT/infra/local"

# Ports and state distinct from run.sh (dev), test.sh (test) and CI; all can be overridden from the environment.
export STOREFRONT_STATE_DIR="${STOREFRONT_STATE_DIR:-/tmp/bench-state}"
export STOREFRONT_PG_PORT="${STOREFRONT_PG_PORT:-55491}"
export STOREFRONT_AZURITE_PORT="${STOREFRONT_AZURITE_PORT:-10090}"
export BENCH_APP_PORT="${BENCH_APP_PORT:-7491}"
export BENCH_SIMULATOR_PORT="${BENCH_SIMULATOR_PORT:-7492}"
export BENCH_SECONDS="${BENCH_SECONDS:-10}"
export BENCH_OUTPUT="${BENCH_OUTPUT:-$BENCH_DIR/results}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- Load generators and the FastAPI variant's packages (Debian) --------------------------------------------------------
apt_install() {
  log "installing $* (apt-get install -y)"
  local sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get install -y "$@" >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y "$@" >&2; }
}
command -v hey >/dev/null 2>&1 || apt_install hey
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v hey >/dev/null 2>&1 || die "hey is not installed"
command -v wrk >/dev/null 2>&1 || die "wrk is not installed"
export BENCH_PYTHON="${BENCH_PYTHON:-/usr/bin/python3}"
if ! "$BENCH_PYTHON" -c "import fastapi, uvicorn, asyncpg, aiohttp, uvloop, httptools" 2>/dev/null; then
  apt_install python3-fastapi python3-uvicorn python3-asyncpg python3-aiohttp python3-uvloop python3-httptools ||
    log "the FastAPI variant will be skipped: its packages could not be installed"
fi

# The side-by-side variants listen on BENCH_APP_PORT + 10, + 11 and + 15.
for port in "$BENCH_APP_PORT" "$BENCH_SIMULATOR_PORT" $((BENCH_APP_PORT + 10)) $((BENCH_APP_PORT + 11)) $((BENCH_APP_PORT + 15)); do
  if port_open "$port"; then die "port $port is in use; set BENCH_APP_PORT / BENCH_SIMULATOR_PORT"; fi
done

# --- PostgreSQL and Azurite (the dev instance's scripts, with this run's ports and state folder) ----------------------
pg() { "$LOCAL/postgres.sh" --instance dev "$@"; }
az() { "$LOCAL/azurite.sh" --instance dev "$@"; }

started_pg=""
started_az=""
cleanup() {
  local status=$?
  if [[ -n "$started_az" ]]; then az stop >&2 || true; fi
  if [[ -n "$started_pg" ]]; then pg stop >&2 || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! pg status >/dev/null 2>&1; then started_pg=1; fi
pg start >&2
if ! az status >/dev/null 2>&1; then started_az=1; fi
az start >/dev/null
pg_cs="$(pg connection-string)"
az_cs="$(az connection-string)"

# --- Build, migrate, seed ---------------------------------------------------------------------------------------------
log "building tests/Performance/Benchmarks (Release; builds the function app, the local host, the simulator and the migrations tool)"
dotnet build "$BENCH_DIR/Benchmarks.csproj" -c Release --nologo -v quiet >&2
# shellcheck source=infra/local/lib.sh
source "$LOCAL/lib.sh"
sf_migrate_and_seed "$pg_cs" >&2

# --- Run ----------------------------------------------------------------------------------------------------------------
log "running the benchmark (about 15 minutes); results in $BENCH_OUTPUT"
ConnectionStrings__Postgres="$pg_cs" AzureWebJobsStorage="$az_cs" BENCH_REPO_ROOT="$REPO_ROOT" \
  dotnet "$BENCH_DIR/bin/Release/net10.0/Storefront.Benchmarks.dll"
