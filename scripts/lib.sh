# Shell helpers shared by the scripts (source it; do not run it).

# start_api BIN DB LOG [ARGS...]: starts `BIN api --port 0 --db DB ARGS...` in the background,
# logging to LOG, and waits (at most 10 s) for its "listening" line. Sets api_pid and api_port.
# The key must already be in AGENT_SWARM_API_KEY.
start_api() {
  local bin=$1 db=$2 log=$3
  shift 3
  "$bin" api --port 0 --db "$db" "$@" 2>"$log" &
  api_pid=$!
  api_port=
  for _ in $(seq 200); do
    api_port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [[ -n $api_port ]] && return 0
    kill -0 "$api_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "the API did not start:" >&2
  cat "$log" >&2
  return 1
}

# random_key PREFIX: a throwaway API key for a local run.
random_key() { echo "$1-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
