// A SandboxProvider that opens the real one on first use and again after it died. The API's
// embedded sandboxd is one: starting it (a child process, plus the worker template built in it)
// costs about 250 ms and 5 MB before the API could answer /health, for smoke runs that may
// never come. Deferred, the API is healthy in milliseconds and sandboxd starts with the first
// run; a sandboxd that crashed or was killed is started again by the next call.
//
// Opening runs on a thread of this object's own, which lives as long as it does: a child
// started with PR_SET_PDEATHSIG dies with the thread that started it, so it must not be a
// smoke run's thread, which ends with the run.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "sandbox/sandbox_provider.h"

namespace swarm::sandbox {

// What an open gives: the provider, and the hooks of what serves it.
struct OpenedSandboxes {
  std::shared_ptr<SandboxProvider> provider;
  // False once what serves `provider` has died; the next call then opens again. Null: never dies.
  std::function<bool()> alive;
  // Stops what serves it; called once, on the opening thread. Null: nothing to stop.
  std::function<void()> stop;
};

class DeferredSandboxProvider final : public SandboxProvider {
 public:
  using Opener = std::function<Result<OpenedSandboxes>()>;

  // `wait_limit` bounds how long a call waits for an open, its own or one already under way;
  // past it the call fails kUnavailable (the open goes on, for the next call).
  DeferredSandboxProvider(Opener opener, std::chrono::milliseconds wait_limit);
  ~DeferredSandboxProvider() override;  // Stop()
  DeferredSandboxProvider(const DeferredSandboxProvider&) = delete;
  DeferredSandboxProvider& operator=(const DeferredSandboxProvider&) = delete;

  // Whether a provider is open and alive now (never opens one).
  bool open();
  // Finished open attempts, failed ones included.
  std::uint64_t attempts();
  // Waits for an open under way, stops what was opened (on the opening thread) and ends that
  // thread; later calls fail kUnavailable. Idempotent.
  void Stop();

  Result<SandboxInfo> Create(const SandboxSpec& spec) override;
  Result<SandboxInfo> Get(std::string_view sandbox_id) override;
  // Nothing was opened, or what was opened died: no sandbox of it can be running, so this
  // answers an empty list without opening (the smoke sweep lists on a timer).
  Result<std::vector<SandboxInfo>> List(const StringMap& metadata_filter) override;
  Result<bool> Kill(std::string_view sandbox_id) override;
  Result<void> SetTimeout(std::string_view sandbox_id, std::chrono::seconds timeout) override;
  Result<SandboxInfo> Connect(std::string_view sandbox_id, std::chrono::seconds timeout) override;
  Result<CommandResult> Run(const SandboxHandle& sandbox, const CommandSpec& command,
                            const OutputCallbacks& callbacks) override;
  Result<int> StartBackground(const SandboxHandle& sandbox, const CommandSpec& command) override;
  Result<std::vector<ProcessInfo>> ListProcesses(const SandboxHandle& sandbox) override;
  Result<bool> SendSignal(const SandboxHandle& sandbox, int pid, Signal signal) override;
  Result<std::string> ReadFile(const SandboxHandle& sandbox, std::string_view path) override;
  Result<void> WriteFile(const SandboxHandle& sandbox, std::string_view path,
                         std::string_view content) override;

 private:
  // The open provider, opening it (or waiting for the open under way) when there is none alive.
  Result<std::shared_ptr<SandboxProvider>> Ensure();
  // The open provider if alive, else null; mu_ held.
  std::shared_ptr<SandboxProvider> AliveLocked();
  void Keep();  // the opening thread
  // Whether `provider` is found dead (or replaced) within `grace`.
  bool DiesWithin(const std::shared_ptr<SandboxProvider>& provider,
                  std::chrono::milliseconds grace);
  static constexpr std::chrono::milliseconds kDeathGrace{2000};
  // `call` on the open provider, or the reason there is none.
  template <typename Fn>
  auto WithOpen(Fn&& fn) -> decltype(fn(std::declval<SandboxProvider&>())) {
    auto provider = Ensure();
    if (!provider) return tl::unexpected(provider.error());
    return fn(**provider);
  }

  const Opener opener_;
  const std::chrono::milliseconds wait_limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool open_requested_ = false;
  bool opening_ = false;
  std::uint64_t attempts_ = 0;
  std::optional<Error> last_error_;  // of the latest attempt, when it failed
  OpenedSandboxes current_;
  std::thread keeper_;  // last: started once the fields above exist
};

}  // namespace swarm::sandbox
