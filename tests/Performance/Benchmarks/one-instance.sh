#!/usr/bin/env bash
# What one Flex Consumption instance of 2048 MB (one core) does with the product read at several concurrencies: the
# infra's httpPerInstanceConcurrency. A local host and its worker run pinned to the machine's last core, with the
# app's Azure pool (20 connections); PostgreSQL, Azurite, the simulator and wrk are pinned to the other cores (and
# back to all cores at the end). Per step (10 s, reads over the 10,000 seeded skus) it prints whole answers a second,
# p50/p99 and how much of its core host and worker used. Needs the dev stack running on the local host
# (./infra/local/run.sh, with --local-host where Core Tools are installed) and wrk;
# leaves the simulator's inventory, reviews and FX at 50 ms. Usage: one-instance.sh [concurrency ...] (128 64 32 16).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
app="$root/functions/Storefront.Api/bin/Release/net10.0"
port=7391
levels=("$@")
if [[ ${#levels[@]} -eq 0 ]]; then levels=(128 64 32 16); fi
log() { printf '[one-instance] %s\n' "$*" >&2; }

cores="$(nproc)"
if [[ "$cores" -lt 2 ]]; then log "needs at least 2 cores"; exit 1; fi
pinned=$((cores - 1))
rest="0-$((pinned - 1))"
dev_host="$(pgrep -f 'FunctionsHost.Cli.dll' | head -1 || true)"
if [[ -z "$dev_host" ]] || ! curl -sf -o /dev/null http://127.0.0.1:7081/admin/services; then
  log "start the dev stack on the local host first: ./infra/local/run.sh (--local-host where Core Tools are installed)"
  exit 1
fi

for service in inventory reviews fx; do
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:7081/admin/services/$service" \
    -H 'Content-Type: application/json' -d '{"latencyMs":50,"jitterMs":0}'
done
pin_dev_stack() {
  for pid in $(pgrep -f 'postgres|ServiceSimulator|azurite' || true); do
    taskset -a -p -c "$1" "$pid" >/dev/null 2>&1 || log "could not pin process $pid to cores $1 (not ours?)"
  done
}
host=""
trap 'if [[ -n "$host" ]]; then kill "$host" 2>/dev/null || true; fi; pin_dev_stack "0-$pinned"' EXIT
pin_dev_stack "$rest"

# The dev stack host's settings (telemetry export off), and its connection string with the app's Azure pool size.
mapfile -t settings < <(tr '\0' '\n' < "/proc/$dev_host/environ" | grep -v '^OTEL_')
connection="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Values"]["ConnectionStrings__Postgres"])' "$app/local.settings.json")"
env -i "${settings[@]}" "ConnectionStrings__Postgres=$connection;Maximum Pool Size=20" \
  taskset -c "$pinned" dotnet "$root/infra/local/FunctionsHost.Cli/bin/Release/net10.0/FunctionsHost.Cli.dll" \
  --app "$app" --port "$port" >/tmp/one-instance-host.log 2>&1 &
host=$!
started=""
for _ in $(seq 1 60); do
  if curl -sf -o /dev/null "http://127.0.0.1:$port/api/health"; then started=yes; break; fi
  sleep 1
done
worker="$(pgrep -P "$host" | head -1 || true)"
if [[ -z "$started" || -z "$worker" ]]; then log "the host did not start (log: /tmp/one-instance-host.log)"; exit 1; fi

ticks="$(getconf CLK_TCK)"
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
read_step() {
  local output
  output="$(taskset -c "$rest" wrk -t1 -c"$1" -d10s -s "$root/tests/Performance/Benchmarks/reads.lua" "http://127.0.0.1:$port" 2>&1)"
  grep '^RESULT' <<<"$output" || { log "wrk printed no result: $output"; exit 1; }
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# A new worker compiles and recompiles its hot paths for tens of seconds, which would count in the first step's CPU.
log "warming up (60 s at 128 connections)"
for _ in 1 2 3 4 5 6; do read_step 128 >/dev/null; done
sleep 10
echo "| connections | whole/s | p50 ms | p99 ms | statuses | host + worker, % of the core |"
echo "| ---: | ---: | ---: | ---: | --- | ---: |"
for level in "${levels[@]}"; do
  before=$(($(cpu "$host") + $(cpu "$worker")))
  result="$(read_step "$level")"
  used=$(($(cpu "$host") + $(cpu "$worker") - before))
  seconds="$(field seconds "$result")"
  whole="$(field whole "$result")"
  awk -v c="$level" -v w="$whole" -v s="$seconds" -v p50="$(field p50_ms "$result")" -v p99="$(field p99_ms "$result")" \
    -v st="$(field statuses "$result")" -v u="$used" -v t="$ticks" \
    'BEGIN { printf "| %s | %.0f | %s | %s | %s | %.0f%% |\n", c, w / s, p50, p99, st, u * 100 / t / s }'
  sleep 3
done
