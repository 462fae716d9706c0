// The harness CLI's version, which the worker reports when it registers (cliVersion) next to
// its own build version: the smoke runner shows both, so a report says which CLI ran.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "harness/process_runner.h"
#include "worker/worker_config.h"

namespace swarm::worker {

inline constexpr std::size_t kMaxCliVersionBytes = 100;
inline constexpr std::chrono::milliseconds kCliVersionTimeout{10'000};

// The first non-blank line of `output`, trimmed, cut to kMaxCliVersionBytes, valid UTF-8;
// empty when there is none.
std::string FirstVersionLine(std::string_view output);

// The version of the npm package an installed CLI belongs to: `binary` resolved through its
// symlinks (npm links node_modules/.bin/<cli> into the package), then the nearest package.json
// above it, at most four levels up, naming a version. Reading it costs nothing, where starting
// the CLI costs a second of CPU beside the task it runs. nullopt when there is none.
std::optional<std::string> NpmPackageVersion(const std::filesystem::path& binary);

// The CLI's version: its npm package's (NpmPackageVersion of the program found on the child
// PATH), else the first line `<cli> --version` prints. The latter runs once, as a task's CLI runs:
// the provider's program (each adapter's argv[0] is the provider's name) looked up in the worker's
// child PATH, where HARNESS_BIN_DIR comes first; the worker's child env; a fresh HOME; as the CLI
// user. The first line of its stdout, or an error saying why there is none (not found, non-zero
// exit, timeout, no output,
// `*cancel` set: a stop signal during startup).
Result<std::string> ProbeCliVersion(harness::ProcessRunner& runner, const WorkerConfig& config,
                                    std::chrono::milliseconds timeout = kCliVersionTimeout,
                                    const std::atomic<bool>* cancel = nullptr);

}  // namespace swarm::worker
