// Helpers for the harness unit tests only (header-only, so the library does not carry them).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace swarm::harness::testing {

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "harness-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every regular file below `dir`.
inline std::vector<std::filesystem::path> FilesUnder(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

}  // namespace swarm::harness::testing

#include "harness/adapter.h"

namespace swarm::harness::testing {

// A task run with a fresh home and work directory under `root`.
inline TaskRun MakeTaskRun(const std::filesystem::path& root, std::string prompt = "say pong") {
  TaskRun run;
  run.task_id = "task-1";
  run.prompt = std::move(prompt);
  run.work_dir = root / "work";
  run.home_dir = root / "home";
  std::filesystem::create_directories(run.work_dir);
  std::filesystem::create_directories(run.home_dir);
  run.base_env = {{"PATH", "/opt/harness/bin:/usr/bin:/bin"},
                  {"HOME", "/root"},
                  {"LANG", "C.UTF-8"},
                  {"AGENT_SWARM_API_KEY", "swarm-api-key-must-not-leak"},
                  {"API_KEY", "swarm-api-key-must-not-leak"}};
  run.timeout = std::chrono::milliseconds(120'000);
  return run;
}

// The swarm's MCP server as a worker would hand it to a task run.
inline McpAccess TestMcpAccess() {
  return {"http://127.0.0.1:3013/mcp", "agent-7", "task-1", "mcpt.task-1.token-must-not-leak"};
}

// Whether any file below `dir` holds `secret`.
inline bool AnyFileHolds(const std::filesystem::path& dir, const std::string& secret) {
  for (const auto& file : FilesUnder(dir)) {
    if (ReadFile(file).find(secret) != std::string::npos) return true;
  }
  return false;
}

// Feeds lines to a fresh parser of `adapter` and finishes it with the given exit code.
inline ParsedRun ParseLines(const Adapter& adapter, const std::vector<std::string>& lines,
                            int exit_code = 0, std::string stderr_tail = "") {
  auto parser = adapter.NewParser();
  for (const auto& line : lines) parser->Feed(line);
  ProcessOutcome outcome;
  outcome.exit_code = exit_code;
  outcome.stderr_tail = std::move(stderr_tail);
  return parser->Finish(outcome);
}

}  // namespace swarm::harness::testing
