#!/usr/bin/env bash
# Sets up what is missing, builds the release binary and the wasm UI, and starts the hub on
# SQLite in ./data. Prints the URL and, on the first start, the operator token.
set -euo pipefail
cd "$(dirname "$0")/.."
IH_SETUP_CHROMIUM=0 scripts/setup.sh
cargo leptos build --release
export IH_DATA_DIR="${IH_DATA_DIR:-$PWD/data}"
export IH_SITE_ROOT="${IH_SITE_ROOT:-$PWD/target/site}"
exec target/release/integrations-hub
