// Schema migrations for the SQLite store: numbered SQL scripts applied once each, recorded in
// schema_migrations(version, name, applied_at). The runner works on any SQLite::Database so it
// can be tested apart from SqliteStore.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>

#include "core/error.h"
#include "store/migrations.h"

namespace swarm {

// Creates schema_migrations when missing, refuses (kInternal) a database whose recorded version
// is newer than the newest of `migrations`, then applies every migration not yet recorded, in
// version order, each in its own BEGIN IMMEDIATE transaction together with its record row.
// `migrations` must be in strictly ascending version order. Returns how many were applied.
// Safe against another process migrating the same file at the same time: each migration is
// re-checked inside its transaction.
Result<int> ApplyMigrations(SQLite::Database& db, const std::vector<Migration>& migrations,
                            const std::string& applied_at);

// The highest recorded migration version; 0 for a database never migrated.
Result<int> SchemaVersion(SQLite::Database& db);

// Maps a SQLiteCpp exception to an Error: busy, locked, I/O, full-disk and can't-open failures
// are kUnavailable (the caller may retry), everything else kInternal. `context` names the
// operation in the message. Shared with SqliteStore.
Error ErrorFromSqlite(const SQLite::Exception& e, std::string_view context);

}  // namespace swarm
