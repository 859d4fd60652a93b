#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this). As root: the
# integration tests load real BPF programs and run php-fpm, nginx, MariaDB
# and WordPress on loopback. Ends with one line: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "Run the tests as root: they load eBPF programs."; exit 1; }
scripts/install-deps.sh all || exit 1

logs=$(mktemp -d)
failed_steps=()
step() { # step NAME CMD...: run, keep going, remember failures
  local name=$1; shift
  echo "==> $name"
  if ! "$@" 2>&1 | tee "$logs/$name.log"; then failed_steps+=("$name"); fi
}

# Generated code must match its sources: BPF objects and Go bindings, and
# the PHP offsets table of the installed -dev headers.
generated_up_to_date() {
  go generate ./pkg/probes/ && pkg/phpoffsets/gen/gen.sh php-config8.2 >/dev/null || return 1
  if git rev-parse --git-dir >/dev/null 2>&1; then
    git diff --exit-code --stat -- pkg/probes pkg/phpoffsets/data || { echo "generated files differ: run 'go generate ./pkg/probes' and commit"; return 1; }
  fi
}

step generate generated_up_to_date
step go-vet go vet ./... 
step go-vet-integration go vet -tags integration ./tests/... ./pkg/probes/ ./pkg/phpfuncs/
# Jaeger v2 for the OTLP export tests (tests/jaegertest): built once per
# tools/jaeger/go.sum into /var/cache/tusk/jaeger (~3 minutes the first
# time, instant after), before any test can wait on it.
step jaeger-build go run ./tests/jaegertest/cmd/jaeger-build
step go-unit go test -count=1 -v ./...
# PHP 7.4 and 8.4 for tests/integration/versions_test.go: cached debootstrap
# chroots (minutes the first time, instant after). A failed build fails here.
step chroot-bullseye tests/chroots/build.sh bullseye
step chroot-trixie tests/chroots/build.sh trixie
# The browser harness (tests/browser) for TestGrafanaUIInChromium, built
# here rather than inside the test's timeout; the test builds it itself
# unless told this build passed.
step web-harness npm run --silent build:harness
harness_built=0
[[ " ${failed_steps[*]} " == *" web-harness "* ]] || harness_built=1
step go-integration env TUSK_UI_HARNESS_BUILT=$harness_built go test -count=1 -v -p 1 -timeout 30m -tags integration ./pkg/probes/ ./pkg/phpfuncs/ ./tests/...
step web-typecheck npm run --silent typecheck
step web-lint npm run --silent lint
step web-jest npm run --silent test:ci
step web-build npm run --silent build
step mage go tool mage -v
# What Grafana loads from dist/ (scripts/check-dist.mjs): every plugin.json
# valid against scripts/plugin-json.schema.json with its placeholders
# replaced, a module.js and logos beside it, every src/**/plugin.json built
# (app, datasource, panel), the app's includes naming its nested plugins, and
# the backend for the Linux platforms Grafana runs on: the app and the data
# source both run gpx_php_linux_amd64/arm64 (the data source as ../gpx_php).
step dist-check-test node --test --test-reporter=tap scripts/check-dist.test.mjs
step dist node scripts/check-dist.mjs --backend .=gpx_php --backend datasource=../gpx_php

# Count what ran.
pass=$(cat "$logs"/go-*.log | grep -cE '^\s*--- PASS')
fail=$(cat "$logs"/go-*.log | grep -cE '^\s*--- FAIL')
skip=$(cat "$logs"/go-*.log | grep -cE '^\s*--- SKIP')
jest=$(grep -E '^Tests:' "$logs/web-jest.log" | tail -1)
jp=$(echo "$jest" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+'); jf=$(echo "$jest" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
pass=$((pass + ${jp:-0})); fail=$((fail + ${jf:-0}))
np=$(grep -E '^# pass [0-9]+' "$logs/dist-check-test.log" | grep -oE '[0-9]+'); nf=$(grep -E '^# fail [0-9]+' "$logs/dist-check-test.log" | grep -oE '[0-9]+')
pass=$((pass + ${np:-0})); fail=$((fail + ${nf:-0}))
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
  [ "$fail" -gt 0 ] || fail=${#failed_steps[@]}
fi
rm -rf "$logs"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ ${#failed_steps[@]} -eq 0 ]
