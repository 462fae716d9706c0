#include "sandbox/deferred_provider.h"

#include <thread>
#include <utility>

#include <fmt/format.h>

namespace swarm::sandbox {

DeferredSandboxProvider::DeferredSandboxProvider(Opener opener,
                                                 std::chrono::milliseconds wait_limit)
    : opener_(std::move(opener)), wait_limit_(wait_limit), keeper_([this] { Keep(); }) {}

DeferredSandboxProvider::~DeferredSandboxProvider() { Stop(); }

void DeferredSandboxProvider::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (keeper_.joinable() && keeper_.get_id() != std::this_thread::get_id()) keeper_.join();
}

bool DeferredSandboxProvider::open() {
  std::lock_guard lock(mu_);
  return AliveLocked() != nullptr;
}

std::uint64_t DeferredSandboxProvider::attempts() {
  std::lock_guard lock(mu_);
  return attempts_;
}

std::shared_ptr<SandboxProvider> DeferredSandboxProvider::AliveLocked() {
  if (!current_.provider) return nullptr;
  if (current_.alive && !current_.alive()) return nullptr;
  return current_.provider;
}

void DeferredSandboxProvider::Keep() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || open_requested_; });
    if (stopping_) break;
    open_requested_ = false;
    opening_ = true;
    // What died is stopped here, on the thread that started it, before its successor starts.
    OpenedSandboxes stale = std::exchange(current_, {});
    lock.unlock();
    if (stale.stop) stale.stop();
    stale = {};
    auto opened = opener_();
    lock.lock();
    opening_ = false;
    ++attempts_;
    if (opened) {
      current_ = std::move(*opened);
      last_error_.reset();
    } else {
      last_error_ = opened.error();
    }
    cv_.notify_all();
  }
  OpenedSandboxes last = std::exchange(current_, {});
  lock.unlock();
  if (last.stop) last.stop();
}

Result<std::shared_ptr<SandboxProvider>> DeferredSandboxProvider::Ensure() {
  std::unique_lock lock(mu_);
  if (stopping_) return Unavailable("the sandbox backend is stopping");
  if (auto provider = AliveLocked()) return provider;
  if (!opening_) {
    open_requested_ = true;
    cv_.notify_all();
  }
  // Any attempt that ends from now on answers this call: ours, or the one already under way
  // (one that began before what we saw died would still be followed by ours: open_requested_).
  const std::uint64_t before = attempts_;
  const bool ended =
      cv_.wait_for(lock, wait_limit_, [&] { return stopping_ || attempts_ > before; });
  if (stopping_) return Unavailable("the sandbox backend is stopping");
  if (!ended) {
    return Unavailable(fmt::format("the sandbox backend did not come up within {} s",
                                   std::chrono::duration<double>(wait_limit_).count()));
  }
  if (auto provider = AliveLocked()) return provider;
  if (last_error_) return tl::unexpected(*last_error_);
  return Unavailable("the sandbox backend died as soon as it came up");
}

bool DeferredSandboxProvider::DiesWithin(const std::shared_ptr<SandboxProvider>& provider,
                                         std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
      if (current_.provider != provider) return true;  // already replaced
      if (!current_.alive) return false;               // never dies
      if (!current_.alive()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<SandboxInfo> DeferredSandboxProvider::Create(const SandboxSpec& spec) {
  auto provider = Ensure();
  if (!provider) return tl::unexpected(provider.error());
  auto created = (*provider)->Create(spec);
  // A backend killed a moment ago refuses the connection before it can be reaped (a SIGKILLed
  // process with threads still exiting is not yet a zombie one can wait for), so it still
  // looked alive. If it proves dead within the grace, this create goes to its successor: no
  // sandbox of the dead one outlives it, so nothing is created twice.
  if (created || created.error().code != ErrorCode::kUnavailable ||
      !DiesWithin(*provider, kDeathGrace)) {
    return created;
  }
  return WithOpen([&](SandboxProvider& p) { return p.Create(spec); });
}

Result<SandboxInfo> DeferredSandboxProvider::Get(std::string_view sandbox_id) {
  return WithOpen([&](SandboxProvider& p) { return p.Get(sandbox_id); });
}

Result<std::vector<SandboxInfo>> DeferredSandboxProvider::List(const StringMap& metadata_filter) {
  std::shared_ptr<SandboxProvider> provider;
  {
    std::lock_guard lock(mu_);
    provider = AliveLocked();
  }
  if (!provider) return std::vector<SandboxInfo>{};
  return provider->List(metadata_filter);
}

Result<bool> DeferredSandboxProvider::Kill(std::string_view sandbox_id) {
  return WithOpen([&](SandboxProvider& p) { return p.Kill(sandbox_id); });
}

Result<void> DeferredSandboxProvider::SetTimeout(std::string_view sandbox_id,
                                                 std::chrono::seconds timeout) {
  return WithOpen([&](SandboxProvider& p) { return p.SetTimeout(sandbox_id, timeout); });
}

Result<SandboxInfo> DeferredSandboxProvider::Connect(std::string_view sandbox_id,
                                                     std::chrono::seconds timeout) {
  return WithOpen([&](SandboxProvider& p) { return p.Connect(sandbox_id, timeout); });
}

Result<CommandResult> DeferredSandboxProvider::Run(const SandboxHandle& sandbox,
                                                   const CommandSpec& command,
                                                   const OutputCallbacks& callbacks) {
  return WithOpen([&](SandboxProvider& p) { return p.Run(sandbox, command, callbacks); });
}

Result<int> DeferredSandboxProvider::StartBackground(const SandboxHandle& sandbox,
                                                     const CommandSpec& command) {
  return WithOpen([&](SandboxProvider& p) { return p.StartBackground(sandbox, command); });
}

Result<std::vector<ProcessInfo>> DeferredSandboxProvider::ListProcesses(
    const SandboxHandle& sandbox) {
  return WithOpen([&](SandboxProvider& p) { return p.ListProcesses(sandbox); });
}

Result<bool> DeferredSandboxProvider::SendSignal(const SandboxHandle& sandbox, int pid,
                                                 Signal signal) {
  return WithOpen([&](SandboxProvider& p) { return p.SendSignal(sandbox, pid, signal); });
}

Result<std::string> DeferredSandboxProvider::ReadFile(const SandboxHandle& sandbox,
                                                      std::string_view path) {
  return WithOpen([&](SandboxProvider& p) { return p.ReadFile(sandbox, path); });
}

Result<void> DeferredSandboxProvider::WriteFile(const SandboxHandle& sandbox, std::string_view path,
                                                std::string_view content) {
  return WithOpen([&](SandboxProvider& p) { return p.WriteFile(sandbox, path, content); });
}

}  // namespace swarm::sandbox
