#!/usr/bin/env bash
# Provider smoke-run figures, each from `agent-swarm smoke --local --stub-model --json` (its own
# api, sandboxd and stub-llm; the real CLIs):
#   - the four-provider run's time against the slowest single-provider run (target: <= 1.5x),
#     both as the run's own time (the slowest provider's totalMs) and as the command's wall time;
#   - per provider, the runner's overhead beyond sandbox start and the CLI's own time:
#     totalMs - workerRegisteredMs (sandbox created, entrypoint started, worker registered)
#     - cliMs (the CLI's run, as the worker measured it).
# Medians over N rounds.
#
#   ./bench/smoke_bench.sh [N=3]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/agent-swarm}
N=${1:-3}
command -v jq >/dev/null || { echo "smoke_bench: jq is required (./scripts/setup.sh installs it)" >&2; exit 1; }
[[ -x $BIN ]] || { echo "smoke_bench: $BIN is missing; run ./scripts/setup.sh first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

# run LABEL PROVIDERS ROUND: one smoke run; its report in $work/LABEL.ROUND.json, wall ms on stdout.
run() {
  local start end
  start=$(date +%s%N)
  if ! "$BIN" smoke --local --stub-model --providers "$2" --json >"$work/$1.$3.json" 2>"$work/$1.$3.log"; then
    echo "smoke_bench: the $1 run failed:" >&2
    cat "$work/$1.$3.log" "$work/$1.$3.json" >&2
    exit 1
  fi
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

providers=(claude codex pi opencode)
for ((round = 1; round <= N; round++)); do
  run all "$(IFS=,; echo "${providers[*]}")" "$round" >>"$work/all.wall"
  for p in "${providers[@]}"; do run "$p" "$p" "$round" >>"$work/$p.wall"; done
done

run_ms() { jq '[.results[].timings.totalMs] | max' "$1"; }
printf '%-10s %14s %14s\n' RUN "RUN TIME (ms)" "WALL (ms)"
slowest_run=0
slowest_wall=0
for label in "${providers[@]}" all; do
  r=$(for f in "$work/$label".*.json; do run_ms "$f"; done | median)
  w=$(median <"$work/$label.wall")
  printf '%-10s %14s %14s\n' "$label" "$r" "$w"
  if [[ $label != all ]]; then
    ((r > slowest_run)) && slowest_run=$r
    ((w > slowest_wall)) && slowest_wall=$w
  else
    all_run=$r
    all_wall=$w
  fi
done
echo
echo "four providers / slowest single: run time $(jq -n "$all_run / $slowest_run * 100 | round / 100")x," \
  "wall $(jq -n "$all_wall / $slowest_wall * 100 | round / 100")x (target <= 1.5x)"

echo
printf '%-10s %12s %14s %10s %14s\n' PROVIDER "TOTAL (ms)" "REGISTERED" "CLI (ms)" "OVERHEAD (ms)"
for p in "${providers[@]}"; do
  for f in "$work/all".*.json; do
    jq -r --arg p "$p" '.results[] | select(.provider == $p) | .timings |
      "\(.totalMs) \(.workerRegisteredMs) \(.cliMs // 0) \(.totalMs - .workerRegisteredMs - (.cliMs // 0))"' "$f"
  done >"$work/$p.timings"
  col() { awk -v c="$1" '{print $c}' "$work/$p.timings" | median; }
  printf '%-10s %12s %14s %10s %14s\n' "$p" "$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)"
done
