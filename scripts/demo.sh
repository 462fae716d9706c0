#!/usr/bin/env bash
# The main job, until provider smoke runs exist: on one machine with no credentials, start the
# API, stub-llm (the scripted model server) and sandboxd (the local E2B-compatible sandbox
# server), build the worker template, start one worker per provider in its own sandbox with
# `agent-swarm e2b start-worker` (the real CLI: claude, codex, opencode, pi), give each the
# seed's smoke task ("Reply with exactly: pong", checked by the seed's outputSchema), report per
# provider what came back, and kill every sandbox.
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
# sandboxd's key, which the e2b commands present as E2B's.
SANDBOXD_API_KEY=$(random_key sandboxd)
export SANDBOXD_API_KEY E2B_API_KEY=$SANDBOXD_API_KEY
start_listening "$work/sandboxd.log" "$BIN" sandboxd --port 0 --root "$work/sandboxd"
pids+=("$bg_pid")
export E2B_API_URL="http://127.0.0.1:$bg_port" E2B_SANDBOX_URL="http://127.0.0.1:$bg_port"
echo "== API on $MCP_BASE_URL, stub-llm on $llm, sandboxd on $E2B_API_URL"

# The worker template: sandboxd runs sandboxes over this machine's root, read-only, so the
# template only adds the entrypoint the worker image has at /docker-entrypoint.sh.
"$BIN" e2b build-template --role worker --worker-template agent-swarm-worker-demo --image local \
  --copy docker/docker-entrypoint.sh:/docker-entrypoint.sh >"$work/template.log" 2>&1 ||
  { cat "$work/template.log" >&2; exit 1; }
echo "== worker template agent-swarm-worker-demo built"

declare -A sandbox_of
for provider in $PROVIDERS; do
  # A sandbox has only the env it is given: the seed's worker settings, the model endpoint its
  # CLI's users know, and where this machine keeps agent-swarm and the CLIs.
  if ! "$BIN" e2b start-worker --template agent-swarm-worker-demo --api-url "$MCP_BASE_URL" \
      --agent-id "smoke-$provider-demo" --provider "$provider" --timeout-sec 900 --json \
      --secret MAX_CONCURRENT_TASKS=1 --secret SLACK_DISABLE=true --secret GITHUB_DISABLE=true \
      --secret "AGENT_SWARM_BIN=$PWD/$BIN" --secret "HARNESS_BIN_DIR=$HARNESS_BIN_DIR" \
      --secret "PATH=/usr/local/bin:/usr/bin:/bin" \
      --secret "ANTHROPIC_BASE_URL=$llm" --secret ANTHROPIC_API_KEY=sk-ant-demo-unused \
      --secret "OPENAI_BASE_URL=$llm/v1" --secret OPENAI_API_KEY=sk-demo-unused \
      >"$work/start-$provider.json" 2>"$work/start-$provider.log"; then
    echo "demo: the $provider worker did not start:" >&2
    cat "$work/start-$provider.log" >&2
    exit 1
  fi
  sandbox_of[$provider]=$(sed -n 's/^  "sandboxId": "\(.*\)",$/\1/p' "$work/start-$provider.json")
  echo "== $provider worker registered from sandbox ${sandbox_of[$provider]}"
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
    "$MCP_BASE_URL/api/tasks/$id/session-logs" | { grep -o '"lineNumber"' || true; } | wc -l)
  printf '%-9s %-10s %-18s %-38s %s\n' "$provider" "$status" "${output:--}" "${session:--}" \
    "$lines / ${cost:-unpriced}"
  if [[ $status != completed ]]; then
    failed=1
    sed -n 's/^  "failureReason": \(.*\),$/  reason: \1/p' <<<"$task"
  fi
done
echo
"$BIN" tasks list --limit 10
for provider in $PROVIDERS; do
  "$BIN" e2b kill "${sandbox_of[$provider]}" >/dev/null || failed=1
done
left=$("$BIN" e2b list --json | grep -c '"sandboxId"' || true)
echo "== sandboxes killed; $left left"
((left == 0)) || failed=1
((failed == 0)) || { echo "demo: a provider failed" >&2; exit 1; }
echo "== demo passed: every provider completed the smoke task through the real CLI"
