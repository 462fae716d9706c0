#include "store/migrator.h"

#include <sqlite3.h>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

namespace swarm {
namespace {

constexpr char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)";
constexpr char kSelectMaxVersion[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr char kSelectVersion[] = "SELECT 1 FROM schema_migrations WHERE version = ?";
constexpr char kInsertVersion[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";

int MaxRecordedVersion(SQLite::Database& db) {
  SQLite::Statement query(db, kSelectMaxVersion);
  query.executeStep();
  return query.getColumn(0).getInt();
}

bool IsRecorded(SQLite::Database& db, int version) {
  SQLite::Statement query(db, kSelectVersion);
  query.bind(1, version);
  return query.executeStep();
}

// Applies one migration unless another process recorded it meanwhile. Returns whether it ran.
bool ApplyOne(SQLite::Database& db, const Migration& migration, const std::string& applied_at) {
  SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
  if (IsRecorded(db, migration.version)) return false;
  db.exec(std::string(migration.sql));
  SQLite::Statement record(db, kInsertVersion);
  record.bind(1, migration.version);
  record.bind(2, std::string(migration.name));
  record.bind(3, applied_at);
  record.exec();
  txn.commit();
  return true;
}

Result<void> CheckOrder(const std::vector<Migration>& migrations) {
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version <= migrations[i - 1].version) {
      return Internal(fmt::format("migrations are not in ascending version order at {:04d}_{}",
                                  migrations[i].version, migrations[i].name));
    }
  }
  return {};
}

}  // namespace

Result<int> ApplyMigrations(SQLite::Database& db, const std::vector<Migration>& migrations,
                            const std::string& applied_at) {
  if (auto ordered = CheckOrder(migrations); !ordered) return tl::unexpected(ordered.error());
  const int known = migrations.empty() ? 0 : migrations.back().version;
  try {
    db.exec(kCreateMigrationsTable);
    const int recorded = MaxRecordedVersion(db);
    if (recorded > known) {
      return Internal(
          fmt::format("database schema version {} is newer than this binary supports ({}); upgrade "
                      "agent-swarm or use another database file",
                      recorded, known));
    }
  } catch (const SQLite::Exception& e) {
    return tl::unexpected(ErrorFromSqlite(e, "reading schema_migrations"));
  }
  int applied = 0;
  for (const Migration& migration : migrations) {
    try {
      if (ApplyOne(db, migration, applied_at)) ++applied;
    } catch (const SQLite::Exception& e) {
      return tl::unexpected(ErrorFromSqlite(
          e, fmt::format("applying migration {:04d}_{}", migration.version, migration.name)));
    }
  }
  return applied;
}

Result<int> SchemaVersion(SQLite::Database& db) {
  try {
    if (!db.tableExists("schema_migrations")) return 0;
    return MaxRecordedVersion(db);
  } catch (const SQLite::Exception& e) {
    return tl::unexpected(ErrorFromSqlite(e, "reading schema_migrations"));
  }
}

Error ErrorFromSqlite(const SQLite::Exception& e, std::string_view context) {
  // Primary result code: the low byte of an extended code.
  switch (e.getErrorCode() & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return Error{ErrorCode::kUnavailable,
                   fmt::format("database unavailable while {}: {}", context, e.what())};
    default:
      return Error{ErrorCode::kInternal,
                   fmt::format("database error while {}: {}", context, e.what())};
  }
}

}  // namespace swarm
