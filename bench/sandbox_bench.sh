#!/usr/bin/env bash
# Sandbox figures on a local sandboxd (bench/sandbox_bench.cc says what each one is): create ->
# background command started, envd `true` round trip, create -> worker registered beside the
# worker's own start, and processes left after 100 create/kill cycles.
#
#   ./bench/sandbox_bench.sh [N=20]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BIN=$PWD/$BUILD_DIR/agent-swarm
N=${1:-20}
source scripts/lib.sh
work=$(mktemp -d)
chmod 0711 "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT

export AGENT_SWARM_API_KEY SANDBOXD_API_KEY E2B_API_KEY E2B_API_URL E2B_SANDBOX_URL
AGENT_SWARM_API_KEY=$(random_key bench)
SANDBOXD_API_KEY=$(random_key sandboxd)
E2B_API_KEY=$SANDBOXD_API_KEY
start_api "$BIN" "$work/swarm.sqlite" "$work/api.log" --no-access-log
pids+=("$api_pid")
start_listening "$work/sandboxd.log" "$BIN" sandboxd --port 0 --root "$work/sandboxd"
pids+=("$bg_pid")
sandboxd_pid=$bg_pid
E2B_API_URL="http://127.0.0.1:$bg_port"
E2B_SANDBOX_URL=$E2B_API_URL

# The worker template: the host root with the repo's entrypoint at /docker-entrypoint.sh.
"$BIN" e2b build-template --role worker --worker-template bench-worker --image local \
  --copy docker/docker-entrypoint.sh:/docker-entrypoint.sh >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; exit 1; }

if [[ -z ${HARNESS_BIN_DIR:-} && -d $PWD/.harnesses/node_modules/.bin ]]; then
  export HARNESS_BIN_DIR=$PWD/.harnesses/node_modules/.bin
fi
"$BUILD_DIR/bench/bench_sandbox" "$sandboxd_pid" "http://127.0.0.1:$api_port" bench-worker "$BIN" \
  "$N" 2>"$work/bench.log" || { tail -20 "$work/bench.log" >&2; exit 1; }
