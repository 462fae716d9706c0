#include "worker/cli_version.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/bounded_json.h"
#include "core/utf8.h"
#include "harness/posix_process_runner.h"
#include "harness/process_hardening.h"
#include "worker/task_dirs.h"

namespace swarm::worker {
namespace {

constexpr std::size_t kMaxStderrQuote = 300;

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlank) - first + 1);
}

std::string Cut(std::string_view text, std::size_t max) {
  return SanitizeUtf8(Utf8Prefix(text, max));
}

constexpr std::uintmax_t kMaxPackageJsonBytes = 1 << 20;
constexpr int kPackageSearchDepth = 4;

}  // namespace

std::optional<std::string> NpmPackageVersion(const std::filesystem::path& binary) {
  std::error_code ec;
  const std::filesystem::path resolved = std::filesystem::canonical(binary, ec);
  if (ec) return std::nullopt;
  std::filesystem::path dir = resolved.parent_path();
  for (int level = 0; level < kPackageSearchDepth && !dir.empty(); ++level) {
    const std::filesystem::path manifest = dir / "package.json";
    const auto size = std::filesystem::file_size(manifest, ec);
    if (!ec) {
      if (size > kMaxPackageJsonBytes) return std::nullopt;
      std::ifstream in(manifest, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      auto parsed = ParseBoundedJson(text.str());
      if (!parsed || !parsed->is_object()) return std::nullopt;
      auto version = parsed->find("version");
      if (version == parsed->end() || !version->is_string()) return std::nullopt;
      std::string found = FirstVersionLine(version->get<std::string>());
      if (found.empty()) return std::nullopt;
      return found;
    }
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return std::nullopt;
}

std::string FirstVersionLine(std::string_view output) {
  while (!output.empty()) {
    const auto end = output.find('\n');
    const std::string_view line = Trim(output.substr(0, end));
    if (!line.empty()) return Cut(line, kMaxCliVersionBytes);
    if (end == std::string_view::npos) break;
    output.remove_prefix(end + 1);
  }
  return {};
}

Result<std::string> ProbeCliVersion(harness::ProcessRunner& runner, const WorkerConfig& config,
                                    std::chrono::milliseconds timeout,
                                    const std::atomic<bool>* cancel) {
  const std::string program = harness::ProviderName(config.provider);
  // The binary the run below would start (the runner resolves argv[0] the same way).
  const auto path = config.base_env.find("PATH");
  if (auto found = harness::ResolveExecutable(
          program, path != config.base_env.end() ? path->second : "/usr/bin:/bin")) {
    if (auto version = NpmPackageVersion(*found)) return *version;
  }
  // A fresh HOME, removed after: a CLI may write its config or cache on any start.
  auto dirs = PrepareTaskDirs(config.work_root, "cli-version");
  if (!dirs) return tl::unexpected(dirs.error());
  struct Cleanup {
    const TaskDirs& dirs;
    ~Cleanup() { RemoveTaskDirs(dirs); }
  } cleanup{*dirs};
  if (config.cli_user) {
    for (const auto& dir : {dirs->work, dirs->home}) {
      if (auto handed = harness::ChownTree(dir, *config.cli_user); !handed) {
        return tl::unexpected(handed.error());
      }
    }
  }

  harness::ProcessSpec spec;
  spec.argv = {program, "--version"};
  spec.env = config.base_env;
  spec.env["HOME"] = dirs->home.string();
  spec.cwd = dirs->work;
  spec.timeout = timeout;
  spec.run_as = config.cli_user;
  std::string first;
  auto outcome = runner.Run(
      spec,
      [&first](std::string_view line) {
        if (first.empty()) first = FirstVersionLine(line);
      },
      cancel);
  if (!outcome) return tl::unexpected(outcome.error());
  if (outcome->cancelled) return Unavailable(program + " --version: cancelled (stopping)");
  auto with_stderr = [&](std::string message) {
    if (auto tail = Trim(outcome->stderr_tail); !tail.empty()) {
      if (tail.size() > kMaxStderrQuote) tail = tail.substr(tail.size() - kMaxStderrQuote);
      message += "; stderr: " + SanitizeUtf8(tail);
    }
    return message;
  };
  if (outcome->timed_out) {
    return Unavailable(
        fmt::format("{} --version did not finish within {} ms", program, timeout.count()));
  }
  if (outcome->signal != 0) {
    return Unavailable(
        with_stderr(fmt::format("{} --version was killed by signal {}", program, outcome->signal)));
  }
  if (outcome->exit_code != 0) {
    return Unavailable(
        with_stderr(fmt::format("{} --version exited with {}", program, outcome->exit_code)));
  }
  // Some CLIs (pi) print their version on stderr.
  if (first.empty()) first = FirstVersionLine(outcome->stderr_tail);
  if (first.empty()) return Unavailable(program + " --version printed nothing");
  return first;
}

}  // namespace swarm::worker
