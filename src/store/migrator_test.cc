#include "store/migrator.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/migrations.h"

namespace swarm {
namespace {

using ::testing::HasSubstr;

constexpr char kNow[] = "2026-01-01T00:00:00.000Z";

const std::vector<Migration> kFirst = {
    {1, "first", "CREATE TABLE a (x INTEGER);"},
};
const std::vector<Migration> kBoth = {
    {1, "first", "CREATE TABLE a (x INTEGER);"},
    {2, "second", "CREATE TABLE b (y TEXT); INSERT INTO b VALUES ('seed');"},
};

SQLite::Database MemoryDb() {
  return SQLite::Database(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
}

struct Recorded {
  int version;
  std::string name;
  std::string applied_at;
};

std::vector<Recorded> RecordedMigrations(SQLite::Database& db) {
  SQLite::Statement s(db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY 1");
  std::vector<Recorded> out;
  while (s.executeStep()) {
    out.push_back(
        {s.getColumn(0).getInt(), s.getColumn(1).getString(), s.getColumn(2).getString()});
  }
  return out;
}

TEST(MigratorTest, FreshDatabaseHasVersionZero) {
  SQLite::Database db = MemoryDb();
  auto version = SchemaVersion(db);
  ASSERT_TRUE(version) << version.error().message;
  EXPECT_EQ(*version, 0);
}

TEST(MigratorTest, AppliesEveryMigrationAndRecordsIt) {
  SQLite::Database db = MemoryDb();
  auto applied = ApplyMigrations(db, kBoth, kNow);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(*applied, 2);
  EXPECT_TRUE(db.tableExists("a"));
  EXPECT_TRUE(db.tableExists("b"));
  EXPECT_EQ(db.execAndGet("SELECT y FROM b").getString(), "seed");

  const auto recorded = RecordedMigrations(db);
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].version, 1);
  EXPECT_EQ(recorded[0].name, "first");
  EXPECT_EQ(recorded[0].applied_at, kNow);
  EXPECT_EQ(recorded[1].version, 2);
  EXPECT_EQ(recorded[1].name, "second");
  EXPECT_EQ(*SchemaVersion(db), 2);
}

TEST(MigratorTest, SecondRunAppliesNothing) {
  SQLite::Database db = MemoryDb();
  ASSERT_TRUE(ApplyMigrations(db, kBoth, kNow));
  auto again = ApplyMigrations(db, kBoth, "2026-02-02T00:00:00.000Z");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, 0);
  const auto recorded = RecordedMigrations(db);
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].applied_at, kNow);  // not rewritten
}

TEST(MigratorTest, AppliesOnlyTheNewOnes) {
  SQLite::Database db = MemoryDb();
  ASSERT_EQ(*ApplyMigrations(db, kFirst, kNow), 1);
  auto applied = ApplyMigrations(db, kBoth, kNow);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(*applied, 1);
  EXPECT_EQ(*SchemaVersion(db), 2);
}

TEST(MigratorTest, RefusesADatabaseNewerThanTheBinary) {
  SQLite::Database db = MemoryDb();
  ASSERT_TRUE(ApplyMigrations(db, kBoth, kNow));
  auto applied = ApplyMigrations(db, kFirst, kNow);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kInternal);
  EXPECT_THAT(applied.error().message, HasSubstr("newer"));
  EXPECT_THAT(applied.error().message, HasSubstr("2"));
}

TEST(MigratorTest, FailedMigrationLeavesNoTraceAndNamesItself) {
  SQLite::Database db = MemoryDb();
  const std::vector<Migration> broken = {
      {1, "first", "CREATE TABLE a (x INTEGER);"},
      {2, "broken", "CREATE TABLE c (z INTEGER); INSERT INTO missing VALUES (1);"},
  };
  auto applied = ApplyMigrations(db, broken, kNow);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kInternal);
  EXPECT_THAT(applied.error().message, HasSubstr("0002_broken"));
  EXPECT_TRUE(db.tableExists("a"));
  EXPECT_FALSE(db.tableExists("c"));  // rolled back with its record row
  EXPECT_EQ(*SchemaVersion(db), 1);
}

TEST(MigratorTest, RejectsMigrationsOutOfOrder) {
  SQLite::Database db = MemoryDb();
  const std::vector<Migration> unordered = {kBoth[1], kBoth[0]};
  auto applied = ApplyMigrations(db, unordered, kNow);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code, ErrorCode::kInternal);
  EXPECT_FALSE(db.tableExists("a"));
}

TEST(MigratorTest, EmbeddedMigrationsBuildTheSchema) {
  SQLite::Database db = MemoryDb();
  const auto& embedded = EmbeddedMigrations();
  ASSERT_FALSE(embedded.empty());
  auto applied = ApplyMigrations(db, embedded, kNow);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(*applied, static_cast<int>(embedded.size()));
  for (const char* table : {"agents", "tasks", "agent_logs", "session_logs", "session_costs"}) {
    EXPECT_TRUE(db.tableExists(table)) << table;
  }
  EXPECT_EQ(*SchemaVersion(db), embedded.back().version);
}

// Two processes starting at once against one file: each migration runs exactly once.
TEST(MigratorTest, ConcurrentRunnersApplyEachMigrationOnce) {
  std::string dir = testing::TempDir() + "migrator_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/m.db";
  {
    SQLite::Database init(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    init.exec("PRAGMA journal_mode = WAL");
  }
  std::atomic<int> total_applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      SQLite::Database db(path, SQLite::OPEN_READWRITE, /*aBusyTimeoutMs=*/5000);
      auto applied = ApplyMigrations(db, EmbeddedMigrations(), kNow);
      if (applied) {
        total_applied += *applied;
      } else {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(total_applied.load(), static_cast<int>(EmbeddedMigrations().size()));
  std::filesystem::remove_all(dir);
}

TEST(MigratorTest, ErrorMappingSeparatesTransientFromInternal) {
  EXPECT_EQ(ErrorFromSqlite(SQLite::Exception("busy", SQLITE_BUSY), "x").code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorFromSqlite(SQLite::Exception("locked", SQLITE_LOCKED), "x").code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorFromSqlite(SQLite::Exception("io", SQLITE_IOERR_WRITE), "x").code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorFromSqlite(SQLite::Exception("c", SQLITE_CONSTRAINT), "x").code,
            ErrorCode::kInternal);
  const Error e = ErrorFromSqlite(SQLite::Exception("boom", SQLITE_ERROR), "doing things");
  EXPECT_EQ(e.code, ErrorCode::kInternal);
  EXPECT_THAT(e.message, HasSubstr("doing things"));
  EXPECT_THAT(e.message, HasSubstr("boom"));
}

}  // namespace
}  // namespace swarm
