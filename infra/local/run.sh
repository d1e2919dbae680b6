#!/usr/bin/env bash
# The RUN command: the whole storefront on this machine, no Docker, no Azure.
#
#   ./infra/local/run.sh [--port N] [--local-host] [--no-app]
#
# Installs what is missing (prerequisites.sh), then runs the Aspire AppHost infra/local/AppHost in Release (`dotnet
# run` builds the app, the local host, the simulator and the migrations first). Its resources are executables, no
# containers: PostgreSQL and Azurite (state in .local/dev/), migrations and demo data, the service simulator, the app
# on port 7071; it prints the URLs of the app and of the dashboard (http://127.0.0.1:18888), shows every resource's
# output, and Ctrl-C stops everything. Options and environment variables: ./infra/local/run.sh --help, infra/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/prerequisites.sh"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet run --project "$here/AppHost" -c Release -- "$@"
