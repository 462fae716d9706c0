#!/usr/bin/env bash
# The worker's cost per task, on a fresh API and stub-llm:
#  1. Overhead beyond the CLI: the worker runs a stand-in `claude` (a shell script printing a
#     canned stream-json result, ~2 ms of its own), so create→finish time is the worker's
#     delivery, per-task setup, spawn and reporting. p50/p99 over N tasks.
#  2. Wall time per task for each real CLI against stub-llm (create→finish), over M tasks each.
#
#   ./bench/worker_bench.sh [N=200] [M=5]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/agent-swarm}
N=${1:-200}
M=${2:-5}
HARNESS_BIN_DIR=${HARNESS_BIN_DIR:-$PWD/.harnesses/node_modules/.bin}
source scripts/lib.sh
work=$(mktemp -d)
# Run as root, the worker runs each CLI as an unprivileged user, who must be able to pass
# through to its task directory (but not list what is here).
chmod 0711 "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT

export AGENT_SWARM_API_KEY=$(random_key bench)
start_api "$BIN" "$work/swarm.sqlite" "$work/api.log" --no-access-log
pids+=("$api_pid")
start_stub_llm "$BIN" "$work/llm.log" --reply '{"reply":"pong"}'
pids+=("$llm_pid")
export MCP_BASE_URL="http://127.0.0.1:$api_port"
llm="http://127.0.0.1:$llm_port"
printf 'Authorization: Bearer %s\n' "$AGENT_SWARM_API_KEY" >"$work/auth"
api() { curl -fsS -H @"$work/auth" -H 'Content-Type: application/json' "$@"; }

start_worker() {  # provider agent bin_dir
  AGENT_ID=$2 HARNESS_PROVIDER=$1 MAX_CONCURRENT_TASKS=1 HARNESS_BIN_DIR=$3 \
    WORKER_WORK_DIR="$work/w-$2" WORKER_POLL_WAIT_SECONDS=30 \
    ANTHROPIC_BASE_URL=$llm ANTHROPIC_API_KEY=sk-ant-bench OPENAI_BASE_URL=$llm/v1 \
    OPENAI_API_KEY=sk-bench "$BIN" worker 2>"$work/worker-$2.log" &
  pids+=($!)
  for _ in $(seq 300); do api "$MCP_BASE_URL/api/agents/$2" >/dev/null 2>&1 && return; sleep 0.05; done
  echo "worker $2 did not register" >&2; exit 1
}

# Runs COUNT tasks one after another for AGENT; prints each create→finish time in ms.
run_tasks() {  # agent count
  for _ in $(seq "$2"); do
    id=$(api -d "{\"task\":\"Reply with exactly: pong\",\"agentId\":\"$1\"}" "$MCP_BASE_URL/api/tasks" |
      sed 's/.*"id":"\([^"]*\)".*/\1/')
    while :; do
      task=$(api "$MCP_BASE_URL/api/tasks/$id")
      [[ $task == *'"finishedAt":"'* ]] && break
      sleep 0.002
    done
    created=$(sed 's/.*"createdAt":"\([^"]*\)".*/\1/' <<<"$task")
    finished=$(sed 's/.*"finishedAt":"\([^"]*\)".*/\1/' <<<"$task")
    [[ $task == *'"status":"completed"'* ]] || { echo "task $id did not complete: $task" >&2; exit 1; }
    echo $(($(date -d "$finished" +%s%3N) - $(date -d "$created" +%s%3N)))
  done
}

stats() {  # label < numbers
  sort -n >"$work/s"
  local n p50 p99
  n=$(wc -l <"$work/s")
  p50=$(sed -n "$(((n + 1) / 2))p" "$work/s")
  p99=$(sed -n "$(((n * 99 + 99) / 100))p" "$work/s")
  echo "$1: n=$n p50=${p50} ms p99=${p99} ms max=$(tail -1 "$work/s") ms"
}

# 1. A stand-in claude: prints what the real one prints for a one-turn answer.
mkdir -p "$work/fake-bin"
cat >"$work/fake-bin/claude" <<'SH'
#!/bin/sh
echo '{"type":"system","subtype":"init","session_id":"00000000-0000-4000-8000-000000000001","model":"claude-sonnet-4-5"}'
echo '{"type":"result","subtype":"success","is_error":false,"result":"{\"reply\":\"pong\"}","session_id":"00000000-0000-4000-8000-000000000001","total_cost_usd":0.0001,"usage":{"input_tokens":10,"output_tokens":5},"num_turns":1}'
SH
chmod +x "$work/fake-bin/claude"
start_worker claude bench-overhead "$work/fake-bin"
run_tasks bench-overhead 5 >/dev/null  # warm-up
echo "== worker overhead beyond the CLI (stand-in claude, $N tasks, create→finish)"
run_tasks bench-overhead "$N" | stats "overhead"

echo "== wall time per task with the real CLI against stub-llm ($M tasks each, create→finish)"
for provider in claude codex opencode pi; do
  start_worker "$provider" "bench-$provider" "$HARNESS_BIN_DIR"
  run_tasks "bench-$provider" "$M" | stats "$provider"
done
