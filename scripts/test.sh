#!/usr/bin/env bash
# Runs every test against an already built tree (scripts/setup.sh builds it):
#   0. scripts/lint.sh: shellcheck and the Dockerfile checks (seconds, no build);
#   1. the Release build's whole suite (ctest labels unit, integration, e2e);
#   2. the libFuzzer targets, each for a bounded time (scripts/fuzz.sh; FUZZ_SECONDS, 20);
#   3. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer
#      (scripts/sanitize.sh, its own build in build-asan/).
# Extra arguments go to every ctest run (e.g. -L unit). SKIP_LINT=1, SKIP_FUZZ=1 or SKIP_SANITIZE=1 leave
# out a stage for a quick local run; CI runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if [[ "${SKIP_LINT:-0}" != 1 ]]; then
  ./scripts/lint.sh
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 300 "$@"
if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  ./scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
if [[ "${SKIP_SANITIZE:-0}" != 1 ]]; then
  ./scripts/sanitize.sh "$@"
fi
