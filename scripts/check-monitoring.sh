#!/usr/bin/env bash
# Checks the alert rules and the Grafana dashboard (deploy/) against the hub:
# - `promtool check rules` validates the rules (their PromQL and annotation templates), `promtool
#   check config` the example Prometheus configuration, and `promtool test rules` runs the
#   rules' unit tests (deploy/prometheus/alerts.test.yml) on a copy without annotations
#   (promtool compares those verbatim);
# - a hub started here on an empty SQLite folder (IH_DATABASE_URL unset) is scraped, `promtool
#   check metrics` lints its /metrics, and scripts/check-monitoring.py fails if the dashboard or
#   the rules name a series, or a label value in a matcher, that the scrape does not have; it
#   also gives the dashboard's expressions to promtool for their syntax.
# Every metric family the hub has is written on every scrape, with zeros before anything
# happened (server/src/metrics.rs renders them all), so an idle hub exports every name.
# Usage: scripts/check-monitoring.sh [hub binary]   (default target/debug/integrations-hub)
set -euo pipefail
cd "$(dirname "$0")/.."
hub_bin=${1:-target/debug/integrations-hub}
command -v promtool >/dev/null || {
  echo "needs promtool (Debian's prometheus package): scripts/setup.sh installs it" >&2; exit 2; }
[ -x "$hub_bin" ] || { echo "no hub binary at $hub_bin: build it first (cargo leptos build)" >&2; exit 2; }
rules=deploy/prometheus/alerts.yml
dashboard=deploy/grafana/integrations-hub.json

dir=$(mktemp -d)
hub=
cleanup() {
  if [ -n "$hub" ]; then kill "$hub" 2>/dev/null || true; wait "$hub" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

echo "--> promtool check rules $rules"
promtool check rules "$rules"
echo "--> promtool check config deploy/prometheus/prometheus.yml"
promtool check config deploy/prometheus/prometheus.yml
echo "--> promtool test rules (deploy/prometheus/alerts.test.yml)"
python3 scripts/check-monitoring.py --strip-annotations "$rules" >"$dir/alerts.yml"
cp deploy/prometheus/alerts.test.yml "$dir/"
promtool test rules "$dir/alerts.test.yml"

echo "--> scraping /metrics of $hub_bin"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$dir/data" "$dir/site"
IH_DATA_DIR=$dir/data IH_SITE_ROOT=$dir/site IH_BIND=127.0.0.1:$port IH_LOG_LEVEL=warn \
  IH_ADMIN_TOKEN=monitoring-check-operator-token-0000 IH_ALLOW_PRIVATE_TARGETS=true \
  env -u IH_DATABASE_URL "$hub_bin" >"$dir/hub.log" 2>&1 &
hub=$!
base=http://127.0.0.1:$port
for _ in $(seq 300); do
  curl -sf "$base/health" >/dev/null && break
  kill -0 "$hub" 2>/dev/null || break
  sleep 0.1
done
if ! curl -sf "$base/health" >/dev/null; then
  echo "the hub did not answer /health on port $port; its log:" >&2; cat "$dir/hub.log" >&2; exit 1
fi
curl -sf "$base/metrics" >"$dir/metrics.txt"
echo "    $(grep -c '^# TYPE' "$dir/metrics.txt") metric families, $(grep -vc '^#' "$dir/metrics.txt") samples"

echo "--> promtool check metrics"
promtool check metrics <"$dir/metrics.txt"

echo "--> the series the dashboard and the rules name, against the scrape"
python3 scripts/check-monitoring.py --promtool promtool "$dir/metrics.txt" "$dashboard" "$rules"
