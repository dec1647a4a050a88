#!/usr/bin/env bash
# Base images from Debian packages, for a site that can reach a Debian mirror but no image registry.
#
#   sudo deploy/local-images.sh          # builds what is missing, then prints the .env lines that use them
#
# It makes, each only when `docker image inspect` does not find it already:
#   els-local/debian:bookworm     debootstrap --variant=minbase, without docs, man pages and apt lists
#   els-local/python:3.11         + python3 (3.11 on bookworm) and the CA certificates of this machine
#   els-local/uv:<version>        the uv binary on PATH (or UV_BIN), alone, for ghcr.io/astral-sh/uv
#   els-local/redis:7             + redis-server (7.0 on bookworm), running as the redis user in /data
#   els-local/postgres:15         + PostgreSQL 15, initialised from POSTGRES_USER/PASSWORD/DB like the
#                                 official image (deploy/images/postgres/entrypoint.sh)
# The vfs storage driver copies a whole image for every container, so each stays small and is one layer
# on top of the base. Settings: DEBIAN_SUITE, DEBIAN_MIRROR, ELS_LOCAL_PREFIX, ELS_EXTRA_CA_DIR (site CA
# certificates to trust, e.g. a TLS-inspecting proxy's; default /usr/local/share/ca-certificates).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
suite="${DEBIAN_SUITE:-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
prefix="${ELS_LOCAL_PREFIX:-els-local}"
ca_dir="${ELS_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"

have() { docker image inspect "$1" >/dev/null 2>&1; }
say() { printf '==> %s\n' "$*" >&2; }

base="$prefix/debian:$suite"
if ! have "$base"; then
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
  say "debootstrap $suite from $mirror -> $base"
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >&2
  # Keep documentation out of this layer and of every package installed on top of it.
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-lean" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
CFG
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/01-lean"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root"/usr/share/{man,info,locale}/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
    "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
  chmod 755 "$root"  # mktemp made it 0700: no user but root could reach a file
  tar -C "$root" --numeric-owner -c . | docker import -c 'CMD ["bash"]' - "$base" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi

build() { # tag, directory, extra docker build arguments...
  local tag="$1" dir="$2"
  shift 2
  if have "$tag"; then return; fi
  say "building $tag"
  docker build --network host --build-arg "BASE=$base" -t "$tag" "$@" "$dir" >&2
}

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$here/images/python/Dockerfile" "$ctx/"
mkdir -p "$ctx/ca"
if [ -d "$ca_dir" ]; then find "$ca_dir" -maxdepth 1 -name '*.crt' -exec cp {} "$ctx/ca/" \;; fi
build "$prefix/python:3.11" "$ctx"
build "$prefix/redis:7" "$here/images/redis"
build "$prefix/postgres:15" "$here/images/postgres"

uv_bin="${UV_BIN:-$(command -v uv || true)}"
# pyenv and the like put a shell shim on PATH: ask them for the real binary.
if [ -n "$uv_bin" ] && [ "$(head -c 4 "$uv_bin" | od -An -c | tr -d ' ')" != "177ELF" ]; then
  uv_bin="$(pyenv which uv 2>/dev/null || true)"
fi
[ -n "$uv_bin" ] && [ -x "$uv_bin" ] || { echo "no uv binary found: install uv (or set UV_BIN) and run again" >&2; exit 1; }
uv_version="$("$uv_bin" --version | awk '{print $2}')"
uv_tag="$prefix/uv:$uv_version"
if ! have "$uv_tag"; then
  say "packing $uv_bin as $uv_tag"
  cp "$uv_bin" "$ctx/uv"
  printf 'FROM scratch\nCOPY uv /uv\n' >"$ctx/Dockerfile.uv"
  docker build -t "$uv_tag" -f "$ctx/Dockerfile.uv" "$ctx" >&2
fi

cat <<ENV
# Local base images (deploy/local-images.sh); add these lines to .env.
PYTHON_IMAGE=$prefix/python:3.11
UV_IMAGE=$uv_tag
REDIS_IMAGE=$prefix/redis:7
POSTGRES_IMAGE=$prefix/postgres:15
ENV
