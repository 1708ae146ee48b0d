#!/usr/bin/env bash
# Runs every test: unit and integration tests on SQLite, the same integration tests on
# PostgreSQL when IH_TEST_DATABASE_URL is set (CI sets it; an unreachable server fails the
# run), a fuzz of the REST API against its OpenAPI document, the alert rules and the Grafana
# dashboard against the built hub's /metrics, the examples (examples/) against a live hub, the
# container image on a Docker engine (skipped where none can run, except in CI), then the
# Playwright tests in Debian's Chromium against a freshly built hub.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

if [ -n "${IH_TEST_DATABASE_URL:-}" ]; then
  echo "==> PostgreSQL suite enabled: ${IH_TEST_DATABASE_URL%%\?*}"
else
  echo "==> IH_TEST_DATABASE_URL is not set: the PostgreSQL suite is skipped (CI always sets it)"
fi

echo "==> formatting (cargo fmt --check; run cargo fmt --all to fix)"
cargo fmt --all --check

echo "==> Rust tests (unit, integration), measured for coverage (cargo llvm-cov)"
# One instrumented build (in target/llvm-cov-target) runs every unit and integration test; the
# hubs the tests start are that build's binary, so their code counts too. The HTML report goes to
# target/coverage/html/, the total to target/coverage/summary.txt and the log.
cargo llvm-cov --no-report -p integrations-hub -p app
mkdir -p target/coverage
cargo llvm-cov report --html --output-dir target/coverage
cargo llvm-cov report --summary-only | tee target/coverage/summary.txt | tail -n 1 \
  | awk '{print "==> coverage (lines): " $10 " of lines, " $4 " of regions, " $7 " of functions"}'

echo "==> validating the OpenAPI document (openapi-spec-validator)"
.venv-spec/bin/openapi-spec-validator docs/openapi.json

echo "==> fuzzing the REST API against its OpenAPI document (schemathesis)"
scripts/fuzz-api.sh

echo "==> building the hub and its wasm UI"
cargo leptos build

echo "==> monitoring: alert rules and dashboard against /metrics"
scripts/check-monitoring.sh

echo "==> the examples against a live hub"
scripts/examples.sh

echo "==> the container image on a real Docker engine"
scripts/check-docker.sh

echo "==> Playwright in Chromium"
(cd end2end && npx playwright test)
