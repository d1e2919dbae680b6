#!/usr/bin/env bash
# The RUN command: the whole storefront on this machine, no Docker, no Azure.
#
#   ./infra/local/run.sh [--port N] [--local-host]
#
# Installs Azurite (npm ci) if needed, starts PostgreSQL and Azurite (dev instances), builds Functions.sln in
# Release, applies migrations and seeds demo data, starts the service simulator (when the project exists),
# creates functions/Storefront.Api/local.settings.json from local.settings.sample.json when missing, then runs
# the app on port 7071 with Azure Functions Core Tools (`func start`) when `func` is on PATH, else with the
# repo's local Functions host (infra/local/FunctionsHost.Cli). Ctrl-C stops everything this run started.
#
# --port N       app port (default 7071; env STOREFRONT_PORT)
# --local-host   use infra/local/FunctionsHost.Cli even when `func` is on PATH
#
# Environment: STOREFRONT_PORT, STOREFRONT_SIMULATOR_PORT (7081), STOREFRONT_PG_PORT (55432),
# STOREFRONT_AZURITE_PORT (10000; queue/table +1/+2), STOREFRONT_POSTGRES / STOREFRONT_AZURITE (connection
# strings of servers you run yourself, e.g. infra/local/docker-compose.yml; nothing is then started for them),
# STOREFRONT_SEED_PRODUCTS (number of demo products; the migrations tool's default otherwise).
# State and logs: .local/dev/ (git-ignored).
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SF_LOG_TAG="run"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

app_port="${STOREFRONT_PORT:-7071}"
force_local_host=""
while (($# > 0)); do
  case "$1" in
    --port) app_port="${2:?--port needs a value}"; shift 2 ;;
    --port=*) app_port="${1#*=}"; shift ;;
    --local-host) force_local_host=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; sf_die "unknown argument '$1'" ;;
  esac
done
sf_check_port_value "$app_port"
sim_port="${STOREFRONT_SIMULATOR_PORT:-7081}"
sf_check_port_value "$sim_port"

# Defaults baked into local.settings.sample.json; anything else is passed to the app as environment variables,
# which win over local.settings.json Values.
readonly SAMPLE_PG_CS="Host=127.0.0.1;Port=55432;Database=storefront;Username=storefront;Password=storefront"
readonly SAMPLE_AZURITE_BLOB_PORT=10000
readonly SAMPLE_SIM_PORT=7081
readonly SERVICES=(Inventory Reviews Fx Payments Shipping Notifications)

readonly API_PROJECT_DIR="$SF_REPO_ROOT/functions/Storefront.Api"
readonly APP_DIR="$API_PROJECT_DIR/bin/Release/net10.0"
readonly SIM_PROJECT="$SF_LIB_DIR/ServiceSimulator/ServiceSimulator.csproj"
readonly SIM_DLL="$SF_LIB_DIR/ServiceSimulator/bin/Release/net10.0/ServiceSimulator.dll"
readonly HOST_CLI_DLL="$SF_LIB_DIR/FunctionsHost.Cli/bin/Release/net10.0/FunctionsHost.Cli.dll"

sf_pg_init dev
sf_az_init dev
cd "$SF_REPO_ROOT"

# Refuses to run twice at once; stops/adopts what a killed earlier run left behind.
sf_session_begin run

host_pid=""
sim_pid=""
cleaned=""
# shellcheck disable=SC2317  # invoked through trap
cleanup() {
  if [[ -n "$cleaned" ]]; then return 0; fi
  cleaned=1
  # Keep going whatever happens to the terminal or a pipe we print to; stop everything we started.
  trap '' INT TERM HUP PIPE
  set +e
  if [[ -n "$host_pid" ]]; then
    sf_log "stopping the app host (pid $host_pid)"
    sf_stop_tree "$host_pid" 20
  fi
  if [[ -n "$sim_pid" ]]; then
    sf_log "stopping the service simulator (pid $sim_pid)"
    sf_stop_tree "$sim_pid" 10
  fi
  if sf_session_owns azurite; then (sf_az_stop) || true; fi
  if sf_session_owns postgres; then (sf_pg_stop) || true; fi
  sf_session_end
  sf_log "stopped"
}
# shellcheck disable=SC2317  # invoked through trap
on_signal() {
  trap '' PIPE
  echo >&2 2>/dev/null || true
  sf_log "stopping everything this run started..."
  cleanup
  exit 130
}
trap on_signal INT TERM HUP
trap cleanup EXIT

# --- Storage and database -------------------------------------------------------------------------------------
sf_session_start_storage
pg_cs="$(sf_pg_connection_string)"

# --- Settings --------------------------------------------------------------------------------------------------
# Created before the build: the project copies it into its output folder, where the local host reads it.
if [[ ! -f "$API_PROJECT_DIR/local.settings.json" ]]; then
  cp "$SF_REPO_ROOT/local.settings.sample.json" "$API_PROJECT_DIR/local.settings.json"
  sf_log "created functions/Storefront.Api/local.settings.json from local.settings.sample.json"
else
  # Settings the sample gained since the file was made are added; values already there are kept.
  node -e '
    const fs = require("fs");
    const [sample, local] = process.argv.slice(1).map(f => JSON.parse(fs.readFileSync(f, "utf8")));
    const added = Object.keys(sample.Values).filter(k => !(k in (local.Values ??= {})));
    added.forEach(k => { local.Values[k] = sample.Values[k]; });
    if (added.length) {
      fs.writeFileSync(process.argv[2], JSON.stringify(local, null, 2) + "\n");
      console.log("[run] added to local.settings.json from the sample: " + added.join(", "));
    }' "$SF_REPO_ROOT/local.settings.sample.json" "$API_PROJECT_DIR/local.settings.json"
fi

# --- Build, migrate, seed --------------------------------------------------------------------------------------
sf_log "building Functions.sln (Release)"
dotnet build "$SF_REPO_ROOT/Functions.sln" -c Release --nologo
cp "$API_PROJECT_DIR/local.settings.json" "$APP_DIR/local.settings.json"

sf_migrate_and_seed "$pg_cs"

# --- Environment overrides for non-default ports / external servers -------------------------------------------
if [[ "$pg_cs" != "$SAMPLE_PG_CS" ]]; then
  export ConnectionStrings__Postgres="$pg_cs"
  sf_log "ConnectionStrings__Postgres overridden by the environment"
fi
if [[ -n "$SF_AZ_EXTERNAL" || "$SF_AZ_BLOB_PORT" != "$SAMPLE_AZURITE_BLOB_PORT" ]]; then
  AzureWebJobsStorage="$(sf_az_connection_string)"
  export AzureWebJobsStorage
  sf_log "AzureWebJobsStorage overridden by the environment"
fi
if [[ "$sim_port" != "$SAMPLE_SIM_PORT" ]]; then
  for service in "${SERVICES[@]}"; do
    export "Services__${service}__BaseUrl=http://127.0.0.1:$sim_port"
  done
  sf_log "Services__*__BaseUrl overridden by the environment (simulator on port $sim_port)"
fi

# --- Service simulator -----------------------------------------------------------------------------------------
if [[ ! -f "$SIM_DLL" ]]; then
  sf_log "building the service simulator"
  dotnet build "$SIM_PROJECT" -c Release --nologo
fi
if sf_port_open "$sim_port"; then
  sf_die "port $sim_port (service simulator) is already in use; free it or set STOREFRONT_SIMULATOR_PORT"
fi
sf_log "starting the service simulator on http://127.0.0.1:$sim_port (log $SF_LOG_DIR/simulator.log)"
sf_spawn "$SF_LOG_DIR/simulator.log" dotnet "$SIM_DLL" --urls "http://127.0.0.1:$sim_port"
sim_pid="$SF_SPAWNED_PID"
sf_session_child simulator "$sim_pid" "ServiceSimulator.dll"
if ! sf_wait_port "$sim_port" 60 "$sim_pid"; then
  tail -n 20 "$SF_LOG_DIR/simulator.log" >&2 || true
  sf_die "the service simulator did not start; see $SF_LOG_DIR/simulator.log"
fi
sim_status="http://127.0.0.1:$sim_port (log $SF_LOG_DIR/simulator.log)"

# --- The app ---------------------------------------------------------------------------------------------------
if sf_port_open "$app_port"; then
  sf_die "port $app_port is already in use; free it or pass --port N / set STOREFRONT_PORT"
fi
if [[ -z "$force_local_host" ]] && command -v func >/dev/null 2>&1; then
  host_kind="Azure Functions Core Tools (func start)"
  sf_log "starting the app with func start --port $app_port"
  # shellcheck disable=SC2016  # expanded by the inner bash
  sf_spawn - bash -c 'cd "$1" && exec func start --port "$2"' func-start "$API_PROJECT_DIR" "$app_port"
  host_pid="$SF_SPAWNED_PID"
  sf_session_child host "$host_pid" "func"
else
  [[ -f "$HOST_CLI_DLL" ]] ||
    sf_die "no Functions host: install Azure Functions Core Tools (func) or build infra/local/FunctionsHost.Cli ($HOST_CLI_DLL is missing)"
  host_kind="local Functions host (infra/local/FunctionsHost.Cli)"
  sf_log "starting the app with the local Functions host on port $app_port"
  sf_spawn - dotnet "$HOST_CLI_DLL" --app "$APP_DIR" --port "$app_port"
  host_pid="$SF_SPAWNED_PID"
  sf_session_child host "$host_pid" "FunctionsHost.Cli.dll"
fi

if ! sf_wait_port "$app_port" 180 "$host_pid"; then
  sf_die "the app host did not start listening on port $app_port"
fi

cat <<EOF

  Storefront API is running ($host_kind)
    API        http://localhost:$app_port/api/
    PostgreSQL $pg_cs
               (psql: ./infra/local/postgres.sh psql)
    Azurite    blob/queue/table on 127.0.0.1:$SF_AZ_BLOB_PORT/$SF_AZ_QUEUE_PORT/$SF_AZ_TABLE_PORT${SF_AZ_EXTERNAL:+ (external: STOREFRONT_AZURITE)}
    Simulator  $sim_status
    Logs       $SF_LOG_DIR/

  Try:
    curl http://localhost:$app_port/api/health
    curl 'http://localhost:$app_port/api/products/SKU-00042?currency=EUR'
    curl -i -X POST http://localhost:$app_port/api/orders -H 'x-functions-key: local-function-key' \\
      -H 'Content-Type: application/json' -H "Idempotency-Key: demo-\$RANDOM" \\
      -d '{"customerId":"c-123","email":"a@example.com","currency":"EUR","lines":[{"sku":"SKU-00042","quantity":2}],"shipTo":{"country":"NL","postcode":"1011AB"}}'

  Press Ctrl-C to stop.

EOF

set +e
wait "$host_pid"
status=$?
set -e
sf_log "the app host exited with status $status"
exit "$status"
