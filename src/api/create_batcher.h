// Group commit for task creation. A POST /api/tasks handler hands its task to the batcher and
// waits with co_await, so its I/O thread stays free to read more requests; one committer
// thread writes everything queued since its last commit in a single store transaction, then
// completes each waiter on its own executor. Under load N creations share one commit (the
// commit, not the insert, is what costs); alone, a creation waits only for its own.
//
// The queue is bounded in tasks and in bytes: past either bound a creation fails at once with
// kUnavailable (503 with Retry-After), so a flood or a stuck database cannot grow memory.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include <boost/asio/awaitable.hpp>

#include "core/error.h"
#include "core/task.h"
#include "store/store.h"

namespace swarm {

class CreateBatcher {
 public:
  struct Limits {
    std::size_t max_batch = 256;              // tasks per commit
    std::size_t max_queued = 4096;            // tasks waiting for a commit
    std::size_t max_queued_bytes = 64 << 20;  // their text, schema and tags
  };
  explicit CreateBatcher(Store& store) : CreateBatcher(store, Limits{}) {}
  CreateBatcher(Store& store, Limits limits);
  ~CreateBatcher();  // Stop()
  CreateBatcher(const CreateBatcher&) = delete;
  CreateBatcher& operator=(const CreateBatcher&) = delete;

  // Writes the task (with the others queued alongside it) and returns it as stored. Must be
  // awaited from a coroutine whose io_context is running.
  boost::asio::awaitable<Result<Task>> Create(NewTask task);

  // Tasks queued and not yet taken by the committer.
  std::size_t queued();

  // Commits what is queued and stops the committer. Creations after this fail kUnavailable.
  void Stop();

  using Completion = std::function<void(Result<Task>)>;
  // The callback form of Create, for the awaitable adapter: `done` runs on the committer
  // thread.
  void Enqueue(NewTask task, Completion done);

 private:
  struct Pending {
    NewTask task;
    Completion done;
  };
  void Run();
  void Commit(std::deque<Pending>& batch);

  Store& store_;
  const Limits limits_;
  std::size_t queued_bytes_ = 0;  // guarded by mu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace swarm
