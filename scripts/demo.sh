#!/usr/bin/env bash
# The main job, until provider smoke runs exist: start the API on a fresh database, create
# the smoke task ("Reply with exactly: pong" with the seed's outputSchema), play a worker over
# HTTP (register, long-poll, session id, logs, cost, finish), and show the finished task.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/agent-swarm}
[[ -x $BIN ]] || { echo "demo: $BIN is missing; run ./scripts/setup.sh first" >&2; exit 1; }

source scripts/lib.sh
work=$(mktemp -d)
export AGENT_SWARM_API_KEY=$(random_key demo)
start_api "$BIN" "$work/swarm.sqlite" "$work/api.log"
trap 'kill $api_pid 2>/dev/null; wait $api_pid 2>/dev/null; rm -rf "$work"' EXIT
export MCP_BASE_URL="http://127.0.0.1:$api_port"
echo "== API listening on $MCP_BASE_URL (log: JSON lines on stderr)"
curl -fsS "$MCP_BASE_URL/health"; echo

# curl reads the key from a header file, not argv.
printf 'Authorization: Bearer %s\n' "$AGENT_SWARM_API_KEY" >"$work/auth"
as_worker() { curl -sS -H @"$work/auth" -H "X-Agent-ID: smoke-demo" -H "Content-Type: application/json" "$@"; }

echo "== a worker registers as smoke-demo and starts a long-poll"
as_worker -o /dev/null -X POST "$MCP_BASE_URL/api/agents" \
  -d '{"name":"smoke-demo","role":"worker","maxTasks":1,"harness_provider":"claude"}'
as_worker "$MCP_BASE_URL/api/poll?wait=10" >"$work/poll.json" &
poll_pid=$!
sleep 0.2

echo "== create the smoke task for it"
task_id=$("$BIN" tasks create "Reply with exactly: pong" --agent-id smoke-demo \
  --output-schema '{"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}}' \
  --json | sed -n 's/^  "id": "\(.*\)",$/\1/p')
wait $poll_pid
echo "   the long-poll delivered: $(grep -o '"taskId":"[^"]*"' "$work/poll.json")"

echo "== the worker reports a session id, log lines and cost, then finishes"
as_worker -o /dev/null -X PUT "$MCP_BASE_URL/api/tasks/$task_id/session" \
  -d '{"claudeSessionId":"demo-session-1","provider":"claude","model":"claude-sonnet"}'
as_worker -o /dev/null -X POST "$MCP_BASE_URL/api/session-logs" \
  -d "{\"sessionId\":\"run-1\",\"taskId\":\"$task_id\",\"iteration\":1,\"cli\":\"claude\",\"lines\":[\"{\\\"type\\\":\\\"result\\\"}\"]}"
as_worker -o /dev/null -X POST "$MCP_BASE_URL/api/session-costs" \
  -d "{\"sessionId\":\"run-1\",\"taskId\":\"$task_id\",\"agentId\":\"smoke-demo\",\"totalCostUsd\":0.0021,\"inputTokens\":812,\"outputTokens\":9}"
as_worker -o /dev/null -X POST "$MCP_BASE_URL/api/tasks/$task_id/finish" \
  -d '{"status":"completed","output":"{\"reply\":\"pong\"}"}'

echo "== the finished task"
"$BIN" tasks get "$task_id"
echo
"$BIN" tasks list
status=$("$BIN" tasks get "$task_id" --json | sed -n 's/^  "status": "\(.*\)",$/\1/p')
[[ $status == completed ]] || { echo "demo: task ended $status" >&2; exit 1; }
echo "== demo passed: task $task_id completed through the API"
