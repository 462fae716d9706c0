// Numbered SQL migrations, embedded at build time from src/store/migrations/NNNN_name.sql.
#pragma once

#include <string_view>
#include <vector>

namespace swarm {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// All migrations, in ascending version order.
const std::vector<Migration>& EmbeddedMigrations();

}  // namespace swarm
