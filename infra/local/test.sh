#!/usr/bin/env bash
# The TEST command: every test of Functions.sln against real local PostgreSQL and Azurite.
#
#   ./infra/local/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Orders]
#
# Uses the "test" instances (PostgreSQL 127.0.0.1:55433, Azurite 10010-10012, state in .local/test/), so it can run
# while ./infra/local/run.sh serves the dev stack. Builds in Release, migrates and seeds, exports what the tests
# read, runs `dotnet test Functions.sln -c Release --no-build --logger trx`, stops what it started (on every exit
# path), and prints as its last line "N passed, N failed" (", N skipped" when some were skipped), summed over
# the .trx files in .local/test/test-results/. Exits non-zero when dotnet test failed, a test failed, or no test ran.
#
# Exported for the tests:
#   ConnectionStrings__Postgres  the test database
#   AzureWebJobsStorage          connection string of the test Azurite (explicit ports)
#   STOREFRONT_POSTGRES_CTL      command line; append stop|start|status to stop/restart the test cluster
#   STOREFRONT_AZURITE_CTL       command line; append stop|start|status for the test Azurite
#   STOREFRONT_APP_DIR           absolute path of the app's Release output
#   STOREFRONT_TEST_LOGS         .local/test/logs (where tests may write the logs of the hosts they start)
#
# Environment: STOREFRONT_PG_PORT, STOREFRONT_AZURITE_PORT, STOREFRONT_POSTGRES, STOREFRONT_AZURITE (as for
# run.sh), STOREFRONT_SEED_PRODUCTS.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SF_LOG_TAG="test"

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
  exit 0
fi

readonly APP_DIR="$SF_REPO_ROOT/functions/Storefront.Api/bin/Release/net10.0"

sf_pg_init test
sf_az_init test
cd "$SF_REPO_ROOT"
readonly RESULTS_DIR="$SF_STATE_DIR/test-results"

if [[ -n "${CI:-}" ]]; then
  # No MSBuild worker nodes left running after a CI job.
  export MSBUILDDISABLENODEREUSE=1
fi

sf_session_begin test

test_rc=""   # exit status of dotnet test; empty while the tests have not run
cleaned=""
# shellcheck disable=SC2317  # invoked through trap
cleanup() {
  if [[ -n "$cleaned" ]]; then return 0; fi
  cleaned=1
  # Keep going whatever happens to the terminal or a pipe we print to; stop everything we started.
  trap '' INT TERM HUP PIPE
  set +e
  if sf_session_owns azurite; then (sf_az_stop) || true; fi
  if sf_session_owns postgres; then (sf_pg_stop) || true; fi
  sf_session_end
  if [[ -n "${CI:-}" ]]; then dotnet build-server shutdown >/dev/null 2>&1 || true; fi
}

# Sums one attribute of the <Counters .../> element over all .trx files.
# shellcheck disable=SC2317  # invoked through trap
trx_sum() {
  local name="$1" file counters value sum=0
  while IFS= read -r -d '' file; do
    counters="$(grep -o '<Counters [^>]*>' "$file" | head -n 1 || true)"
    value="$(sed -n "s/.* $name=\"\\([0-9]*\\)\".*/\\1/p" <<<"$counters")"
    sum=$((sum + ${value:-0}))
  done < <(find "$RESULTS_DIR" -name '*.trx' -print0 2>/dev/null)
  echo "$sum"
}

# shellcheck disable=SC2317  # invoked through trap
on_exit() {
  local status=$?
  cleanup
  local total executed passed failed skipped
  total="$(trx_sum total)"
  executed="$(trx_sum executed)"
  passed="$(trx_sum passed)"
  failed=$(($(trx_sum failed) + $(trx_sum error) + $(trx_sum timeout) + $(trx_sum aborted)))
  skipped=$((total - executed))
  if ((skipped < 0)); then skipped="$(trx_sum notExecuted)"; fi

  if [[ -z "$test_rc" ]]; then
    sf_log "FAILED before the tests ran (see the output above)"
    ((status != 0)) || status=1
  elif ((test_rc != 0)); then
    sf_log "dotnet test exited with status $test_rc (results: $RESULTS_DIR)"
    status="$test_rc"
  elif ((failed > 0)); then
    status=1
  elif ((executed == 0)); then
    sf_log "no test ran"
    status=1
  fi
  local summary="$passed passed, $failed failed"
  if ((skipped > 0)); then summary="$summary, $skipped skipped"; fi
  echo "$summary"
  exit "$status"
}
# shellcheck disable=SC2317  # invoked through trap
on_signal() {
  trap '' PIPE
  echo >&2 2>/dev/null || true
  sf_log "interrupted; stopping what this run started"
  exit 130
}
trap on_signal INT TERM HUP
trap on_exit EXIT

# --- Storage and database -------------------------------------------------------------------------------------
sf_session_start_storage
pg_cs="$(sf_pg_connection_string)"
storage_cs="$(sf_az_connection_string)"

# --- Build, migrate, seed --------------------------------------------------------------------------------------
sf_log "building Functions.sln (Release)"
dotnet build "$SF_REPO_ROOT/Functions.sln" -c Release --nologo

sf_migrate_and_seed "$pg_cs"

# --- Tests -----------------------------------------------------------------------------------------------------
export ConnectionStrings__Postgres="$pg_cs"
export AzureWebJobsStorage="$storage_cs"
# Shell command lines (the tests run them with bash -c "<line> stop"); %q keeps odd repo paths intact.
STOREFRONT_POSTGRES_CTL="$(printf '%q' "$SF_LIB_DIR/postgres.sh") --instance test --port $SF_PG_PORT"
STOREFRONT_AZURITE_CTL="$(printf '%q' "$SF_LIB_DIR/azurite.sh") --instance test --port $SF_AZ_BLOB_PORT"
export STOREFRONT_POSTGRES_CTL STOREFRONT_AZURITE_CTL
export STOREFRONT_APP_DIR="$APP_DIR"
# Optional: tests that log the hosts they start write into the state folder's logs.
export STOREFRONT_TEST_LOGS="$SF_LOG_DIR"

rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"
sf_log "running dotnet test (results in $RESULTS_DIR)"
set +e
dotnet test "$SF_REPO_ROOT/Functions.sln" -c Release --no-build --logger trx --results-directory "$RESULTS_DIR" "$@"
test_rc=$?
set -e
# on_exit stops the services and prints the summary as the last line.
