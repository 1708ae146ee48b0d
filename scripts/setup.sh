#!/usr/bin/env bash
# Installs what building and testing the hub needs, from the package registries only
# (crates.io, npm, Debian). Idempotent: each step checks first and is skipped when done.
# `scripts/setup.sh run` installs only what building and running the hub needs (scripts/run.sh);
# with no argument (scripts/test.sh) it adds the test tools: rustfmt, Chromium and Playwright, the
# Python checkers, promtool, jq.
set -euo pipefail
cd "$(dirname "$0")/.."
for_tests=1
[ "${1:-}" = run ] && for_tests=0

CARGO_LEPTOS_VERSION=0.3.10      # 0.3.11 needs rustc >= 1.96
WASM_BINDGEN_VERSION=0.2.130     # must equal the wasm-bindgen crate pinned in Cargo.toml
BINARYEN_VERSION=132.0.0         # wasm-opt for --release builds; Debian's (108) breaks hydration
want_chromium=${IH_SETUP_CHROMIUM:-$for_tests}

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian's chromium and the end-to-end packages are downloads, not compilation: they run in the
# background while cargo compiles, and are waited for at the end.
browser_pid=
if [ "$want_chromium" = 1 ] && { ! command -v chromium >/dev/null || [ ! -d end2end/node_modules/@playwright/test ] \
  || { [ "$(id -u)" = 0 ] && ! command -v docker-compose >/dev/null; }; }; then
  browser_log=$(mktemp)
  (
    set -e
    if ! command -v chromium >/dev/null; then
      echo "==> installing Debian's chromium"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    # The Docker engine and docker-compose for the container test (scripts/check-docker.sh): from
    # Debian, as root only (the test skips itself where no engine can run, except in CI).
    if [ "$(id -u)" = 0 ] && { ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null; }; then
      echo "==> installing Debian's docker.io and docker-compose"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose >/dev/null
    fi
    if [ ! -d end2end/node_modules/@playwright/test ]; then
      echo "==> installing the end-to-end test packages (no browser download)"
      cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
    fi
  ) >"$browser_log" 2>&1 &
  browser_pid=$!
  step "installing chromium, the end-to-end packages and Docker in the background"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$for_tests" = 1 ] && ! rustup component list --installed | grep -q '^rustfmt'; then
  step "adding rustfmt (the test command checks formatting)"
  rustup component add rustfmt
fi

# The two Rust tools compile at once: each leaves a core idle for minutes (its last crates and its
# link), and the other fills it. They are build tools: their own speed hardly shows, so they build
# unoptimised, without LTO and with many codegen units (cargo-leptos's manifest asks for fat LTO and
# one codegen unit at opt-level 3: 28.6 min on two cores; at opt-level 1 without LTO 17.3 min).
tool_profile=(env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_INCREMENTAL=false)
tool_pids=()
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (several minutes the first time)"
  "${tool_profile[@]}" cargo install -q cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked &
  tool_pids+=($!)
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile names a crate version the registry no longer serves. Optimised
  # (opt-level 1): it rewrites every wasm the builds make, and it is quick to compile.
  "${tool_profile[@]}" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force &
  tool_pids+=($!)
fi
# cargo-llvm-cov measures the tests' coverage (scripts/test.sh writes target/coverage/); with the
# llvm-tools component it needs. Test mode only, beside the other two tools.
CARGO_LLVM_COV_VERSION=0.9.1
if [ "$for_tests" = 1 ]; then
  if ! rustup component list --installed | grep -q '^llvm-tools'; then
    step "adding the llvm-tools component (coverage)"
    rustup component add llvm-tools-preview
  fi
  if [ "$(cargo llvm-cov --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LLVM_COV_VERSION" ]; then
    step "installing cargo-llvm-cov $CARGO_LLVM_COV_VERSION"
    "${tool_profile[@]}" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
      cargo install -q cargo-llvm-cov --version "$CARGO_LLVM_COV_VERSION" --locked &
    tool_pids+=($!)
  fi
fi
for pid in "${tool_pids[@]}"; do
  wait "$pid" || { echo "setup: installing a Rust tool failed (output above)" >&2; exit 1; }
done

if [ "$(wasm-opt --version 2>/dev/null | grep -o '[0-9]\+' | head -1)" != "${BINARYEN_VERSION%%.*}" ]; then
  step "installing binaryen $BINARYEN_VERSION (wasm-opt) from npm"
  npm install -g "binaryen@$BINARYEN_VERSION"
fi

# Redoc's standalone bundle from npm, served by the hub at /redoc from its own assets (cargo-leptos
# copies public/ into the site): the reference works offline, with no CDN.
REDOC_VERSION=2.5.2   # 3.x ships its standalone bundle as an ES module that no longer reads <redoc>
if ! grep -qs "$REDOC_VERSION" public/redoc/VERSION; then
  step "fetching the redoc $REDOC_VERSION bundle from npm into public/redoc/"
  redoc_tmp=$(mktemp -d)
  (cd "$redoc_tmp" && npm pack --silent "redoc@$REDOC_VERSION" >/dev/null && tar xzf redoc-*.tgz)
  mkdir -p public/redoc
  cp "$redoc_tmp/package/bundles/redoc.standalone.js" "$redoc_tmp/package/LICENSE" public/redoc/
  echo "$REDOC_VERSION" > public/redoc/VERSION
  rm -rf "$redoc_tmp"
fi

if [ "$for_tests" = 0 ]; then
  exit 0
fi

# Python tools from PyPI, each into a virtualenv of its own, pinned with every dependency (a newer
# one may add checks, or break, under a green build); reinstalled when its requirements change.
pinned_venv() { # folder, requirements file, what it is
  if ! cmp -s "$2" "$1/installed-requirements.txt"; then
    step "installing $3 as pinned in $2 (PyPI, into $1)"
    rm -rf "$1"
    python3 -m venv "$1"
    "$1/bin/pip" install -q --disable-pip-version-check -r "$2"
    cp "$2" "$1/installed-requirements.txt"
  fi
}
# schemathesis fuzzes the REST API against its OpenAPI document (scripts/fuzz-api.sh).
pinned_venv .venv-fuzz scripts/fuzz-requirements.txt "schemathesis and its dependencies"
# openapi-spec-validator checks the OpenAPI document (scripts/test.sh).
pinned_venv .venv-spec scripts/spec-requirements.txt "openapi-spec-validator and its dependencies"

if [ -n "$browser_pid" ]; then
  if ! wait "$browser_pid"; then
    cat "$browser_log" >&2
    echo "setup: installing chromium or the end-to-end packages failed (output above)" >&2
    exit 1
  fi
  cat "$browser_log"
  rm -f "$browser_log"
fi

# promtool checks and unit-tests the Prometheus alert rules (scripts/check-monitoring.sh). After
# the background job, which may hold apt's lock; the package lists it fetched serve here too, and
# they are fetched when missing or stale. Without recommends: not the node exporter and its timers.
if ! command -v promtool >/dev/null; then
  step "installing Debian's prometheus package (promtool)"
  apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
  apt_install 2>/dev/null || { apt-get update -qq && apt_install; }
fi

# jq reads the echo inspector's answers in the curl example (scripts/examples.sh).
if ! command -v jq >/dev/null; then
  step "installing Debian's jq (the curl example)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >/dev/null; }
fi
