#!/usr/bin/env bash
# Integrations Hub quick start with curl, openssl and jq.
#
# Subscribes an endpoint to `new_lead`, publishes a lead, and verifies both signatures of the
# delivery (Standard Webhooks and the classic X-Webhook-Signature) with openssl. A shell cannot
# listen on a port by itself, so the receiver is the hub's built-in echo inspector: it keeps each
# request's headers and raw body, and this script checks them exactly as your receiver would.
# Exits 0 when the delivery arrived and verified.
# Env: IH_URL (default http://127.0.0.1:3000), IH_API_KEY.
set -euo pipefail
hub=${IH_URL:-http://127.0.0.1:3000}
hub=${hub%/}
: "${IH_API_KEY:?set IH_API_KEY to an API key (sk_...)}"
tolerance=300 # seconds: refuse deliveries signed more than 5 minutes from now

api() { # method path [json body]
  local out
  if ! out=$(curl -sS --fail-with-body -X "$1" "$hub$2" -H "Authorization: Bearer $IH_API_KEY" \
    -H 'content-type: application/json' ${3:+--data "$3"}); then
    echo "$1 $2: ${out:-no answer from $hub}" >&2
    return 1
  fi
  printf '%s' "$out"
}
hex() { od -An -v -tx1 | tr -d ' \n'; }
hmac_sha256() { openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary; } # key in hex; message on stdin
fresh() { local age=$(($(date +%s) - $1)); [ "${age#-}" -le "$tolerance" ]; }

tenant=$(api GET /api/v1/whoami | jq -r .tenant_id)
[ "$tenant" != null ] || { echo "IH_API_KEY must be a tenant's API key, not the operator token" >&2; exit 1; }
echo_url=$(api GET "/api/v1/tenants/$tenant/echo" | jq -r .url)

# The key-scoped route: the endpoint belongs to the key's tenant. The hub generates a `whsec_`
# secret, which the endpoint's secret route reveals.
webhook=$(api POST /api/v1/subscriptions "{\"url\":\"$echo_url\",\"events\":[\"new_lead\"]}" | jq -r .id)
path=/api/v1/tenants/$tenant/webhooks/$webhook
work=$(mktemp -d)
trap 'api DELETE "$path" >/dev/null; rm -rf "$work"' EXIT
echo "endpoint $webhook -> $echo_url"
secret=$(api GET "$path/secret" | jq -r .secret)

lead='{"lead_id":"lead_42","name":"Ada Lovelace","email":"ada@example.com","company":"Analytical Engines","source":"curl-quickstart"}'
event=$(api POST /api/v1/events "{\"event_type\":\"new_lead\",\"payload\":$lead}" | jq -r .id)
echo "published $event"

# Wait (30 s at most) for the echo inspector to have received it.
for _ in $(seq 30); do
  api GET "/api/v1/tenants/$tenant/echo" |
    jq --arg id "$event" 'first(.data[] | select(.headers["webhook-id"] == $id)) // empty' >"$work/request"
  [ -s "$work/request" ] && break
  sleep 1
done
[ -s "$work/request" ] || { echo "no delivery within 30 s" >&2; exit 1; }
header() { jq -r --arg name "$1" '.headers[$name] // ""' "$work/request"; }
jq -j .body "$work/request" >"$work/body" # the raw body: what the signatures cover
id=$(header webhook-id) ts=$(header webhook-timestamp)
echo "received webhook-id $id: $(cat "$work/body")"

# Standard Webhooks: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">, space-separated. The
# key is the base64 after `whsec_`, or a custom secret's own bytes.
if [[ $secret == whsec_* ]]; then key=$(printf '%s' "${secret#whsec_}" | base64 -d | hex); else key=$(printf '%s' "$secret" | hex); fi
expected="v1,$({ printf '%s.%s.' "$id" "$ts"; cat "$work/body"; } | hmac_sha256 "$key" | base64 -w0)"
standard=INVALID
# A shell has no constant-time comparison: a receiver on the internet should use its language's
# (hmac.compare_digest, crypto.timingSafeEqual, Mac::verify_slice).
for sig in $(header webhook-signature); do [ "$sig" = "$expected" ] && fresh "$ts" && standard=valid; done

# Classic: hex HMAC-SHA256 of "{timestamp}.{body}", keyed by the secret string's bytes.
ts=$(header x-webhook-timestamp)
expected=$({ printf '%s.' "$ts"; cat "$work/body"; } | hmac_sha256 "$(printf '%s' "$secret" | hex)" | hex)
classic=INVALID
[ "$(header x-webhook-signature)" = "$expected" ] && fresh "$ts" && classic=valid

echo "Standard Webhooks signature: $standard"
echo "X-Webhook-Signature:         $classic"
[ "$standard" = valid ] && [ "$classic" = valid ] || { echo "verification failed" >&2; exit 1; }
[ "$(jq -r .data.email "$work/body")" = ada@example.com ] || { echo "the payload differs from what was published" >&2; exit 1; }
echo ok
