#!/usr/bin/env bash
# Installs the four harness CLIs at pinned versions into a project-local npm prefix
# (.harnesses/, binaries in .harnesses/node_modules/.bin), plus ripgrep for opencode.
# Used by the README's setup and by .ci/run. Idempotent: a second run only checks versions.
#
# Versions: the newest that run on Node 20 (Claude Code past 2.1.197 requires Node 22).
set -euo pipefail
cd "$(dirname "$0")/.."
# Run as root, the worker runs each CLI as an unprivileged user, who must be able to enter
# every directory on the way to it; a checkout under a private home (/root is 0700) would hide
# the CLIs. So as root the CLIs live in /opt and .harnesses is a link to them (the worker
# resolves the link before it starts a CLI).
if [[ -z ${HARNESS_PREFIX:-} && $(id -u) == 0 ]]; then
  PREFIX=/opt/agent-swarm/harnesses
  mkdir -p "$PREFIX"
  chmod 0755 /opt/agent-swarm "$PREFIX"
  if [[ -d .harnesses && ! -L .harnesses ]]; then
    rm -rf .harnesses  # an older in-tree install: the one in /opt replaces it
  fi
  ln -sfn "$PREFIX" .harnesses
else
  PREFIX=${HARNESS_PREFIX:-$PWD/.harnesses}
fi

packages=(
  "@anthropic-ai/claude-code@2.1.197"
  "@openai/codex@0.169.0"
  "opencode-ai@1.18.33"
  "@mariozechner/pi-coding-agent@0.73.1"
)

need_apt=()
# The machine image brings Node 20 with npm; Debian's own nodejs (18) only where none is.
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v rg >/dev/null || need_apt+=(ripgrep)
if ((${#need_apt[@]})); then
  echo "install-harnesses: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

installed_all=true
for spec in "${packages[@]}"; do
  name=${spec%@*}
  want=${spec##*@}
  have=$(node -p "require('$PREFIX/node_modules/$name/package.json').version" 2>/dev/null || true)
  [[ $have == "$want" ]] || installed_all=false
done
if ! $installed_all; then
  mkdir -p "$PREFIX"
  [[ -f $PREFIX/package.json ]] || echo '{"name":"agent-swarm-harnesses","private":true}' >"$PREFIX/package.json"
  # Postinstall scripts must run: Claude Code and opencode place their native binaries there.
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "${packages[@]}"
fi

for bin in claude codex opencode pi; do
  [[ -x $PREFIX/node_modules/.bin/$bin ]] || { echo "install-harnesses: $bin is missing" >&2; exit 1; }
done
echo "install-harnesses: claude codex opencode pi ready in $PREFIX/node_modules/.bin"
