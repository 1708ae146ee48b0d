#!/usr/bin/env bash
# What does checking an API key cost? Throughput of an unauthenticated route (/health) against
# an authenticated one that does no other work (/api/v1/whoami with a key), on one release
# hub with SQLite. Needs wrk (apt-get install wrk). Usage: bench/auth.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; conns=${2:-64}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 2; }
cargo build --release -p integrations-hub -q
dir=$(mktemp -d); port=39871; token=bench-operator-token-000000000000
IH_DATA_DIR=$dir IH_BIND=127.0.0.1:$port IH_ADMIN_TOKEN=$token IH_LOG_LEVEL=warn \
  IH_OPERATOR_RATE_LIMIT_PER_MINUTE=100000000 target/release/integrations-hub >/dev/null &
hub=$!; trap 'kill $hub 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf localhost:$port/health >/dev/null && break; sleep 0.1; done
api() { curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
tenant=$(api -d '{"name":"bench"}' localhost:$port/api/v1/tenants | sed 's/.*"id":"\([^"]*\)".*/\1/')
key=$(api -d '{"name":"bench","role":"read_only","rate_limit_per_minute":1000000}' \
  localhost:$port/api/v1/tenants/$tenant/api-keys | sed 's/.*"key":"\([^"]*\)".*/\1/')
# Each run prints its throughput and the hub's CPU time per request (user + system, from
# /proc): the CPU figure is steadier than throughput, because wrk shares the two cores.
ticks() { awk '{print $14 + $15}' /proc/$hub/stat; }
run() {
  local before out after
  before=$(ticks)
  out=$(wrk -t2 -c"$conns" -d"${secs}s" "$@")
  after=$(ticks)
  echo "$out" | awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 } END { printf "%d %.2f", rps, t / hz * 1e6 / n }'
}
wrk -t2 -c"$conns" -d2s http://127.0.0.1:$port/health >/dev/null   # warm-up
# Rounds alternate so that drift (other load, CPU frequency) hits every variant alike. The
# baseline sends the same Authorization header, so request sizes match.
for round in 1 2 3; do
  echo "health $(run -H "Authorization: Bearer $key" http://127.0.0.1:$port/health)"
  echo "key $(run -H "Authorization: Bearer $key" http://127.0.0.1:$port/api/v1/whoami)"
  echo "operator $(run -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/whoami)"
done | awk '{ sum[$1] += $2; cpu[$1] += $3; runs[$1] = runs[$1] " " int($2) } END {
  o = sum["health"] / 3; k = sum["key"] / 3; t = sum["operator"] / 3;
  co = cpu["health"] / 3; ck = cpu["key"] / 3; ct = cpu["operator"] / 3;
  printf "unauthenticated /health:                %8.0f req/s %6.2f us CPU/req (runs:%s)\n", o, co, runs["health"];
  printf "/api/v1/whoami with an API key:         %8.0f req/s %6.2f us CPU/req (runs:%s)\n", k, ck, runs["key"];
  printf "/api/v1/whoami with the operator token: %8.0f req/s %6.2f us CPU/req (runs:%s)\n", t, ct, runs["operator"];
  printf "cost of key checking vs /health:        %7.1f %% of throughput, %5.1f %% of the hub CPU per request\n", (o - k) / o * 100, (ck - co) / ck * 100;
  printf "cost of the key look-up alone:          %7.1f %% of throughput, %5.1f %% of the hub CPU (key vs operator token)\n", (t - k) / t * 100, (ck - ct) / ck * 100 }'
