#!/usr/bin/env bash
# The container image on a real Docker engine (scripts/check-docker.py says what is checked). The
# engine is started when it is installed but not running and we are root; without one the check
# is skipped with a note, unless IH_REQUIRE_DOCKER=1 (CI), which makes that a failure. Packages the
# debug build that the test command has just made (the image is otherwise the release one).
set -euo pipefail
cd "$(dirname "$0")/.."

unavailable() {
  if [ "${IH_REQUIRE_DOCKER:-0}" = 1 ]; then
    echo "check-docker: $1 (IH_REQUIRE_DOCKER=1)" >&2
    exit 1
  fi
  echo "==> skipped: $1"
  exit 0
}

if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || unavailable "no Docker engine (apt-get install docker.io)"
  [ "$(id -u)" = 0 ] || unavailable "the Docker engine is not running and only root may start it"
  echo "==> starting dockerd (log: /tmp/ih-dockerd.log)"
  nohup dockerd >/tmp/ih-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -20 /tmp/ih-dockerd.log >&2; unavailable "dockerd did not start"; }
fi

echo "free disk space: $(df -h --output=avail "$(docker info -f '{{.DockerRootDir}}')" | tail -1 | tr -d ' ')" \
  "for the engine, $(df -h --output=avail . | tail -1 | tr -d ' ') for the checkout"
IH_IMAGE=integrations-hub:test scripts/docker-build.sh --debug
# The test image is removed afterwards (pass or fail): CI machines are not for keeping images.
trap 'docker image rm -f integrations-hub:test >/dev/null 2>&1 || true' EXIT
python3 scripts/check-docker.py integrations-hub:test
