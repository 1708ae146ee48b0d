#!/usr/bin/env bash
# Installs what building and testing the hub needs, from the package registries only
# (crates.io, npm, Debian). Idempotent: each step checks first and is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10      # 0.3.11 needs rustc >= 1.96
WASM_BINDGEN_VERSION=0.2.130     # must equal the wasm-bindgen crate pinned in Cargo.toml
BINARYEN_VERSION=132.0.0         # wasm-opt for --release builds; Debian's (108) breaks hydration
want_chromium=${IH_SETUP_CHROMIUM:-1}

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Debian's chromium and the end-to-end packages are downloads, not compilation: they run in the
# background while cargo compiles, and are waited for at the end.
browser_pid=
if [ "$want_chromium" = 1 ] && { ! command -v chromium >/dev/null || [ ! -d end2end/node_modules/@playwright/test ]; }; then
  browser_log=$(mktemp)
  (
    set -e
    if ! command -v chromium >/dev/null; then
      echo "==> installing Debian's chromium"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    if [ ! -d end2end/node_modules/@playwright/test ]; then
      echo "==> installing the end-to-end test packages (no browser download)"
      cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
    fi
  ) >"$browser_log" 2>&1 &
  browser_pid=$!
  step "installing chromium and the end-to-end packages in the background"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! rustup component list --installed | grep -q '^rustfmt'; then
  step "adding rustfmt (the test command checks formatting)"
  rustup component add rustfmt
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION (several minutes the first time)"
  # Its manifest asks for fat LTO and one codegen unit at opt-level 3, which made the install
  # the slowest step of a fresh set-up on two cores (measured: 28.6 min with them, 19.2 min
  # without LTO, 17.3 min at opt-level 1); a build tool does not need that last bit of speed.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lockfile names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

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
