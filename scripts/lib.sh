# Shell helpers shared by the scripts (source it; do not run it).
# shellcheck shell=bash
# The variables these functions set (api_pid, llm_port, …) are read by the scripts that
# source this file, which shellcheck cannot see from here.
# shellcheck disable=SC2034

# start_listening LOG CMD [ARGS...]: runs CMD in the background with stderr to LOG and waits
# (at most 10 s) for its JSON log line {"msg":"listening",…,"port":N}. Sets bg_pid, bg_port.
start_listening() {
  local log=$1
  shift
  "$@" 2>"$log" &
  bg_pid=$!
  bg_port=
  for _ in $(seq 200); do
    bg_port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [[ -n $bg_port ]] && return 0
    kill -0 "$bg_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "$1 did not start:" >&2
  cat "$log" >&2
  return 1
}

# start_api BIN DB LOG [ARGS...]: the API on a free port; sets api_pid, api_port. The key must
# already be in AGENT_SWARM_API_KEY.
start_api() {
  local bin=$1 db=$2 log=$3
  shift 3
  start_listening "$log" "$bin" api --port 0 --db "$db" "$@" || return 1
  api_pid=$bg_pid
  api_port=$bg_port
}

# start_stub_llm BIN LOG [ARGS...]: stub-llm on a free port; sets llm_pid, llm_port.
start_stub_llm() {
  local bin=$1 log=$2
  shift 2
  start_listening "$log" "$bin" stub-llm --port 0 "$@" || return 1
  llm_pid=$bg_pid
  llm_port=$bg_port
}

# random_key PREFIX: a throwaway API key for a local run.
random_key() { echo "$1-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
