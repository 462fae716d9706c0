#include "api/create_batcher.h"

#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace swarm {
namespace {

namespace asio = boost::asio;

// Starts the asynchronous operation behind Create: queues the task with a completion that
// hands the result back to the awaiting coroutine's executor. The work guard keeps that
// io_context from running out of work (and returning from run()) while the commit is pending.
struct InitiateCreate {
  CreateBatcher* batcher;

  template <typename Handler>
  void operator()(Handler&& handler, NewTask task) const {
    auto shared = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    auto work = std::make_shared<asio::executor_work_guard<asio::any_io_executor>>(
        asio::make_work_guard(asio::get_associated_executor(*shared)));
    batcher->Enqueue(std::move(task), [shared, work](Result<Task> result) {
      asio::post(work->get_executor(), [shared, work, result = std::move(result)]() mutable {
        (*shared)(std::move(result));
      });
    });
  }
};

// What a queued task holds on to, roughly.
std::size_t QueuedBytes(const NewTask& t) {
  std::size_t bytes = sizeof(NewTask) + t.task.size() + t.output_schema.value_or("").size();
  for (const auto& tag : t.tags) bytes += tag.size();
  return bytes;
}

}  // namespace

CreateBatcher::CreateBatcher(Store& store, Limits limits)
    : store_(store), limits_([&] {
        if (limits.max_batch == 0) limits.max_batch = 1;
        return limits;
      }()) {
  thread_ = std::thread([this] { Run(); });
}

CreateBatcher::~CreateBatcher() { Stop(); }

void CreateBatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

asio::awaitable<Result<Task>> CreateBatcher::Create(NewTask task) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result<Task>)>(
      InitiateCreate{this}, asio::use_awaitable, std::move(task));
}

std::size_t CreateBatcher::queued() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void CreateBatcher::Enqueue(NewTask task, Completion done) {
  const std::size_t bytes = QueuedBytes(task);
  const char* refusal = nullptr;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      refusal = "the server is shutting down";
    } else if (!queue_.empty() && (queue_.size() >= limits_.max_queued ||
                                   queued_bytes_ + bytes > limits_.max_queued_bytes)) {
      // One task alone always fits, however large: the body limit bounds it already.
      refusal = "too many task creations are waiting for the database";
    } else {
      queued_bytes_ += bytes;
      queue_.push_back({std::move(task), std::move(done)});
    }
  }
  if (refusal) {
    done(Unavailable(refusal));
    return;
  }
  cv_.notify_one();
}

void CreateBatcher::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is committed
    std::deque<Pending> batch;
    if (queue_.size() <= limits_.max_batch) {
      batch.swap(queue_);
    } else {
      for (std::size_t i = 0; i < limits_.max_batch; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (const auto& p : batch) queued_bytes_ -= QueuedBytes(p.task);
    lock.unlock();
    Commit(batch);
    lock.lock();
  }
}

void CreateBatcher::Commit(std::deque<Pending>& batch) {
  std::vector<NewTask> tasks;
  tasks.reserve(batch.size());
  for (const auto& p : batch) tasks.push_back(p.task);
  auto created = store_.CreateTasks(tasks);
  if (created) {
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move((*created)[i]));
    return;
  }
  if (batch.size() == 1) {
    batch.front().done(tl::unexpected(created.error()));
    return;
  }
  // One bad task (a duplicate id) must not fail the others: write them one by one.
  for (auto& p : batch) p.done(store_.CreateTask(p.task));
}

}  // namespace swarm
