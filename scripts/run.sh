#!/usr/bin/env bash
# Sets up what is missing, builds the release binary and the wasm UI, and starts the hub on
# SQLite in ./data. Prints the URL and, on the first start, the operator token.
set -euo pipefail
cd "$(dirname "$0")/.."
export IH_DATA_DIR="${IH_DATA_DIR:-$PWD/data}"
export IH_SITE_ROOT="${IH_SITE_ROOT:-$PWD/target/site}"

# On a fresh machine the tools (cargo-leptos, wasm-bindgen-cli) take most of the first run. The
# hub's own dependencies do not need them: they compile meanwhile, with the profiles and features
# `cargo leptos build --release` uses, so it finds them built. Whatever that build does differently
# it redoes, so this only ever saves time.
prebuild_pid=
if ! command -v cargo-leptos >/dev/null || ! command -v wasm-bindgen >/dev/null; then
  prebuild_log=$(mktemp)
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  (
    nice cargo build -q --release --package=integrations-hub --bin=integrations-hub --no-default-features
    # cargo-leptos builds the wasm in target/front.
    nice cargo build -q --profile wasm-release --package=frontend --lib --target-dir=target/front \
      --target=wasm32-unknown-unknown --no-default-features
  ) >"$prebuild_log" 2>&1 &
  prebuild_pid=$!
fi
scripts/setup.sh run
if [ -n "$prebuild_pid" ]; then
  # A failure here is reported by the build below, with its own output.
  wait "$prebuild_pid" || echo "(the early build stopped; cargo leptos build finishes the work)"
  rm -f "$prebuild_log"
fi
cargo leptos build --release
exec target/release/integrations-hub
