#!/usr/bin/env bash
# The RUN command: the whole storefront on this machine, no Docker, no Azure.
#
#   ./infra/local/run.sh [--port N] [--local-host]
#
# Installs what is missing (prerequisites.sh), then runs infra/local/DevStack.Cli in Release (`dotnet run` builds the
# app, the local host, the simulator and the migrations first): PostgreSQL and Azurite (state in .local/dev/),
# migrations and demo data, the service simulator, the app on port 7071; it prints the URLs, and Ctrl-C stops
# everything it started. Options and environment variables: ./infra/local/run.sh --help, infra/local/README.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/prerequisites.sh"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet run --project "$here/DevStack.Cli" -c Release -- run "$@"
