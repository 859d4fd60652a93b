#!/usr/bin/env bash
# The Tusk demo, from nothing: installs what is missing, builds the agent,
# brings up WordPress + MariaDB + nginx + php-fpm 8.2 (all Debian) on
# 127.0.0.1, attaches the agent with eBPF, makes a few requests and shows
# their traces. Everything keeps running afterwards; `demo.sh stop` ends it.
#   TUSK_DEMO_DIR   (default /tmp/tusk-demo)
#   TUSK_DEMO_PORT  WordPress port (default 8080); the agent API is on 7070.
#   TUSK_DEMO_UI_PORT  the plugin's pages outside Grafana (default 3000; needs Node.js/npm)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${TUSK_DEMO_DIR:-/tmp/tusk-demo}
port=${TUSK_DEMO_PORT:-8080}
api=127.0.0.1:${TUSK_DEMO_API_PORT:-7070}
ui=127.0.0.1:${TUSK_DEMO_UI_PORT:-3000}
export TUSK_AGENT_URL=http://$api TUSK_TOKEN_FILE=$dir/token

stop() {
  local pidfile
  for pidfile in "$dir/shim.pid" "$dir/agent.pid"; do
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill "$(cat "$pidfile")"
      while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
  if [ -x bin/tusk-stack ]; then bin/tusk-stack down --dir "$dir/stack" >/dev/null; fi
}

# The plugin's pages outside Grafana: the real gpx_php behind a small
# imitation of Grafana's API (tests/grafanashim) serving the browser
# harness (tests/browser). Build output in $dir/ui-build.log.
start_ui() {
  command -v npm >/dev/null || { echo "Node.js/npm is missing"; return 1; }
  [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error || return 1
  npm run --silent build:harness || return 1
  go build -o bin/grafana-shim ./tests/grafanashim/cmd/grafana-shim || return 1
  # It builds gpx_php with mage, then listens.
  nohup bin/grafana-shim --listen "$ui" --agent-url "http://$api" --token-file "$dir/token" \
    --static tests/browser/dist >"$dir/ui.log" 2>&1 &
  echo $! >"$dir/shim.pid"
  for _ in $(seq 600); do
    curl -sf -o /dev/null "http://$ui/harness/boot.json" && return 0
    kill -0 "$(cat "$dir/shim.pid")" 2>/dev/null || { cat "$dir/ui.log"; return 1; }
    sleep 0.5
  done
  return 1
}

if [ "${1:-}" = stop ]; then
  stop
  echo "Tusk demo stopped (data kept in $dir)."
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "The agent loads eBPF programs: run this as root."; exit 1; }

scripts/install-deps.sh runtime
echo "==> building tusk-agent and tusk-stack"
mkdir -p bin "$dir"
CGO_ENABLED=0 go build -o bin/tusk-agent ./pkg/cmd/tusk-agent
go build -o bin/tusk-stack ./tests/stack/cmd/tusk-stack
stop
rm -f "$dir"/traces.db* # each demo starts with an empty store

echo "==> WordPress on http://127.0.0.1:$port (php-fpm master started with USE_ZEND_DTRACE=1 so deep mode can be shown)"
bin/tusk-stack up wordpress --dir "$dir/stack" --http-port "$port" --fpm-env USE_ZEND_DTRACE=1
master=$(bin/tusk-stack status --dir "$dir/stack" --json |
  python3 -c 'import json,sys; print(next(p["pid"] for p in json.load(sys.stdin)["processes"] if p["name"] == "php-fpm"))')

echo "==> tusk-agent on $api (log: $dir/agent.log)"
nohup bin/tusk-agent run --listen "$api" --db "$dir/traces.db" --token-file "$dir/token" >"$dir/agent.log" 2>&1 &
echo $! >"$dir/agent.pid"
for _ in $(seq 100); do
  if bin/tusk-agent status 2>/dev/null | grep -q "pool wordpress"; then break; fi
  kill -0 "$(cat "$dir/agent.pid")" 2>/dev/null || { cat "$dir/agent.log"; exit 1; }
  sleep 0.1
done

echo "==> requests, always-on mode (one span per request)"
for path in / "/?s=hello" "/?p=1" /wp-login.php /no-such-page/; do
  curl -s -o /dev/null -w "  %{http_code}  GET $path\n" "http://127.0.0.1:$port$path"
done
echo "==> deep mode on pool wordpress for 10 minutes (function spans ≥ 1 ms)"
bin/tusk-agent deep enable --pool wordpress --threshold 1ms --for 10m
curl -s -o /dev/null -w "  %{http_code}  GET /?deep=1\n" "http://127.0.0.1:$port/?deep=1"
sleep 0.5

echo
echo "==> tusk-agent top"
bin/tusk-agent top --limit 10
echo
echo "==> tusk-agent trace (the deep-mode request, first 40 lines)"
id=$(curl -s -H "Authorization: Bearer $(cat "$dir/token")" "http://$api/api/v1/traces?order=slowest&limit=20" |
  python3 -c 'import json,sys; t=[x for x in json.load(sys.stdin)["traces"] if x["spanCount"]>1]; print(t[0]["traceId"] if t else "")')
if [ -n "$id" ]; then
  bin/tusk-agent trace "$id" >"$dir/trace.txt" # not piped into head: pipefail would end the script
  head -40 "$dir/trace.txt"
  echo
  echo "==> SQL spans of that request, with their PHP call site"
  grep -E "SELECT|INSERT|UPDATE|DELETE|SHOW|SET " "$dir/trace.txt" | head -8 || true
fi
echo
echo "==> tusk-agent profile: where 20 front-page requests spent PHP CPU time (stack samples)"
for _ in $(seq 20); do curl -s -o /dev/null "http://127.0.0.1:$port/"; done
sleep 1 # the last requests reach the profile once they end
bin/tusk-agent profile --from 2m --pool wordpress --top 10 || true
echo
echo "==> Tusk UI on http://$ui (gpx_php behind tests/grafanashim; build log: $dir/ui-build.log)"
ui_line="Tusk UI: not started (see $dir/ui-build.log)"
if start_ui >"$dir/ui-build.log" 2>&1; then
  ui_line="Tusk UI (Grafana pages, outside Grafana): http://$ui/a/tusk-php-app/overview"
fi

cat <<MSG

Tusk is tracing WordPress (php-fpm master $master).
$ui_line
Try:
  TOKEN=\$(cat $dir/token)
  curl -H "Authorization: Bearer \$TOKEN" "http://$api/api/v1/traces?limit=5&order=slowest"
  curl -H "Authorization: Bearer \$TOKEN" "http://$api/api/v1/traces/$id"
  TUSK_AGENT_URL=http://$api TUSK_TOKEN_FILE=$dir/token bin/tusk-agent top
Stop everything: $0 stop
MSG
