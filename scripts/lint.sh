#!/usr/bin/env bash
# Fast checks that need no build: shellcheck on every shell script, clang-format on every C++
# file, and the Dockerfiles
# checked with hadolint when it is installed (it is not in Debian 12), else with the rules
# below that matter most for a reproducible image:
#   - every apt-get install names package=version; every npm install names package@version;
#   - every FROM names a tag other than latest;
#   - a USER and an ENTRYPOINT are declared (who runs the worker is a decision, not a default).
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
fail() {
  echo "lint: $*" >&2
  status=1
}

command -v shellcheck >/dev/null || { echo "lint: shellcheck is not installed (apt-get install shellcheck)" >&2; exit 1; }
mapfile -t shell_files < <(ls scripts/*.sh docker/*.sh 2>/dev/null)
shellcheck "${shell_files[@]}" || status=1

# Every C++ file follows .clang-format. The formatter is pinned (clang-format-14, the version of
# the clang that builds the fuzzers): another version may format the same code differently.
formatter=$(command -v clang-format-14 || true)
if [[ -z $formatter ]]; then
  fail "clang-format-14 is not installed (apt-get install clang-format-14)"
else
  mapfile -t cxx_files < <(git ls-files '*.cc' '*.h')
  "$formatter" --dry-run --Werror "${cxx_files[@]}" || fail "C++ files not clang-formatted: run $formatter -i on them"
fi

# The instructions of a Dockerfile, one a line: continuation lines joined, comments dropped.
instructions() {
  sed -e '/^[[:space:]]*#/d' "$1" | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' | tr -s ' \t' ' '
}

check_dockerfile() {
  local file=$1 line word words in_install
  local has_user=false has_entrypoint=false
  while IFS= read -r line; do
    case ${line%% *} in
      FROM)
        read -r -a words <<<"$line"
        local image=${words[1]}
        [[ $image == --platform=* ]] && image=${words[2]}
        if [[ $image != *:* && $image != *@sha256:* ]] || [[ $image == *:latest ]]; then
          # A stage name used as a base needs no tag.
          grep -qiE "^FROM .* AS $image\$" "$file" || fail "$file: FROM $image is not pinned to a tag"
        fi
        ;;
      USER) has_user=true ;;
      ENTRYPOINT) has_entrypoint=true ;;
      RUN)
        # Split the RUN into commands at && ; | and look at the package installers.
        local command
        while IFS= read -r command; do
          read -r -a words <<<"$command"
          in_install=""
          for word in "${words[@]}"; do
            case $word in
              apt-get | apt) in_install=apt-pending ;;
              npm) in_install=npm-pending ;;
              install | i)
                [[ $in_install == apt-pending ]] && in_install=apt
                [[ $in_install == npm-pending ]] && in_install=npm
                ;;
              -* | \\) ;;
              *)
                if [[ $in_install == apt && $word != *=* ]]; then
                  fail "$file: apt-get install $word is not pinned (package=version)"
                elif [[ $in_install == npm && $word != ?*@* ]]; then
                  fail "$file: npm install $word is not pinned (package@version)"
                fi
                ;;
            esac
          done
        done < <(sed -e 's/&&/\n/g; s/;/\n/g; s/|/\n/g' <<<"${line#RUN }")
        ;;
    esac
  done < <(instructions "$file")
  $has_user || fail "$file: no USER: say which user the container runs as"
  $has_entrypoint || fail "$file: no ENTRYPOINT"
}

mapfile -t dockerfiles < <(ls Dockerfile* 2>/dev/null)
if ((${#dockerfiles[@]})); then
  if command -v hadolint >/dev/null; then
    hadolint "${dockerfiles[@]}" || status=1
  else
    for f in "${dockerfiles[@]}"; do check_dockerfile "$f"; done
  fi
fi

if ((status == 0)); then
  echo "lint: ok (${#shell_files[@]} shell scripts, ${#cxx_files[@]} C++ files, ${#dockerfiles[@]} Dockerfiles)"
fi
exit "$status"
