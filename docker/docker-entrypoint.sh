#!/usr/bin/env bash
# Starts a swarm worker in its sandbox: the E2B worker image runs it as /docker-entrypoint.sh
# (`agent-swarm e2b start-worker` starts it in the background, teeing to
# /tmp/agent-swarm-e2b-worker.log), and so does a local sandboxd, over the host's root with
# agent-swarm on PATH or at AGENT_SWARM_BIN. It checks the env, waits for the API's /health
# within WORKER_API_READY_TIMEOUT_SECONDS (default 90), then becomes `agent-swarm worker`.
#
# It never prints a secret: keys are tested for presence only.
set -euo pipefail

log() { echo "[entrypoint] $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

if [[ -z ${AGENT_SWARM_API_KEY:-} && -z ${API_KEY:-} ]]; then
  die "AGENT_SWARM_API_KEY (or API_KEY) is required: the key the swarm API accepts"
fi
if [[ -z ${MCP_BASE_URL:-} ]]; then
  die "MCP_BASE_URL is required: the swarm API's base URL, e.g. https://swarm.example.com"
fi
MCP_BASE_URL=${MCP_BASE_URL%/}
export MCP_BASE_URL
export AGENT_ROLE=${AGENT_ROLE:-worker}
case $AGENT_ROLE in
  worker | lead) ;;
  *) die "AGENT_ROLE must be worker or lead, got \"$AGENT_ROLE\"" ;;
esac

# The image installs the harness CLIs here; over a host root they may be elsewhere (set
# HARNESS_BIN_DIR), or on PATH.
default_bin_dir=/opt/agent-swarm/harnesses/node_modules/.bin
if [[ -z ${HARNESS_BIN_DIR:-} && -d $default_bin_dir ]]; then
  export HARNESS_BIN_DIR=$default_bin_dir
fi

bin=${AGENT_SWARM_BIN:-}
if [[ -z $bin ]]; then
  bin=$(command -v agent-swarm || true)
fi
[[ -n $bin && -x $bin ]] || die "agent-swarm not found: put it on PATH or set AGENT_SWARM_BIN"

# The image's workspace when it has one; elsewhere (a read-only host root) the current
# directory stays.
workspace=${WORKER_WORKSPACE:-/workspace}
if [[ -d $workspace && -w $workspace ]]; then
  cd "$workspace"
fi

command -v curl >/dev/null || die "curl is required to wait for the API"
timeout_s=${WORKER_API_READY_TIMEOUT_SECONDS:-90}
[[ $timeout_s =~ ^[0-9]+$ ]] || die "WORKER_API_READY_TIMEOUT_SECONDS must be a whole number"
log "waiting up to ${timeout_s}s for $MCP_BASE_URL/health"
deadline=$((SECONDS + timeout_s))
until curl -fsS -o /dev/null --max-time 5 "$MCP_BASE_URL/health" 2>/dev/null; do
  if ((SECONDS >= deadline)); then
    die "the API at $MCP_BASE_URL did not answer /health within ${timeout_s}s"
  fi
  sleep 1
done

log "API ready; starting agent-swarm worker as ${AGENT_ID:-<AGENT_ID unset>} (role $AGENT_ROLE, provider ${HARNESS_PROVIDER:-claude})"
exec "$bin" worker
