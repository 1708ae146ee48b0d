#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis against the OpenAPI document the hub serves: no answer
# may be a 5xx, and every answer must have a documented status, content type, headers and
# shape. A debug hub runs on an empty SQLite file with a little data (a tenant, a key, an
# endpoint, an event and its delivery) whose ids the routes with ids are called with, so that
# they reach their logic rather than a 404. Two passes, each with data of its own: with the
# operator token, then with a tenant admin key.
# Not checked: that every request fitting the schemas is accepted (cross-field rules such as
# "a role or scopes" and a cursor being one the list gave cannot be written in a schema), and
# that every request not fitting them is refused (a query parameter left empty is read as left
# out, by design). The two test-send routes are left out: they send to the URL at once, and a
# fuzzed URL may be anywhere on the internet.
# Usage: scripts/fuzz-api.sh [examples per operation]; HUB=<binary> fuzzes another build.
set -euo pipefail
# A failing step inside $(...) (a fixture not created) stops the script instead of passing an
# empty id or key on.
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
examples=${1:-25}
st=.venv-fuzz/bin/schemathesis
[ -x "$st" ] || { echo "needs schemathesis: scripts/setup.sh installs it" >&2; exit 2; }
if [ -z "${HUB:-}" ]; then cargo build -p integrations-hub -q; HUB=target/debug/integrations-hub; fi
# A port free now, chosen by the kernel: a fixed one (39874 until 2026-12-03) lies in the
# ephemeral range, where the tests' own outbound connections can hold it (seen: "Address already
# in use" in CI).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d); token=fuzz-operator-token-000000000000000
# The worker is off (deliveries stay queued) and Slack's API is a closed port: nothing leaves.
IH_DATA_DIR=$dir IH_BIND=127.0.0.1:$port IH_ADMIN_TOKEN=$token IH_LOG_LEVEL=warn \
  IH_DELIVERY_WORKER_DISABLED=true IH_SLACK_API_BASE=http://127.0.0.1:9/api "$HUB" >"$dir/hub.log" 2>&1 &
hub=$!; trap 'kill $hub 2>/dev/null; rm -rf "$dir"' EXIT
base=http://127.0.0.1:$port
# Up to a minute for the first start (migrations on a fresh file; a busy CI machine); a hub that
# never answers stops the run here with its log, not later with an empty fixture.
for _ in $(seq 600); do curl -sf $base/health >/dev/null && break; sleep 0.1; done
curl -sf $base/health >/dev/null || { echo "the hub did not start on $base:" >&2; cat "$dir/hub.log" >&2; exit 1; }
api() { curl -sf -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
# Which id each route with an `{id}` is called with (the regexes are TOML strings).
ids() {
  printf '\n[[operations]]\ninclude-path-regex = "%s"\n' "$1"
  [ -z "${3:-}" ] || printf '%s\n' "$3"
  printf 'parameters = { "path.id" = "%s" }\n' "$2"
}
# A tenant with a little data for one pass, and the configuration that points the routes at it;
# prints the tenant's id. Each pass gets a fresh set: the one before may have deleted what it
# was given.
fixtures() {  # config file
  local tenant key webhook doomed_webhook doomed_key published event delivery
  tenant=$(api -d '{"name":"fuzz"}' $base/api/v1/tenants | field '["id"]')
  key=$(api -d '{"name":"fuzz","role":"admin"}' $base/api/v1/tenants/$tenant/api-keys | field '["id"]')
  endpoint() { api -d "{\"url\":\"$base/echo/$tenant/fuzz\",\"events\":[\"*\"]}" $base/api/v1/tenants/$tenant/webhooks | field '["id"]'; }
  webhook=$(endpoint)
  # Deleting gets ids of its own, so that the other routes keep theirs alive.
  doomed_webhook=$(endpoint)
  doomed_key=$(api -d '{"name":"doomed","role":"read_only"}' $base/api/v1/tenants/$tenant/api-keys | field '["id"]')
  published=$(api -d '{"event_type":"order.created","payload":{"n":1}}' $base/api/v1/tenants/$tenant/events)
  event=$(echo "$published" | field '["id"]'); delivery=$(echo "$published" | field '["deliveries"][0]')
  {
    printf '[parameters]\n"path.tenant_id" = "%s"\n"path.event_id" = "%s"\n' "$tenant" "$event"
    ids 'api-keys/\\{id\\}$' "$doomed_key" 'include-method = "DELETE"'
    ids 'api-keys/\\{id\\}' "$key" 'exclude-method = "DELETE"'
    ids 'webhooks/\\{id\\}$' "$doomed_webhook" 'include-method = "DELETE"'
    ids 'webhooks/\\{id\\}' "$webhook" 'exclude-method = "DELETE"'
    ids '(webhook-deliveries|dead-letters)/\\{id\\}' "$delivery"
    ids 'events/\\{id\\}' "$event"
  } >"$1"
  echo "$tenant"
}
# Run from the scratch folder: schemathesis keeps its example database in the working folder.
st=$PWD/$st
cd "$dir"
fuzz() {  # credential, config file
  "$st" --config-file "$2" run "$base/api-docs/openapi.json" \
    -H "Authorization: Bearer $1" --seed 20261125 --generation-deterministic -n "$examples" --workers 2 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --exclude-path-regex '/test$'
}
status=0
fixtures "$dir/operator.toml" >/dev/null
fuzz "$token" "$dir/operator.toml" || status=$?
# The same with a tenant's admin key: the routes that take the tenant from the key (POST
# /api/v1/events, the compatibility routes) reach their logic only so, and every answer to a key
# (403 from the operator's routes, say) must be documented too. The key is not the fixture key,
# which the routes revoke and rotate.
echo "==> the same with a tenant admin key"
tenant=$(fixtures "$dir/key.toml")
admin_key=$(api -d '{"name":"fuzzer","role":"admin","rate_limit_per_minute":1000000}' \
  $base/api/v1/tenants/$tenant/api-keys | field '["key"]')
fuzz "$admin_key" "$dir/key.toml" || status=$?
if [ "$status" != 0 ] && grep -q ' ERROR ' "$dir/hub.log"; then
  echo "the hub logged:"; grep ' ERROR ' "$dir/hub.log" | tail -20
fi
exit "$status"
