#!/usr/bin/env bash
# Runs every example in examples/ (curl, Python, Node.js, Rust) against a live hub: a fresh hub
# on a free port with its own data folder, delivering to loopback (the examples' receivers listen
# on 127.0.0.1), a tenant, and an admin key for it that each example is given as IH_API_KEY.
# Fails when any example fails; the hub is stopped at the end.
# Usage: scripts/examples.sh [hub binary, default target/debug/integrations-hub]
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
hub_bin=${1:-target/debug/integrations-hub}
[ -x "$hub_bin" ] || { echo "no hub binary at $hub_bin (cargo build -p integrations-hub)" >&2; exit 2; }
for tool in curl openssl jq python3 node; do
  command -v "$tool" >/dev/null || { echo "the examples need $tool" >&2; exit 2; }
done

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=examples-operator-$(openssl rand -hex 16)
# Slack's API is a closed port: nothing leaves the machine.
IH_DATA_DIR=$dir IH_BIND=127.0.0.1:$port IH_ADMIN_TOKEN=$token IH_ALLOW_PRIVATE_TARGETS=true \
  IH_DELIVERY_POLL_INTERVAL_SECONDS=1 IH_LOG_LEVEL=warn IH_SLACK_API_BASE=http://127.0.0.1:9/api \
  "$hub_bin" >"$dir/hub.log" 2>&1 &
hub=$!
trap 'kill $hub 2>/dev/null; wait $hub 2>/dev/null; rm -rf "$dir"' EXIT
export IH_URL=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$IH_URL/health" >/dev/null && break; sleep 0.1; done
curl -sf "$IH_URL/health" >/dev/null || { echo "the hub did not start:" >&2; cat "$dir/hub.log" >&2; exit 1; }

operator() { curl -sSf -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
tenant=$(operator -d '{"name":"examples"}' "$IH_URL/api/v1/tenants" | jq -r .id)
IH_API_KEY=$(operator -d '{"name":"examples","role":"admin"}' "$IH_URL/api/v1/tenants/$tenant/api-keys" | jq -r .key)
export IH_API_KEY

# The Rust example is compiled first, so that its time limit is for running only.
cargo build -q -p example-quickstart
failed=()
run() { # name, command...
  local name=$1
  shift
  echo "==> example: $name"
  if ! timeout 60 "$@"; then failed+=("$name"); fi
}
run curl examples/curl/quickstart.sh
run python python3 examples/python/quickstart.py
run node node examples/node/quickstart.mjs
run rust cargo run -q -p example-quickstart

if [ ${#failed[@]} -gt 0 ]; then
  echo "examples failed: ${failed[*]}" >&2
  if [ -s "$dir/hub.log" ]; then echo "the hub logged:" >&2; tail -20 "$dir/hub.log" >&2; fi
  exit 1
fi
echo "all four examples passed"
