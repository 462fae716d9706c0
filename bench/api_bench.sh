#!/usr/bin/env bash
# Measures the API on a fresh database: wrk on GET /api/tasks/{id} and POST /api/tasks
# (2 threads, 32 connections, on the same cores as the server), idle RSS before and after the
# load, exec-to-healthy start time, and create-to-delivery latency to a waiting long-poll.
#
#   ./bench/api_bench.sh [DURATION_SECONDS=10]
# Needs a Release build (./scripts/setup.sh) and wrk (installed by setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/agent-swarm
DURATION=${1:-10}
command -v wrk >/dev/null || { echo "bench: wrk is missing: apt-get install wrk" >&2; exit 1; }
[[ -x $BIN && -x $BUILD_DIR/bench/bench_poll_latency ]] || {
  echo "bench: build first: ./scripts/setup.sh" >&2; exit 1; }

source scripts/lib.sh
work=$(mktemp -d)
export AGENT_SWARM_API_KEY=$(random_key bench)
start_api "$BIN" "$work/bench.sqlite" "$work/api.log" ${ACCESS_LOG_FLAG:-}
pid=$api_pid
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
url="http://127.0.0.1:$api_port"
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status"; }
sleep 0.5
rss_idle_fresh=$(rss)

printf 'Authorization: Bearer %s\n' "$AGENT_SWARM_API_KEY" >"$work/auth"
task_id=$(curl -fsS -H @"$work/auth" -H 'Content-Type: application/json' \
  -d '{"task":"Reply with exactly: pong","agentId":"bench-reader","outputSchema":{"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}}}' \
  "$url/api/tasks" | sed 's/.*"id":"\([^"]*\)".*/\1/')

# First, while the pool is empty (the poller would claim pool tasks the POST load creates).
echo "== create-to-delivery latency to a waiting long-poll (1000 tasks)"
"$BUILD_DIR/bench/bench_poll_latency" "$url" 1000

run_wrk() {  # name script url
  wrk -t2 -c32 -d"${DURATION}s" --latency -s "$2" "$3" >"$work/$1.txt"
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$1.txt")
  local non2xx
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/$1.txt")
  echo "$1: ${rps} req/s, p99 ${p99}${non2xx:+, NON-2XX: $non2xx}"
}
echo "== wrk -t2 -c32 -d${DURATION}s (server and wrk share the machine's $(nproc) cores)"
run_wrk get_task bench/get_task.lua "$url/api/tasks/$task_id"
run_wrk post_task bench/post_task.lua "$url/api/tasks"
sleep 1
echo "== memory: idle RSS ${rss_idle_fresh} MB fresh, $(rss) MB after the load"
kill $pid; wait $pid 2>/dev/null || true
echo "== exec to first healthy /health, fresh database (10 runs)"
"$BUILD_DIR/bench/bench_startup" "$BIN" 10
