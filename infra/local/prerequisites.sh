#!/usr/bin/env bash
# What the dev stack (infra/local/DevStack) needs that a fresh machine may lack; run.sh, test.sh and the performance
# harnesses call it: Azurite from package-lock.json (npm ci, when missing or older than the lock file), and a check
# that the PostgreSQL server binaries are there (on PATH or in /usr/lib/postgresql/*/bin).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stamp="$here/node_modules/.package-lock.json"
if [[ ! -x "$here/node_modules/.bin/azurite" || ! -f "$stamp" || "$here/package-lock.json" -nt "$stamp" ]]; then
  command -v npm >/dev/null 2>&1 || { echo "[local] error: npm not found; install Node.js 20+ (Azurite runs on it)" >&2; exit 1; }
  echo "[local] installing Azurite (npm ci --prefix infra/local)" >&2
  npm ci --prefix "$here" --no-audit --no-fund --no-update-notifier --loglevel=error >&2
fi
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  echo "[local] error: PostgreSQL server binaries (initdb, postgres) not found; Debian/Ubuntu: apt-get install postgresql-15" >&2
  exit 1
fi
