#!/usr/bin/env bash
# The Docker step of .ci/run: the compose smoke test (deploy/smoke.sh) on a Docker engine.
# Run as root with apt, it installs what is missing (docker.io, docker-compose, debootstrap) and starts
# dockerd (vfs storage, no iptables) when none answers. Without an engine it prints that the smoke test
# was skipped, and why: never a silent pass. ELS_CI_DOCKER=0 skips it on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
docker_up() { docker info >/dev/null 2>&1; }
docker_skip=""
if [ "${ELS_CI_DOCKER:-1}" = "0" ]; then
  docker_skip="ELS_CI_DOCKER=0"
elif ! docker_up; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for package in docker.io docker-compose debootstrap; do
      dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
    done
    if [ -n "$missing" ]; then
      echo "installing$missing"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null; }
    fi
  fi
  if command -v dockerd >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "starting dockerd (vfs storage, no iptables; log: /var/log/dockerd.log)"
    # No iptables here: bridges have no way out, so images build with --network host (deploy/smoke.sh).
    setsid dockerd --storage-driver vfs --iptables=false --ip-masq=false \
      >/var/log/dockerd.log 2>&1 </dev/null &
    for _ in $(seq 60); do docker_up && break; sleep 1; done
  fi
  docker_up || docker_skip="no Docker engine answers (see /var/log/dockerd.log, or run as root with apt)"
fi
if [ -n "$docker_skip" ]; then
  printf '\n*** SKIPPED: the compose smoke test did not run: %s ***\n' "$docker_skip"
else
  started=$SECONDS
  bash deploy/smoke.sh
  echo "compose smoke test passed in $((SECONDS - started)) s"
fi
