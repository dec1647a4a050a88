#!/usr/bin/env bash
# The compose smoke test: builds the image, starts the whole stack on 127.0.0.1, drives a batch over HTTP
# (six uploads, Flower, a killed worker, a Redis restart, a deadline expired by beat), tears it down.
#
#   deploy/smoke.sh            # needs a Docker engine and compose (`docker compose` or `docker-compose`)
#
# Where the default base images are not here and cannot be pulled, deploy/local-images.sh builds
# stand-ins from Debian first (once: it keeps what `docker image inspect` finds).
set -euo pipefail
cd "$(dirname "$0")/.."

docker info >/dev/null 2>&1 || { echo "no Docker engine answers (docker info failed)" >&2; exit 1; }
have() { docker image inspect "$1" >/dev/null 2>&1; }
if ! { have python:3.11-slim && have redis:7.4 && have postgres:16; } \
  && ! { docker pull -q python:3.11-slim && docker pull -q redis:7.4 && docker pull -q postgres:16; } >/dev/null 2>&1
then
  echo "==> no registry: local base images (deploy/local-images.sh)" >&2
  bash deploy/local-images.sh >/dev/null
fi
ELS_DEPLOY_SMOKE=1 exec uv run pytest -m deploy tests/deploy -v -p no:cacheprovider "$@"
