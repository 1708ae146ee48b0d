#!/usr/bin/env bash
# What does checking an API key cost? Throughput of an unauthenticated route (/health) against
# an authenticated one that does no other work (/api/v1/whoami with a key), on one release
# hub with SQLite. Needs wrk (apt-get install wrk) and taskset (util-linux).
# Usage: bench/auth.sh [seconds] [connections] [rounds]
#
# The hub runs on one core with one worker thread and wrk on the others: when both share every
# core, the figures measure the scheduler (wake-ups, migrations) as much as the hub.
set -euo pipefail
cd "$(dirname "$0")/.."
# Many short alternating rounds, so that the machine's drift (its speed moves over tens of
# seconds on a shared VM) hits every variant alike. Even so, the percentage of one build ranged
# over 6 points between runs here (5.3-11.7 %): compare builds over several runs, and see
# bench/auth-instructions.sh for a measure that repeats exactly.
secs=${1:-1}; conns=${2:-64}; rounds=${3:-25}
cores=$(nproc)
if [ "$cores" -ge 2 ]; then
  hub_pin=(taskset -c 0); wrk_pin=(taskset -c 1-$((cores - 1))); wrk_threads=$((cores - 1))
else
  hub_pin=(); wrk_pin=(); wrk_threads=1
fi
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 2; }
# HUB=<binary> measures another build (say, the last commit's) with the same method.
if [ -z "${HUB:-}" ]; then cargo build --release -p integrations-hub -q; HUB=target/release/integrations-hub; fi
dir=$(mktemp -d); port=39871; token=bench-operator-token-000000000000
TOKIO_WORKER_THREADS=1 IH_DATA_DIR=$dir IH_BIND=127.0.0.1:$port IH_ADMIN_TOKEN=$token IH_LOG_LEVEL=warn \
  IH_OPERATOR_RATE_LIMIT_PER_MINUTE=100000000 "${hub_pin[@]}" "$HUB" >/dev/null &
hub=$!; trap 'kill $hub 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf localhost:$port/health >/dev/null && break; sleep 0.1; done
api() { curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
tenant=$(api -d '{"name":"bench"}' localhost:$port/api/v1/tenants | sed 's/.*"id":"\([^"]*\)".*/\1/')
key=$(api -d '{"name":"bench","role":"read_only","rate_limit_per_minute":1000000}' \
  localhost:$port/api/v1/tenants/$tenant/api-keys | sed 's/.*"key":"\([^"]*\)".*/\1/')
# Each run prints its throughput, the hub's CPU time per request (user + system, from /proc) and
# how busy the hub's core was: near 1.00 the hub, not wrk, set the pace, and the throughput
# figures measure the hub.
ticks() { awk '{print $14 + $15}' /proc/$hub/stat; }
run() {
  local before out after start end
  before=$(ticks); start=$(date +%s%N)
  out=$("${wrk_pin[@]}" wrk -t"$wrk_threads" -c"$conns" -d"${secs}s" "$@")
  after=$(ticks); end=$(date +%s%N)
  echo "$out" | awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v wall=$((end - start)) '
    /requests in/ { n = $1 } /Requests\/sec/ { rps = $2 } END { printf "%d %.2f %.2f", rps, t / hz * 1e6 / n, t / hz / (wall / 1e9) }'
}
"${wrk_pin[@]}" wrk -t"$wrk_threads" -c"$conns" -d2s http://127.0.0.1:$port/health >/dev/null   # warm-up
# Rounds alternate so that drift (other load, CPU frequency) hits every variant alike, and each
# figure is the median of its rounds, so that one disturbed run does not move it. The baseline
# sends the same Authorization header, so request sizes match.
results=$(mktemp); trap 'kill $hub 2>/dev/null; rm -rf "$dir" "$results"' EXIT
for _ in $(seq "$rounds"); do
  echo "health $(run -H "Authorization: Bearer $key" http://127.0.0.1:$port/health)"
  echo "key $(run -H "Authorization: Bearer $key" http://127.0.0.1:$port/api/v1/whoami)"
  echo "operator $(run -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/whoami)"
done >"$results"
middle() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
median() { awk -v v="$1" -v f="$2" '$1 == v { print $f }' "$results" | middle; }
runs() { awk -v v="$1" '$1 == v { printf " %d", $2 }' "$results"; }
o=$(median health 2); k=$(median key 2); t=$(median operator 2)
# The cost within each round (key against the /health run just before it), then the median of
# those: the machine's drift between rounds cancels out, which the ratio of two medians does not.
paired=$(awk '$1 == "health" { h = $2 } $1 == "key" { print (1 - $2 / h) * 100 }' "$results" | middle)
co=$(median health 3); ck=$(median key 3); ct=$(median operator 3)
bo=$(median health 4); bk=$(median key 4); bt=$(median operator 4)
awk -v o="$o" -v k="$k" -v t="$t" -v paired="$paired" -v co="$co" -v ck="$ck" -v ct="$ct" -v bo="$bo" -v bk="$bk" -v bt="$bt" \
  -v ro="$(runs health)" -v rk="$(runs key)" -v rt="$(runs operator)" -v n="$rounds" 'BEGIN {
  printf "medians of %d rounds; hub on 1 core, wrk on the others\n", n;
  printf "unauthenticated /health:                %8.0f req/s %6.2f us CPU/req, core %4.2f busy (runs:%s)\n", o, co, bo, ro;
  printf "/api/v1/whoami with an API key:         %8.0f req/s %6.2f us CPU/req, core %4.2f busy (runs:%s)\n", k, ck, bk, rk;
  printf "/api/v1/whoami with the operator token: %8.0f req/s %6.2f us CPU/req, core %4.2f busy (runs:%s)\n", t, ct, bt, rt;
  printf "cost of key checking vs /health:        %7.1f %% of throughput, %5.1f %% of the hub CPU per request\n", (o - k) / o * 100, (ck - co) / ck * 100;
  printf "the same, median of the per-round costs:%7.1f %% of throughput (the firmer figure)\n", paired;
  printf "cost of the key look-up alone:          %7.1f %% of throughput, %5.1f %% of the hub CPU (key vs operator token)\n", (t - k) / t * 100, (ck - ct) / ck * 100 }'
