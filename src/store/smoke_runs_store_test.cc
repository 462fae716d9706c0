// SqliteStore's smoke runs: persistence, paging, the running-only update guard, the sweep's
// interruption, redaction on disk, and the upgrade of a database from schema version 3.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/migrations.h"
#include "store/migrator.h"
#include "store/sqlite_store.h"

namespace swarm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kSwarmKey[] = "swarm-key-9f3c1d7e";
constexpr char kProviderKey[] = "sk-ant-secret-52a8b0";

std::string At(int s) { return FormatIsoTime(TimePoint(std::chrono::seconds(1'767'225'600 + s))); }

SmokeRun MakeRun(const std::string& id, int at) {
  SmokeRun run;
  run.id = id;
  run.request.providers = {"claude", "codex"};
  run.request.template_id = "agent-swarm-worker";
  run.request.api_url = "http://127.0.0.1:3013";
  run.request.deployment_sha = "abc1234";
  run.api_version = "0.8.0+abc1234";
  run.owner = "api-instance-1";
  for (const std::string& provider : run.request.providers) {
    ProviderSmokeResult result;
    result.provider = provider;
    result.agent_id = "smoke-" + provider + "-abc1234-" + id;
    run.results.push_back(result);
  }
  run.created_at = At(at);
  run.updated_at = At(at);
  return run;
}

std::vector<std::string> Ids(const std::vector<SmokeRun>& runs) {
  std::vector<std::string> ids;
  for (const SmokeRun& run : runs) ids.push_back(run.id);
  return ids;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class SmokeRunsStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "smoke_runs_store_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    path_ = dir_ + "/swarm.db";
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    auto opened = SqliteStore::Open(path_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }
  SmokeRun Create(const SmokeRun& run) {
    auto created = store_->CreateSmokeRun(run);
    EXPECT_TRUE(created) << created.error().message;
    return created ? *created : SmokeRun{};
  }
  SmokeRun Get(const std::string& id) {
    auto run = store_->GetSmokeRun(id);
    EXPECT_TRUE(run) << run.error().message;
    return run ? *run : SmokeRun{};
  }
  // Everything SQLite keeps on disk for the database: the file, its WAL and shared memory.
  std::string DiskBytes() {
    std::string bytes;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      bytes += ReadFile(entry.path());
    }
    return bytes;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SmokeRunsStoreTest, CreateAndGetRoundTripEveryField) {
  SmokeRun run = MakeRun("r1", 0);
  run.request.timeout_ms = 60'000;
  run.request.sandbox_timeout_sec = 300;
  run.request.model_base_url = "http://127.0.0.1:4010/v1";
  run.request.allow_version_skew = true;
  ProviderSmokeResult& claude = run.results[0];
  claude.ok = true;
  claude.phase = SmokePhase::kDone;
  claude.sandbox_id = "sbx-1";
  claude.task_id = "t1";
  claude.task_status = "completed";
  claude.session_id = "s1";
  claude.output = R"({"reply":"pong"})";
  claude.cost_usd = 0.0125;
  claude.log_lines = 42;
  claude.cli_version = "2.1.3";
  claude.worker_version = "0.8.0+abc1234";
  claude.timings.sandbox_created_ms = 900;
  claude.timings.worker_registered_ms = 2100;
  claude.timings.task_done_ms = 5000;
  claude.timings.total_ms = 5400;
  claude.sandbox_killed = true;
  run.results[1].failure_reason = "OPENAI_API_KEY is not set";

  const SmokeRun created = Create(run);
  for (const SmokeRun& got : {created, Get("r1")}) {
    EXPECT_EQ(got.id, "r1");
    EXPECT_EQ(got.status, SmokeRunStatus::kRunning);
    EXPECT_FALSE(got.ok);
    EXPECT_THAT(got.request.providers, ElementsAre("claude", "codex"));
    EXPECT_EQ(got.request.template_id, "agent-swarm-worker");
    EXPECT_EQ(got.request.api_url, "http://127.0.0.1:3013");
    EXPECT_EQ(got.request.deployment_sha, "abc1234");
    EXPECT_EQ(got.request.timeout_ms, 60'000);
    EXPECT_EQ(got.request.sandbox_timeout_sec, 300);
    EXPECT_EQ(got.request.model_base_url, "http://127.0.0.1:4010/v1");
    EXPECT_TRUE(got.request.allow_version_skew);
    EXPECT_EQ(got.api_version, "0.8.0+abc1234");
    EXPECT_EQ(got.owner, "api-instance-1");
    EXPECT_EQ(got.created_at, At(0));
    EXPECT_EQ(got.updated_at, At(0));
    EXPECT_EQ(got.finished_at, std::nullopt);
    ASSERT_EQ(got.results.size(), 2u);
    const ProviderSmokeResult& r = got.results[0];
    EXPECT_EQ(r.provider, "claude");
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.phase, SmokePhase::kDone);
    EXPECT_EQ(r.sandbox_id, "sbx-1");
    EXPECT_EQ(r.agent_id, "smoke-claude-abc1234-r1");
    EXPECT_EQ(r.task_id, "t1");
    EXPECT_EQ(r.task_status, "completed");
    EXPECT_EQ(r.session_id, "s1");
    EXPECT_EQ(r.output, R"({"reply":"pong"})");
    EXPECT_EQ(r.cost_usd, 0.0125);
    EXPECT_EQ(r.log_lines, 42);
    EXPECT_EQ(r.cli_version, "2.1.3");
    EXPECT_EQ(r.worker_version, "0.8.0+abc1234");
    EXPECT_EQ(r.timings.sandbox_created_ms, 900);
    EXPECT_EQ(r.timings.worker_registered_ms, 2100);
    EXPECT_EQ(r.timings.task_done_ms, 5000);
    EXPECT_EQ(r.timings.total_ms, 5400);
    EXPECT_TRUE(r.sandbox_killed);
    EXPECT_EQ(got.results[1].provider, "codex");
    EXPECT_EQ(got.results[1].phase, SmokePhase::kQueued);
    EXPECT_EQ(got.results[1].failure_reason, "OPENAI_API_KEY is not set");
  }
}

TEST_F(SmokeRunsStoreTest, DuplicateIdIsAConflictAndUnknownIdNotFound) {
  Create(MakeRun("r1", 0));
  auto again = store_->CreateSmokeRun(MakeRun("r1", 5));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_THAT(again.error().message, HasSubstr("r1"));
  EXPECT_EQ(Get("r1").created_at, At(0));

  auto missing = store_->GetSmokeRun("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto update = store_->UpdateSmokeRun(MakeRun("nope", 0));
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().code, ErrorCode::kNotFound);
}

TEST_F(SmokeRunsStoreTest, ListIsNewestFirstPagedWithTheTotal) {
  Create(MakeRun("oldest", 0));
  Create(MakeRun("newest", 30));
  Create(MakeRun("middle-a", 10));
  Create(MakeRun("middle-b", 10));  // same instant: the later insertion first
  Create(MakeRun("second", 20));

  auto all = store_->ListSmokeRuns(0, 0);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_THAT(Ids(all->runs), ElementsAre("newest", "second", "middle-b", "middle-a", "oldest"));
  EXPECT_EQ(all->total, 5);

  auto first = store_->ListSmokeRuns(2, 0);
  ASSERT_TRUE(first);
  EXPECT_THAT(Ids(first->runs), ElementsAre("newest", "second"));
  EXPECT_EQ(first->total, 5);
  auto last = store_->ListSmokeRuns(2, 4);
  ASSERT_TRUE(last);
  EXPECT_THAT(Ids(last->runs), ElementsAre("oldest"));
  EXPECT_EQ(last->total, 5);
  auto past = store_->ListSmokeRuns(2, 9);
  ASSERT_TRUE(past);
  EXPECT_THAT(past->runs, IsEmpty());
  EXPECT_EQ(past->total, 5);
  // Each listed run is whole, results included.
  ASSERT_EQ(first->runs[0].results.size(), 2u);
  EXPECT_EQ(first->runs[0].results[1].agent_id, "smoke-codex-abc1234-newest");
}

TEST_F(SmokeRunsStoreTest, UpdateReplacesTheRunOnlyWhileItIsRunning) {
  SmokeRun run = Create(MakeRun("r1", 0));
  run.results[0].phase = SmokePhase::kTaskRunning;
  run.results[0].sandbox_id = "sbx-1";
  run.updated_at = At(5);
  auto progress = store_->UpdateSmokeRun(run);
  ASSERT_TRUE(progress) << progress.error().message;
  EXPECT_EQ(progress->status, SmokeRunStatus::kRunning);
  EXPECT_EQ(progress->results[0].phase, SmokePhase::kTaskRunning);

  run.status = SmokeRunStatus::kPassed;
  run.ok = true;
  for (ProviderSmokeResult& r : run.results) {
    r.ok = true;
    r.phase = SmokePhase::kDone;
  }
  run.updated_at = At(9);
  run.finished_at = At(9);
  // Fields the update does not own stay as created.
  run.owner = "someone-else";
  run.created_at = At(99);
  auto finished = store_->UpdateSmokeRun(run);
  ASSERT_TRUE(finished) << finished.error().message;
  EXPECT_EQ(finished->status, SmokeRunStatus::kPassed);
  EXPECT_TRUE(finished->ok);
  EXPECT_EQ(finished->finished_at, At(9));
  EXPECT_EQ(finished->owner, "api-instance-1");
  EXPECT_EQ(finished->created_at, At(0));

  run.status = SmokeRunStatus::kFailed;
  run.ok = false;
  auto late = store_->UpdateSmokeRun(run);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  EXPECT_THAT(late.error().message, HasSubstr("passed"));
  EXPECT_EQ(Get("r1").status, SmokeRunStatus::kPassed);
}

TEST_F(SmokeRunsStoreTest, InterruptMarksOrphanedRunsAndKeepsLiveOnes) {
  Create(MakeRun("live", 0));
  SmokeRun orphan = MakeRun("orphan", 1);
  orphan.results[0].phase = SmokePhase::kDone;  // finished before the API died
  orphan.results[0].ok = true;
  orphan.results[1].phase = SmokePhase::kTaskRunning;
  orphan.results[1].sandbox_id = "sbx-2";
  Create(orphan);
  SmokeRun cleaning = MakeRun("cleaning", 2);
  cleaning.results[0].phase = SmokePhase::kCleaningUp;
  cleaning.results[0].failure_reason = "output does not match the schema";
  Create(cleaning);
  SmokeRun finished = MakeRun("finished", 3);
  finished.status = SmokeRunStatus::kFailed;
  finished.finished_at = At(4);
  Create(finished);

  const std::string reason = "interrupted: the API restarted";
  auto interrupted = store_->InterruptSmokeRuns({"live"}, reason, At(60));
  ASSERT_TRUE(interrupted) << interrupted.error().message;
  EXPECT_THAT(Ids(*interrupted), ElementsAre("orphan", "cleaning"));

  const SmokeRun stored = Get("orphan");
  EXPECT_EQ(stored.status, SmokeRunStatus::kInterrupted);
  EXPECT_FALSE(stored.ok);
  EXPECT_EQ(stored.finished_at, At(60));
  EXPECT_EQ(stored.updated_at, At(60));
  ASSERT_EQ(stored.results.size(), 2u);
  EXPECT_TRUE(stored.results[0].ok);  // done before: untouched
  EXPECT_EQ(stored.results[0].failure_reason, std::nullopt);
  EXPECT_FALSE(stored.results[1].ok);
  EXPECT_EQ(stored.results[1].phase, SmokePhase::kDone);
  EXPECT_EQ(stored.results[1].failure_reason, reason);
  EXPECT_EQ(stored.results[1].sandbox_id, "sbx-2");  // the sweep kills it by its tags
  EXPECT_EQ((*interrupted)[0].results[1].failure_reason, reason);

  const SmokeRun stored_cleaning = Get("cleaning");
  EXPECT_EQ(stored_cleaning.results[0].failure_reason,
            "output does not match the schema; " + reason);

  EXPECT_EQ(Get("live").status, SmokeRunStatus::kRunning);
  EXPECT_EQ(Get("finished").status, SmokeRunStatus::kFailed);
  EXPECT_EQ(Get("finished").finished_at, At(4));

  // The runner of an interrupted run cannot bring it back.
  SmokeRun revived = stored;
  revived.status = SmokeRunStatus::kPassed;
  auto update = store_->UpdateSmokeRun(revived);
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().code, ErrorCode::kConflict);
  EXPECT_THAT(update.error().message, HasSubstr("interrupted"));

  auto again = store_->InterruptSmokeRuns({"live"}, reason, At(90));
  ASSERT_TRUE(again);
  EXPECT_THAT(*again, IsEmpty());
  auto none_live = store_->InterruptSmokeRuns({}, reason, At(91));
  ASSERT_TRUE(none_live);
  EXPECT_THAT(Ids(*none_live), ElementsAre("live"));
}

TEST_F(SmokeRunsStoreTest, SecretsNeverReachTheDatabaseFiles) {
  SmokeRun run = MakeRun("r1", 0);
  run.request.api_key = kSwarmKey;
  run.request.secrets["claude"]["ANTHROPIC_API_KEY"] = kProviderKey;
  const SmokeRun created = Create(run);
  EXPECT_EQ(created.request.api_key, "");
  EXPECT_EQ(created.request.secrets.at("claude").at("ANTHROPIC_API_KEY"), "[REDACTED]");
  // An update carrying the in-memory request writes no request at all.
  run.updated_at = At(1);
  ASSERT_TRUE(store_->UpdateSmokeRun(run));

  // While open (the WAL holds the rows) and after close (checkpointed into the file).
  for (int pass = 0; pass < 2; ++pass) {
    const std::string bytes = DiskBytes();
    EXPECT_THAT(bytes, HasSubstr("ANTHROPIC_API_KEY")) << "the rows are on disk";
    EXPECT_THAT(bytes, Not(HasSubstr(kSwarmKey)));
    EXPECT_THAT(bytes, Not(HasSubstr(kProviderKey)));
    store_.reset();
  }
  Reopen();
  const SmokeRun read = Get("r1");
  EXPECT_EQ(read.request.api_key, "");
  EXPECT_EQ(read.request.secrets.at("claude").at("ANTHROPIC_API_KEY"), "[REDACTED]");
}

TEST_F(SmokeRunsStoreTest, UnreadableStoredJsonIsAnErrorNotACrash) {
  Create(MakeRun("r1", 0));
  {
    SQLite::Database db(path_, SQLite::OPEN_READWRITE);
    db.exec("UPDATE smoke_runs SET results_json = '[{\"provider\":' WHERE id = 'r1'");
  }
  auto run = store_->GetSmokeRun("r1");
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, ErrorCode::kInternal);
  EXPECT_THAT(run.error().message, HasSubstr("r1"));
}

TEST(SmokeRunsMigrationTest, ADatabaseAtVersion3GainsSmokeRunsAndAgentVersions) {
  std::string dir = testing::TempDir() + "smoke_runs_migration_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/swarm.db";
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    std::vector<Migration> up_to_3;
    for (const Migration& m : EmbeddedMigrations()) {
      if (m.version <= 3) up_to_3.push_back(m);
    }
    ASSERT_EQ(up_to_3.size(), 3u);
    auto applied = ApplyMigrations(db, up_to_3, "2026-01-01T00:00:00.000Z");
    ASSERT_TRUE(applied) << applied.error().message;
    db.exec(
        "INSERT INTO agents (id, name, created_at, last_updated_at, runtime_instance_id) "
        "VALUES ('a1', 'old worker', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', "
        "'p1')");
  }
  {
    auto opened = SqliteStore::Open(path);
    ASSERT_TRUE(opened) << opened.error().message;
    SqliteStore& store = **opened;
    auto agent = store.GetAgent("a1");
    ASSERT_TRUE(agent) << agent.error().message;
    EXPECT_EQ(agent->name, "old worker");
    EXPECT_EQ(agent->version, std::nullopt);
    EXPECT_EQ(agent->cli_version, std::nullopt);

    AgentRegistration reg;
    reg.id = "a1";
    reg.name = "old worker";
    reg.version = "0.8.0+abc1234";
    auto upserted = store.UpsertAgent(reg, At(1));
    ASSERT_TRUE(upserted) << upserted.error().message;
    EXPECT_EQ(upserted->agent.version, "0.8.0+abc1234");

    auto created = store.CreateSmokeRun(MakeRun("r1", 0));
    ASSERT_TRUE(created) << created.error().message;
    auto listed = store.ListSmokeRuns(10, 0);
    ASSERT_TRUE(listed);
    EXPECT_THAT(Ids(listed->runs), ElementsAre("r1"));
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    auto version = SchemaVersion(db);
    ASSERT_TRUE(version) << version.error().message;
    EXPECT_EQ(*version, EmbeddedMigrations().back().version);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swarm
