// Another role of this same binary run as a child process: the API starts its embedded
// sandboxd, `agent-swarm smoke --local` starts sandboxd, stub-llm and the API. The child gets
// a whole environment of its own (secrets travel there, never in argv), writes its JSON log
// lines to a file, and announces its port with the "listening" line every role logs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace swarm {

struct RoleProcessSpec {
  std::string executable;                  // usually SelfExecutable()
  std::vector<std::string> args;           // after argv[0], e.g. {"sandboxd", "--port", "0"}
  std::map<std::string, std::string> env;  // the child's whole environment
  std::string log_path;                    // its stderr; stdout goes to /dev/null
  std::chrono::milliseconds start_timeout{15'000};
  bool die_with_parent = true;  // SIGTERM when this process dies, however it dies
  // In a process group of its own: a terminal's Ctrl-C (sent to the whole foreground group)
  // then reaches only the parent, which stops its children in the order it needs.
  bool own_process_group = false;
};

class RoleProcess {
 public:
  // Starts the child and waits until its log says {"msg":"listening",…,"port":N}. An error
  // carries the log's tail when it exits or stays silent past start_timeout (then it is killed).
  static Result<std::unique_ptr<RoleProcess>> Start(const RoleProcessSpec& spec);
  ~RoleProcess();  // Stop() with the default grace
  RoleProcess(const RoleProcess&) = delete;
  RoleProcess& operator=(const RoleProcess&) = delete;

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_path_; }
  bool Running();
  // SIGTERM, up to `grace` for it to exit, then SIGKILL. The exit status (128+signal when
  // signalled); the same value on later calls.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // SIGKILL at once, as a crash would (tests of restart safety); waits for it.
  int Kill();

 private:
  RoleProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  std::optional<int> Reap(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
  std::optional<int> status_;
};

// The running binary's own path (/proc/self/exe resolved), to start another of its roles.
Result<std::string> SelfExecutable();

// The last `max_bytes` of a file, starting at a line boundary when one is near.
std::string FileTail(const std::string& path, std::size_t max_bytes = 4096);

}  // namespace swarm
