// Keeping the worker's secrets (the swarm key above all) from the CLI it runs and from the
// commands the model has that CLI run. The child's environment is built from an allow-list
// (cli::BaseChildEnv drops the swarm key); these cover what the environment does not:
// /proc/<worker>/environ and mem, ptrace, and the worker's files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"
#include "harness/process_runner.h"

namespace swarm::harness {

// prctl(PR_SET_DUMPABLE, 0): processes of the same user can no longer read this process's
// /proc/<pid>/environ, mem or maps, nor ptrace it (root still can: hence RunAs). Call it first
// thing in the worker; children start dumpable again at exec.
Result<void> HardenProcess();

// The user the CLI runs as. nullopt when this process cannot switch users (not root, or root
// without the capabilities for it, as in a local sandbox; the CLI is then no more privileged
// than the worker) or when the user resolves to root.
// `name` (WORKER_CLI_USER) picks the user; without it, "agent-swarm-cli" when that user
// exists, else "nobody". A name that does not exist is an error.
Result<std::optional<RunAs>> ResolveCliUser(const std::optional<std::string>& name);

// Hands `path` and everything below it to `user` (lchown, symlinks not followed), so the CLI
// can write its task directory and config home.
Result<void> ChownTree(const std::filesystem::path& path, const RunAs& user);

}  // namespace swarm::harness
