// One process of a local sandbox as envd presents it: its config, its output kept as a log of
// events (start, stdout/stderr pieces, end) that any number of subscribers (bounded) read from
// their own position, and a monitor thread that reads its pipes, enforces its deadline, and
// reaps it. The process does not depend on who listens: a client that disconnects leaves it
// running, and a later Connect replays what is retained and continues live.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace swarm::sandbox {

struct ProcessConfig {
  std::string cmd;
  std::vector<std::string> args;
  std::map<std::string, std::string> envs;  // what the client asked for (List echoes it)
  std::string cwd;
};

struct ProcessEvent {
  enum class Kind { kStart, kStdout, kStderr, kEnd };
  Kind kind = Kind::kStart;
  std::string data;  // output bytes (kStdout, kStderr)
  // kEnd: envd's words. exit_code -1 and exited false when a signal ended it.
  int exit_code = 0;
  bool exited = false;
  std::string status;
};

// The end event for a wait status: "exit status 3", or "signal: killed".
ProcessEvent EndEventForStatus(int wait_status);

// The events of one process. The start event and the end event are always kept; output beyond
// `max_bytes` drops the oldest pieces (a subscriber that was behind skips them). Thread-safe.
class ProcessOutput {
 public:
  explicit ProcessOutput(std::size_t max_bytes = 1 << 20, std::size_t max_subscribers = 16)
      : max_bytes_(max_bytes), max_subscribers_(max_subscribers) {}

  void Append(ProcessEvent event);  // wakes every subscriber

  struct Slice {
    std::vector<ProcessEvent> events;
    uint64_t next = 0;   // pass back to read on
    bool ended = false;  // the end event is in `events` or was read before
  };
  // Events from position `from` (0: from the start event).
  Slice ReadFrom(uint64_t from) const;
  // The position after the output retained now (before the end): reading from it gives only
  // what comes later.
  uint64_t OutputEnd() const;

  // `wake` is called, from any thread and without locks held, after each Append. Nullopt when
  // the process already has max_subscribers listeners.
  std::optional<uint64_t> Subscribe(std::function<void()> wake);
  void Unsubscribe(uint64_t id);
  std::size_t subscribers() const;
  std::size_t retained_bytes() const;

 private:
  const std::size_t max_bytes_;
  const std::size_t max_subscribers_;
  mutable std::mutex mu_;
  std::optional<ProcessEvent> start_;
  std::deque<ProcessEvent> middle_;  // output pieces, positions first_ .. first_+size-1
  uint64_t first_ = 1;               // position of middle_.front()
  std::size_t middle_bytes_ = 0;
  std::optional<ProcessEvent> end_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void()>> wakers_;
};

// What Launch gave for a process: its pids and the parent's ends of its pipes.
struct SpawnedProcess {
  pid_t host_pid = 0;
  int pid = 0;  // as the sandbox sees it (its PID namespace)
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

class LocalProcess {
 public:
  LocalProcess(SpawnedProcess spawned, ProcessConfig config, std::string tag,
               std::optional<std::chrono::steady_clock::time_point> deadline,
               std::size_t max_output_bytes);
  ~LocalProcess();  // waits for the monitor (the process must be ending)
  LocalProcess(const LocalProcess&) = delete;
  LocalProcess& operator=(const LocalProcess&) = delete;

  // Emits the start event and starts the monitor thread.
  void Start();

  int pid() const { return spawned_.pid; }
  pid_t host_pid() const { return spawned_.host_pid; }
  const ProcessConfig& config() const { return config_; }
  const std::string& tag() const { return tag_; }
  ProcessOutput& output() { return output_; }
  bool running() const { return !exited_.load(); }

  // Sends `signal` to the process's group (its session: it and what it started). False when
  // it has exited already.
  bool Signal(int signal);
  Result<void> WriteStdin(std::string_view bytes);
  Result<void> CloseStdin();
  // Blocks until the monitor has recorded the end (bounded by `timeout`).
  bool WaitEnded(std::chrono::milliseconds timeout);

 private:
  void Monitor();

  SpawnedProcess spawned_;
  const ProcessConfig config_;
  const std::string tag_;
  const std::optional<std::chrono::steady_clock::time_point> deadline_;
  ProcessOutput output_;
  std::atomic<bool> exited_{false};  // reaped: host_pid may be reused from now on
  std::mutex stdin_mu_;
  std::mutex signal_mu_;  // held while signalling and while reaping, so no reused pid is hit
  std::mutex ended_mu_;
  std::condition_variable ended_cv_;
  bool ended_ = false;
  std::thread monitor_;
};

}  // namespace swarm::sandbox
