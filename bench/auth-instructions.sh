#!/usr/bin/env bash
# The same comparison as bench/auth.sh, counted in instructions instead of seconds: the hub runs
# under callgrind (one worker thread) and each variant sends N keep-alive requests, one at a
# time. Instruction counts repeat to about 1 % whatever else the machine does, so they show
# a change that throughput, which moves ±15 % between runs on a shared VM, cannot.
# Counts user space only (no kernel), and valgrind's CPU has no SHA extensions, so SHA-256 is
# counted in its software form (~3,100 instructions more than on a CPU with SHA-NI).
# Needs valgrind and python3. Usage: bench/auth-instructions.sh [requests per variant]
# KEEP=<dir> keeps the three profiles (health, key, operator, in that order) for
# callgrind_annotate; bench/instructions-diff.py lists the functions that differ between two.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3000}
command -v valgrind >/dev/null || { echo "needs valgrind: apt-get install valgrind" >&2; exit 2; }
if [ -z "${HUB:-}" ]; then cargo build --release -p integrations-hub -q; HUB=target/release/integrations-hub; fi
dir=$(mktemp -d); port=39872; token=bench-operator-token-000000000000
# The delivery worker is off: its timed polls of the database, not part of a request, landed in
# the counted window in varying numbers (key costs spread over ±300 instructions between runs).
TOKIO_WORKER_THREADS=1 IH_DATA_DIR=$dir IH_BIND=127.0.0.1:$port IH_ADMIN_TOKEN=$token IH_LOG_LEVEL=warn \
  IH_OPERATOR_RATE_LIMIT_PER_MINUTE=100000000 IH_DELIVERY_WORKER_DISABLED=true \
  valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p" "$HUB" >/dev/null 2>"$dir/valgrind.log" &
hub=$!; trap 'kill $hub 2>/dev/null; wait $hub 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 300); do curl -sf localhost:$port/health >/dev/null && break; sleep 0.2; done
api() { curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
tenant=$(api -d '{"name":"bench"}' localhost:$port/api/v1/tenants | sed 's/.*"id":"\([^"]*\)".*/\1/')
key=$(api -d '{"name":"bench","role":"read_only","rate_limit_per_minute":1000000}' \
  localhost:$port/api/v1/tenants/$tenant/api-keys | sed 's/.*"key":"\([^"]*\)".*/\1/')
requests() {  # path credential count: keep-alive GETs, each must answer 200
  python3 - "$port" "$@" <<'PY'
import http.client, sys
port, path, credential, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
connection = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    connection.request("GET", path, headers={"Authorization": "Bearer " + credential})
    response = connection.getresponse()
    response.read()
    assert response.status == 200, (path, response.status)
PY
}
requests /api/v1/whoami "$key" 100   # the key is in the cache from here on
per_request() {  # instructions per request between a zeroing and a dump of the counters
  callgrind_control -z $hub >/dev/null 2>&1
  requests "$1" "$2" "$n"
  callgrind_control -d $hub >/dev/null 2>&1
  for _ in $(seq 50); do [ "$(ls "$dir"/callgrind.* | wc -l)" -gt "$dumps" ] && break; sleep 0.1; done
  dumps=$((dumps + 1))
  awk -v n="$n" '/^totals:/ { printf "%.0f", $2 / n }' "$(ls -t "$dir"/callgrind.*.* | head -1)"
}
dumps=$(ls "$dir"/callgrind.* | wc -l)
h=$(per_request /health "$key"); k=$(per_request /api/v1/whoami "$key"); o=$(per_request /api/v1/whoami "$token")
if [ -n "${KEEP:-}" ]; then
  mkdir -p "$KEEP"; names=(health key operator); i=0
  for f in $(ls -tr "$dir"/callgrind.*.*); do cp "$f" "$KEEP/${names[i]}.callgrind"; i=$((i + 1)); done
fi
printf "instructions per request (user space, %d requests each)\n" "$n"
printf "unauthenticated /health:                %8d\n" "$h"
printf "/api/v1/whoami with an API key:         %8d  (+%d, %.1f %% more)\n" "$k" $((k - h)) "$(echo "($k - $h) * 100 / $h" | bc -l)"
printf "/api/v1/whoami with the operator token: %8d  (+%d)\n" "$o" $((o - h))
