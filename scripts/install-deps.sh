#!/usr/bin/env bash
# Installs what Tusk needs on Debian bookworm, idempotently:
#   runtime  php-fpm 8.2 (built with DTrace), nginx, MariaDB, WordPress — the demo stack
#   test     + bpftool, binutils, wrk, clang/libbpf (BPF regeneration check), php8.2-dev (offsets),
#              debootstrap (PHP 7.4/8.4 chroots, tests/chroots), redis-server, memcached and PHP's
#              curl, redis and memcached extensions (the fixture's io/ pages: SQL/HTTP/cache spans),
#              chromium and fonts (the plugin's pages in a real browser: tests/integration/ui_test.go)
#   node     + the npm packages of the Grafana plugin (npm ci)
# Usage: install-deps.sh [runtime|test|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

runtime_pkgs=(php8.2-fpm php8.2-cli php8.2-mysql nginx mariadb-server mariadb-client wordpress
  wordpress-theme-twentytwentythree curl ca-certificates python3)
test_pkgs=(bpftool binutils wrk clang llvm libbpf-dev linux-libc-dev php8.2-dev util-linux debootstrap
  php8.2-curl php-redis php-memcached redis-server memcached chromium fonts-dejavu-core fonts-liberation)

pkgs=("${runtime_pkgs[@]}")
if [ "$what" != runtime ]; then pkgs+=("${test_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { echo "Go is required (go.mod names the version)"; exit 1; }
echo "==> go mod download"
go mod download

if [ "$what" = all ]; then
  command -v npm >/dev/null || { echo "Node.js 20+ with npm is required"; exit 1; }
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "==> npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
