#!/usr/bin/env bash
# The SOAK command: N minutes (default 10) of mixed load against the whole stack, then a check that nothing was lost;
# with --outages, the scripted outage scenarios instead (about 15 minutes). See README.md, and --help for the options.
#
#   ./tests/Performance/Soak/run.sh [--minutes 10] [--workers 8] [--think-ms 20] [--drain-minutes 5]
#   ./tests/Performance/Soak/run.sh --outages
#
# Installs what is missing, then runs Soak.csproj in Release: it starts PostgreSQL and Azurite through the dev stack
# (ports 15481, 10080-10082, state in /tmp/soak-state), the simulator and the app, and stops what it started.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
"$repo/infra/local/prerequisites.sh"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet run --project "$repo/tests/Performance/Soak" -c Release -- "$@"
