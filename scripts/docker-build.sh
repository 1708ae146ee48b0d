#!/usr/bin/env bash
# Builds the container image `integrations-hub:latest` (or IH_IMAGE): compiles the hub and its UI
# on the host (cargo leptos build --release), then packages them with the Dockerfile. When the
# Dockerfile's base image cannot be pulled (no registry), a local equivalent is made from this
# machine's files (scripts/docker-base.sh). `scripts/docker-build.sh --debug` packages the debug
# build instead (what the tests use: it is already built by then).
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IH_IMAGE:-integrations-hub:latest}
profile=release
[ "${1:-}" = --debug ] && profile=debug

if [ "$profile" = release ]; then
  scripts/setup.sh run
  cargo leptos build --release
fi
[ -x "target/$profile/integrations-hub" ] && [ -d target/site/pkg ] || {
  echo "docker-build: target/$profile/integrations-hub or target/site is missing (cargo leptos build first)" >&2
  exit 1
}

# IH_DOCKER_BASE names another base; integrations-hub-base:local always makes one from this
# machine's files (for a host whose glibc is newer than Debian 12's, say).
local_base=integrations-hub-base:local
base=${IH_DOCKER_BASE:-gcr.io/distroless/cc-debian12:nonroot}
if [ "$base" = "$local_base" ] || { ! docker image inspect "$base" >/dev/null 2>&1 && ! docker pull -q "$base" >/dev/null 2>&1; }; then
  [ "$base" = "$local_base" ] || echo "docker-build: cannot pull $base; making a local equivalent from this machine's files"
  base=$local_base
  scripts/docker-base.sh "target/$profile/integrations-hub" "$base"
fi
# The build context gets a stripped copy of the binary: the debug build with its symbols is over
# 500 MB, which filled a CI machine's disk once as it was copied into the context and the layer.
mkdir -p target/docker
if command -v strip >/dev/null; then
  strip -o target/docker/integrations-hub "target/$profile/integrations-hub"
else
  cp "target/$profile/integrations-hub" target/docker/integrations-hub
fi
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build -q --build-arg "BASE_IMAGE=$base" -t "$image" . >/dev/null
echo "built $image ($profile, on $base): $(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec) "
