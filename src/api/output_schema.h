// A task's outputSchema: checked once at task creation to be a valid JSON Schema (draft-07),
// then used when the worker finishes to judge the output.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace valijson {
class Schema;
}

namespace swarm {

class OutputSchema {
 public:
  // kBadRequest, naming the problem, when `schema` is not a valid draft-07 JSON Schema, or
  // uses a remote $ref (outputs are judged offline).
  static Result<OutputSchema> Compile(const nlohmann::json& schema);

  // nullopt when `value` matches; otherwise every mismatch, e.g.
  // `reply: Failed to match expected value set by 'const' constraint (got "ping")`.
  std::optional<std::string> Check(const nlohmann::json& value) const;

 private:
  explicit OutputSchema(std::shared_ptr<const valijson::Schema> schema);
  std::shared_ptr<const valijson::Schema> schema_;
};

}  // namespace swarm
