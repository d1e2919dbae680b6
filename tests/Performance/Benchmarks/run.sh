#!/usr/bin/env bash
# The benchmark command (see README.md): installs the load generators (hey, wrk) and the FastAPI variant's packages
# when missing, then runs Benchmarks.csproj in Release. It starts PostgreSQL and Azurite through the dev stack on its
# own ports (15491, 10090-10092) and state folder (/tmp/bench-state), the simulator and the local host, writes
# results/results.md and chart.svg, prints the headline ratios, and stops what it started. Options: --help.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[bench] %s\n' "$*" >&2; }
apt_install() {
  log "installing $* (apt-get install -y)"
  local sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get install -y "$@" >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y "$@" >&2; }
}
command -v hey >/dev/null 2>&1 || apt_install hey
command -v wrk >/dev/null 2>&1 || apt_install wrk
if ! command -v hey >/dev/null 2>&1 || ! command -v wrk >/dev/null 2>&1; then
  log "error: hey and wrk are needed"
  exit 1
fi
if ! "${BENCH_PYTHON:-/usr/bin/python3}" -c "import fastapi, uvicorn, asyncpg, aiohttp, uvloop, httptools" 2>/dev/null; then
  apt_install python3-fastapi python3-uvicorn python3-asyncpg python3-aiohttp python3-uvloop python3-httptools ||
    log "the FastAPI variant will be skipped: its packages could not be installed"
fi
"$bench/../../../infra/local/prerequisites.sh"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet run --project "$bench" -c Release -- "$@"
