#!/usr/bin/env bash
# The TEST command: every test of Functions.sln against real PostgreSQL and Azurite.
#
#   ./infra/local/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Orders]
#
# Installs what is missing (prerequisites.sh), builds in Release, then runs
# `dotnet test Functions.sln -c Release --no-build --logger trx`. The test fixtures start their own PostgreSQL and
# Azurite on free ports through the dev stack (state and logs in .local/test/) and stop them. Prints as its last line
# "N passed, N failed" (", N skipped" when some were skipped), summed over the .trx files in .local/test/test-results/;
# exits non-zero when dotnet test failed, a test failed, or no test ran.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
  exit 0
fi
readonly RESULTS_DIR=.local/test/test-results
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# No MSBuild worker nodes left running after a CI job.
if [[ -n "${CI:-}" ]]; then export MSBUILDDISABLENODEREUSE=1; fi

# Sums one attribute of the <Counters .../> element over all .trx files.
trx_sum() {
  local file counters value sum=0
  while IFS= read -r -d '' file; do
    counters="$(grep -o '<Counters [^>]*>' "$file" | head -n 1 || true)"
    value="$(sed -n "s/.* $1=\"\\([0-9]*\\)\".*/\\1/p" <<<"$counters")"
    sum=$((sum + ${value:-0}))
  done < <(find "$RESULTS_DIR" -name '*.trx' -print0 2>/dev/null)
  echo "$sum"
}

test_rc="" # exit status of dotnet test; empty while the tests have not run
# shellcheck disable=SC2317  # invoked through trap
summary() {
  local status=$? executed passed failed skipped
  executed="$(trx_sum executed)"
  passed="$(trx_sum passed)"
  failed=$(($(trx_sum failed) + $(trx_sum error) + $(trx_sum timeout) + $(trx_sum aborted)))
  skipped=$(($(trx_sum total) - executed))
  if [[ -z "$test_rc" ]]; then
    echo "[test] FAILED before the tests ran (see above)" >&2
    ((status != 0)) || status=1
  elif ((test_rc != 0)); then
    echo "[test] dotnet test exited with status $test_rc (results: $RESULTS_DIR)" >&2
    status="$test_rc"
  elif ((failed > 0 || executed == 0)); then
    ((executed > 0)) || echo "[test] no test ran" >&2
    status=1
  fi
  if [[ -n "${CI:-}" ]]; then dotnet build-server shutdown >/dev/null 2>&1 || true; fi
  echo "$passed passed, $failed failed$( ((skipped <= 0)) || echo ", $skipped skipped")"
  exit "$status"
}
trap summary EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

./infra/local/prerequisites.sh
dotnet build Functions.sln -c Release --nologo
rm -rf "$RESULTS_DIR"
set +e
dotnet test Functions.sln -c Release --no-build --logger trx --results-directory "$RESULTS_DIR" "$@"
test_rc=$?
set -e
