#!/usr/bin/env bash
# Installs what building, testing and benchmarking agent-swarm needs on Debian 12 (Debian
# packages, and the four harness CLIs from npm into .harnesses/), then builds it.
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  nlohmann-json3-dev libvalijson-dev libsqlitecpp-dev libsqlite3-dev
  libcli11-dev libspdlog-dev libfmt-dev libcurl4-openssl-dev libexpected-dev
  libgtest-dev libgmock-dev libbenchmark-dev libre2-dev libarchive-dev libssl-dev
  clang-14 libclang-rt-14-dev clang-format-14
  curl wrk ripgrep shellcheck bubblewrap jq
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
# ccache hits across clones of the repo (CI builds in a fresh clone on the same machine).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build "$BUILD_DIR"

./scripts/install-harnesses.sh

# The official e2b SDK, pinned by tests/e2b_sdk/package-lock.json, for the sandboxd SDK test.
(cd tests/e2b_sdk && npm ci --no-audit --no-fund --silent)
# The official MCP TypeScript SDK, pinned by tests/mcp_sdk/package-lock.json, for the /mcp test.
(cd tests/mcp_sdk && npm ci --no-audit --no-fund --silent)
