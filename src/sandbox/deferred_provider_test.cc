#include "sandbox/deferred_provider.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/fake_sandbox_provider.h"

namespace swarm::sandbox {
namespace {

using std::chrono::milliseconds;

// Counts opens and stops, records which thread did them, and lets a test kill what it opened.
struct Opens {
  std::atomic<int> opened{0};
  std::atomic<int> stopped{0};
  std::atomic<bool> fail{false};
  std::atomic<bool> dead{false};
  milliseconds delay{0};
  // What the first opened provider's creates fail with (a backend refusing connections).
  std::optional<Error> first_create_error;
  std::thread::id open_thread;
  std::thread::id stop_thread;

  DeferredSandboxProvider::Opener Opener() {
    return [this]() -> Result<OpenedSandboxes> {
      std::this_thread::sleep_for(delay);
      open_thread = std::this_thread::get_id();
      if (fail) return Unavailable("cannot start the embedded sandboxd: it exited");
      ++opened;
      dead = false;
      OpenedSandboxes out;
      auto provider = std::make_shared<FakeSandboxProvider>();
      if (opened == 1) provider->create_error = first_create_error;
      out.provider = provider;
      out.alive = [this] { return !dead.load(); };
      out.stop = [this] {
        stop_thread = std::this_thread::get_id();
        ++stopped;
      };
      return out;
    };
  }
};

TEST(DeferredSandboxProvider, OpensOnlyOnFirstUseAndListingDoesNotOpen) {
  Opens opens;
  DeferredSandboxProvider sandboxes(opens.Opener(), milliseconds(5000));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(opens.opened, 0);
  auto listed = sandboxes.List({});
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  EXPECT_EQ(opens.opened, 0);
  EXPECT_FALSE(sandboxes.open());

  auto created = sandboxes.Create({});
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->id(), "sbx-1");
  EXPECT_EQ(opens.opened, 1);
  EXPECT_TRUE(sandboxes.open());
  // Now open, List asks the provider.
  auto again = sandboxes.List({});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 1u);
  ASSERT_TRUE(sandboxes.Get("sbx-1"));
  EXPECT_EQ(opens.opened, 1);
}

TEST(DeferredSandboxProvider, ConcurrentFirstCallsShareOneOpen) {
  Opens opens;
  opens.delay = milliseconds(100);
  DeferredSandboxProvider sandboxes(opens.Opener(), milliseconds(5000));
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&] {
      if (sandboxes.Get("none").error().code == ErrorCode::kNotFound) ++ok;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok, 6);
  EXPECT_EQ(opens.opened, 1);
  EXPECT_EQ(sandboxes.attempts(), 1u);
}

TEST(DeferredSandboxProvider, AFailedOpenIsTheCallsErrorAndTheNextCallTriesAgain) {
  Opens opens;
  opens.fail = true;
  DeferredSandboxProvider sandboxes(opens.Opener(), milliseconds(5000));
  auto failed = sandboxes.Create({});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(failed.error().message, "cannot start the embedded sandboxd: it exited");
  opens.fail = false;
  auto created = sandboxes.Create({});
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(sandboxes.attempts(), 2u);
}

TEST(DeferredSandboxProvider, WhatDiedIsStoppedAndOpenedAgainByTheNextCall) {
  Opens opens;
  DeferredSandboxProvider sandboxes(opens.Opener(), milliseconds(5000));
  ASSERT_TRUE(sandboxes.Create({}));
  opens.dead = true;  // killed from outside
  EXPECT_FALSE(sandboxes.open());
  // Its sandboxes died with it: nothing to list, and nothing is opened for a list.
  auto listed = sandboxes.List({});
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  EXPECT_EQ(opens.opened, 1);

  auto created = sandboxes.Create({});
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(opens.opened, 2);
  EXPECT_EQ(opens.stopped, 1);  // the dead one, reaped before its successor started
  EXPECT_TRUE(sandboxes.open());
}

TEST(DeferredSandboxProvider, OpensAndStopsOnItsOwnThread) {
  Opens opens;
  auto sandboxes = std::make_unique<DeferredSandboxProvider>(opens.Opener(), milliseconds(5000));
  std::thread caller([&] { ASSERT_TRUE(sandboxes->Create({})); });
  const std::thread::id caller_id = caller.get_id();
  caller.join();
  EXPECT_NE(opens.open_thread, caller_id);
  EXPECT_NE(opens.open_thread, std::this_thread::get_id());
  sandboxes.reset();
  EXPECT_EQ(opens.stopped, 1);
  EXPECT_EQ(opens.stop_thread, opens.open_thread);
}

TEST(DeferredSandboxProvider, ASlowOpenIsBoundedByTheWaitLimit) {
  Opens opens;
  opens.delay = milliseconds(600);
  DeferredSandboxProvider sandboxes(opens.Opener(), milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  auto failed = sandboxes.Create({});
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(500));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(failed.error().message.find("did not come up within 0.1 s"), std::string::npos)
      << failed.error().message;
  // The open went on; once it is done the next call uses it.
  for (int i = 0; i < 50 && !sandboxes.open(); ++i) std::this_thread::sleep_for(milliseconds(50));
  EXPECT_TRUE(sandboxes.open());
  EXPECT_TRUE(sandboxes.Create({}));
  EXPECT_EQ(opens.opened, 1);
}

TEST(DeferredSandboxProvider, StopEndsCallsAndWaitsForAnOpenUnderWay) {
  Opens opens;
  opens.delay = milliseconds(200);
  DeferredSandboxProvider sandboxes(opens.Opener(), milliseconds(5000));
  std::thread caller([&] {
    auto created = sandboxes.Create({});
    EXPECT_FALSE(created);
  });
  std::this_thread::sleep_for(milliseconds(50));
  sandboxes.Stop();
  caller.join();
  // The open that was under way finished and what it opened was stopped.
  EXPECT_EQ(opens.opened, 1);
  EXPECT_EQ(opens.stopped, 1);
  auto after = sandboxes.Create({});
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().message, "the sandbox backend is stopping");
  sandboxes.Stop();  // idempotent
}

TEST(DeferredSandboxProvider, ACreateRefusedByABackendDyingThatMomentGoesToItsSuccessor) {
  Opens opens;
  opens.first_create_error = Error{ErrorCode::kUnavailable, "connection reset by peer"};
  DeferredSandboxProvider sandboxes(opens.Opener(), milliseconds(5000));
  // Killed, but not yet known dead when the create is refused: it is found dead 200 ms later.
  std::thread killer([&] {
    std::this_thread::sleep_for(milliseconds(200));
    opens.dead = true;
  });
  auto created = sandboxes.Create({});
  killer.join();
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(opens.opened, 2);
  EXPECT_EQ(opens.stopped, 1);
}

TEST(DeferredSandboxProvider, ACreateRefusedByABackendThatStaysAliveIsTheCallsError) {
  Opens opens;
  opens.first_create_error = Error{ErrorCode::kUnavailable, "sandboxd is at capacity"};
  DeferredSandboxProvider sandboxes(opens.Opener(), milliseconds(5000));
  auto created = sandboxes.Create({});
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().message, "sandboxd is at capacity");
  EXPECT_EQ(opens.opened, 1);

  // Any other error is the answer at once: no waiting for a death.
  Opens bad;
  bad.first_create_error = Error{ErrorCode::kBadRequest, "unknown template"};
  DeferredSandboxProvider other(bad.Opener(), milliseconds(5000));
  const auto start = std::chrono::steady_clock::now();
  auto refused = other.Create({});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kBadRequest);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(bad.opened, 1);
}

}  // namespace
}  // namespace swarm::sandbox
