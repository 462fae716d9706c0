#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang + ASan + UBSan) into build-fuzz/ and runs each for
# a bounded time; fails on any crash, sanitizer report, timeout or out-of-memory.
#   scripts/fuzz.sh [seconds-per-target]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
cxx="${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++)}"
# ccache hits across clones of the repo (CI builds in a fresh clone on the same machine).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
launcher="$(command -v ccache || true)"
cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} >/dev/null
cmake --build build-fuzz -j "${FUZZ_JOBS:-2}"

status=0
for target in request_body output_judge query harness_lines chat_request connect_envelope \
    sandboxd_request envd_stream e2b_reply dotenv template_archive smoke_request mcp_endpoint \
    cli_views; do
  # The checked-in seeds stay untouched: libFuzzer writes what it finds into a scratch corpus.
  work="build-fuzz/corpus/$target"
  mkdir -p "$work" build-fuzz/artifacts
  echo "== fuzz_$target: ${seconds}s"
  if ! "build-fuzz/fuzz_$target" "$work" "fuzz/corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="build-fuzz/artifacts/${target}-" -print_final_stats=1 \
      >"build-fuzz/fuzz_$target.log" 2>&1; then
    echo "fuzz_$target FAILED: see build-fuzz/fuzz_$target.log and build-fuzz/artifacts/"
    grep -E "^==[0-9]+==ERROR|^SUMMARY|^artifact_prefix|Test unit written|^Base64" \
      "build-fuzz/fuzz_$target.log" | cut -c1-300 || true
    status=1
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "build-fuzz/fuzz_$target.log" | tail -1 || true
  fi
done
exit "$status"
