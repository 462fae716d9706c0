#!/usr/bin/env bash
# The main job, until provider smoke runs exist: on one machine with no credentials, start the
# API, stub-llm (the scripted model server) and one worker per provider running the real CLI
# (claude, codex, opencode, pi), give each the seed's smoke task ("Reply with exactly: pong",
# checked by the seed's outputSchema), and report per provider what came back.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/agent-swarm}
HARNESS_BIN_DIR=${HARNESS_BIN_DIR:-$PWD/.harnesses/node_modules/.bin}
PROVIDERS=${PROVIDERS:-claude codex opencode pi}
[[ -x $BIN ]] || { echo "demo: $BIN is missing; run ./scripts/setup.sh first" >&2; exit 1; }

source scripts/lib.sh
work=$(mktemp -d)
# Run as root, the worker runs each CLI as an unprivileged user, who must be able to pass
# through to its task directory (but not list what is here).
chmod 0711 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

AGENT_SWARM_API_KEY=$(random_key demo)
export AGENT_SWARM_API_KEY
start_api "$BIN" "$work/swarm.sqlite" "$work/api.log"
pids+=("$api_pid")
start_stub_llm "$BIN" "$work/stub-llm.log" --reply '{"reply":"pong"}'
pids+=("$llm_pid")
export MCP_BASE_URL="http://127.0.0.1:$api_port"
llm="http://127.0.0.1:$llm_port"
echo "== API on $MCP_BASE_URL, stub-llm on $llm"

for provider in $PROVIDERS; do
  # The worker's environment is the seed's, plus the model endpoint its CLI's users know.
  AGENT_ID="smoke-$provider-demo" HARNESS_PROVIDER=$provider AGENT_ROLE=worker \
    MAX_CONCURRENT_TASKS=1 WORKER_YOLO=true SLACK_DISABLE=true GITHUB_DISABLE=true \
    API_KEY=$AGENT_SWARM_API_KEY HARNESS_BIN_DIR=$HARNESS_BIN_DIR WORKER_WORK_DIR="$work/$provider" \
    ANTHROPIC_BASE_URL=$llm ANTHROPIC_API_KEY=sk-ant-demo OPENAI_BASE_URL=$llm/v1 OPENAI_API_KEY=sk-demo \
    "$BIN" worker 2>"$work/worker-$provider.log" &
  pids+=($!)
done

schema='{"type":"object","required":["reply"],"properties":{"reply":{"const":"pong"}}}'
declare -A task_of
for provider in $PROVIDERS; do
  for _ in $(seq 300); do  # wait for the worker to register
    "$BIN" agents get "smoke-$provider-demo" >/dev/null 2>&1 && break
    sleep 0.1
  done
  task_of[$provider]=$("$BIN" tasks create "Reply with exactly: pong" --agent-id "smoke-$provider-demo" \
    --output-schema "$schema" --json | sed -n 's/^  "id": "\(.*\)",$/\1/p')
done

failed=0
printf '\n%-9s %-10s %-18s %-38s %s\n' PROVIDER STATUS OUTPUT SESSION "LOG LINES / COST"
for provider in $PROVIDERS; do
  id=${task_of[$provider]}
  for _ in $(seq 1200); do  # at most 120 s per provider
    status=$("$BIN" tasks get "$id" --json | sed -n 's/^  "status": "\(.*\)",$/\1/p')
    [[ $status == completed || $status == failed || $status == cancelled ]] && break
    sleep 0.1
  done
  task=$("$BIN" tasks get "$id" --json)
  output=$(sed -n 's/^  "output": \(.*\),$/\1/p' <<<"$task")
  session=$(sed -n 's/^  "claudeSessionId": "\(.*\)",$/\1/p' <<<"$task")
  cost=$(sed -n 's/^  "totalCostUsd": \([^,]*\),\{0,1\}$/\1/p' <<<"$task")
  lines=$(curl -fsS -H @<(printf 'Authorization: Bearer %s\n' "$AGENT_SWARM_API_KEY") \
    "$MCP_BASE_URL/api/tasks/$id/session-logs" | grep -o '"lineNumber"' | wc -l)
  printf '%-9s %-10s %-18s %-38s %s\n' "$provider" "$status" "${output:--}" "${session:--}" \
    "$lines / ${cost:-unpriced}"
  if [[ $status != completed ]]; then
    failed=1
    sed -n 's/^  "failureReason": \(.*\),$/  reason: \1/p' <<<"$task"
    tail -5 "$work/worker-$provider.log" >&2
  fi
done
echo
"$BIN" tasks list --limit 10
((failed == 0)) || { echo "demo: a provider failed" >&2; exit 1; }
echo "== demo passed: every provider completed the smoke task through the real CLI"
