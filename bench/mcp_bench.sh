#!/usr/bin/env bash
# Measures the MCP server on /mcp on a fresh database: tools/call store-progress round trips
# over loopback (one client; a progress update, a mismatching output that is refused, the
# matching output that completes the task; p50/p99), then wrk on tools/list over one open
# session (2 threads, 32 connections, on the same cores as the server).
#
#   ./bench/mcp_bench.sh [DURATION_SECONDS=10] [ROUND_TRIPS=500]
# Needs a Release build with -DSWARM_BENCH=ON (bench_mcp_latency) and wrk (setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BIN=$BUILD_DIR/agent-swarm
DURATION=${1:-10}
COUNT=${2:-500}
command -v wrk >/dev/null || { echo "bench: wrk is missing: apt-get install wrk" >&2; exit 1; }
[[ -x $BIN && -x $BUILD_DIR/bench/bench_mcp_latency ]] || {
  echo "bench: build first: ./scripts/setup.sh" >&2; exit 1; }

source scripts/lib.sh
work=$(mktemp -d)
export AGENT_SWARM_API_KEY=$(random_key bench)
start_api "$BIN" "$work/bench.sqlite" "$work/api.log" ${ACCESS_LOG_FLAG:-}
pid=$api_pid
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
url="http://127.0.0.1:$api_port"

echo "== tools/call store-progress round trip, one client over loopback ($COUNT tasks)"
"$BUILD_DIR/bench/bench_mcp_latency" "$url" "$COUNT" 2>"$work/session"
export MCP_BENCH_AGENT=bench-mcp-agent
MCP_BENCH_SESSION=$(tail -n1 "$work/session")
export MCP_BENCH_SESSION

echo "== wrk -t2 -c32 -d${DURATION}s tools/list (server and wrk share the machine's $(nproc) cores)"
wrk -t2 -c32 -d"${DURATION}s" --latency -s bench/mcp_tools_list.lua "$url/mcp" >"$work/list.txt"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/list.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/list.txt")
non2xx=$(awk '/Non-2xx/ {print $5}' "$work/list.txt")
echo "tools_list: ${rps} req/s, p99 ${p99}${non2xx:+, NON-2XX: $non2xx}"
