// A task's outputSchema: checked once at task creation to be a valid JSON Schema (draft-07),
// then used when the worker finishes to judge the output.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace valijson {
class Schema;
}

namespace swarm {

class OutputSchema {
 public:
  // Outputs are judged only up to these sizes: the output is untrusted text from a worker.
  static constexpr std::size_t kMaxOutputBytes = 256 * 1024;
  static constexpr std::size_t kMaxDepth = 64;  // nesting of schema and output alike

  // kBadRequest, naming the problem, when `schema` is not a valid draft-07 JSON Schema, uses
  // a remote $ref (outputs are judged offline), nests deeper than kMaxDepth, or holds a
  // `pattern`/`patternProperties` regex RE2 cannot run (named by its place in the schema).
  static Result<OutputSchema> Compile(const nlohmann::json& schema);

  // nullopt when `value` matches; otherwise every mismatch (the first few, then a count), e.g.
  // `reply: Failed to match expected value set by 'const' constraint (got "ping")`. A value
  // that is too deep, or that costs the schema too much work, or makes the validator throw,
  // does not match either, with a reason saying so. Never throws.
  std::optional<std::string> Check(const nlohmann::json& value) const;

  // The whole judgement of a finish: `output` (text) against a stored schema (text). nullopt
  // when it matches; otherwise the failure reason for the task, e.g. "output does not match
  // outputSchema: ...". Bounded in size, depth and work; never throws.
  static std::optional<std::string> JudgeText(std::string_view schema_text,
                                              std::string_view output);

 private:
  explicit OutputSchema(std::shared_ptr<const valijson::Schema> schema);
  std::shared_ptr<const valijson::Schema> schema_;
};

}  // namespace swarm
