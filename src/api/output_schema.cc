#include "api/output_schema.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "api/draft07_metaschema.h"
#include "api/schema_regex.h"
#include "api/valijson_limits.h"  // before any validator is instantiated
#include "core/bounded_json.h"

namespace swarm {
namespace {

using Adapter = valijson::adapters::NlohmannJsonAdapter;

std::shared_ptr<const valijson::Schema> ParseSchema(const nlohmann::json& document) {
  auto schema = std::make_shared<valijson::Schema>();
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  Adapter adapter(document);
  parser.populateSchema(adapter, *schema);  // throws on what it cannot build
  return schema;
}

const valijson::Schema& MetaSchema() {
  static const auto* kMeta = [] {
    static const nlohmann::json document = nlohmann::json::parse(Draft07MetaSchema());
    return new std::shared_ptr<const valijson::Schema>(ParseSchema(document));
  }();
  return **kMeta;
}

// The value an error context points at, for quoting it in the message. A context is
// "<root>" followed by "[key]" or "[index]" steps.
const nlohmann::json* Resolve(const nlohmann::json& root, const std::vector<std::string>& path) {
  const nlohmann::json* node = &root;
  for (std::size_t i = 1; i < path.size(); ++i) {
    const std::string& step = path[i];
    if (step.size() < 2 || step.front() != '[' || step.back() != ']') return nullptr;
    const std::string key = step.substr(1, step.size() - 2);
    if (node->is_object()) {
      auto it = node->find(key);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      std::size_t index = 0;
      try {
        index = std::stoul(key);
      } catch (const std::exception&) {
        return nullptr;
      }
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
  }
  return node;
}

std::string PathText(const std::vector<std::string>& context) {
  if (context.size() <= 1) return "<root>";
  std::string text;
  for (std::size_t i = 1; i < context.size(); ++i) {
    std::string step = context[i];
    if (step.size() >= 2 && step.front() == '[') step = step.substr(1, step.size() - 2);
    if (!text.empty()) text += '.';
    text += step;
  }
  return text;
}

bool IsStrictPrefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin());
}

constexpr std::size_t kMaxReportedMismatches = 20;

// Keeps the deepest errors: valijson also reports every enclosing schema that failed because
// a child failed, which only repeats the leaf's news. Sorted by context, an error has a deeper
// one exactly when the next different context extends it, so this is O(n log n) (an output of
// 40,000 wrong items took 18 s when every pair was compared); only the first few are spelled.
std::string Describe(const valijson::ValidationResults& results, const nlohmann::json& value) {
  std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
  std::stable_sort(errors.begin(), errors.end(),
                   [](const auto& a, const auto& b) { return a.context < b.context; });
  std::vector<std::string> parts;
  std::size_t unreported = 0;
  std::size_t next = 0;  // the first error after i with a different context
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const auto& error = errors[i];
    if (next <= i) {
      next = i + 1;
      while (next < errors.size() && errors[next].context == error.context) ++next;
    }
    if (next < errors.size() && IsStrictPrefix(error.context, errors[next].context)) continue;
    if (parts.size() >= kMaxReportedMismatches) {
      ++unreported;
      continue;
    }
    std::string part = PathText(error.context) + ": " + error.description;
    if (const nlohmann::json* got = Resolve(value, error.context)) {
      std::string shown = got->dump();
      if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
      part += " (got " + shown + ")";
    }
    if (std::find(parts.begin(), parts.end(), part) == parts.end()) parts.push_back(part);
  }
  std::string text;
  for (const auto& part : parts) {
    if (!text.empty()) text += "; ";
    text += part;
  }
  if (unreported > 0) text += "; and " + std::to_string(unreported) + " more";
  return text.empty() ? "value does not match the schema" : text;
}

// valijson's parser follows a $ref that is not a fragment ("3/definitions/n") by resolving it
// against the document again, recursing until the stack overflows (found by the fuzzer).
// Outputs are judged offline, so only references inside the schema ("#", "#/...") are usable.
// Every "$ref" key is checked, wherever it is: valijson may be pointed at any part of the
// document. Iterative: this runs before anything else looks at the schema.
Result<void> CheckLocalReferences(const nlohmann::json& schema) {
  std::vector<const nlohmann::json*> stack{&schema};
  while (!stack.empty()) {
    const nlohmann::json* node = stack.back();
    stack.pop_back();
    if (node->is_object()) {
      for (const auto& [key, value] : node->items()) {
        if ((key == "$ref" && value.is_string() &&
             !value.get_ref<const std::string&>().starts_with("#")) ||
            (key == "$id" && value.is_string() && !value.get_ref<const std::string&>().empty() &&
             !value.get_ref<const std::string&>().starts_with("#"))) {
          return BadRequest("outputSchema: " + key + " \"" + value.get<std::string>() +
                            "\" is not supported: only references within the schema (\"#...\") "
                            "can be used, outputs are judged offline");
        }
        stack.push_back(&value);
      }
    } else if (node->is_array()) {
      for (const auto& item : *node) stack.push_back(&item);
    }
  }
  return {};
}

// The schema a local $ref ("#", "#/definitions/a") points at, or nullptr.
const nlohmann::json* RefTarget(const nlohmann::json& root, const std::string& ref) {
  try {
    const nlohmann::json::json_pointer pointer(ref.substr(1));
    return root.contains(pointer) ? &root.at(pointer) : nullptr;
  } catch (const std::exception&) {
    return nullptr;  // not a JSON pointer: valijson reports it
  }
}

// A $ref whose target is itself only a $ref, round and round ({"$ref":"#"} at the root, or
// a -> b -> a), sends valijson's parser into endless recursion (found by the fuzzer). Refs
// with a real subschema keyword between them ({"items":{"$ref":"#"}}) are fine.
Result<void> CheckReferenceCycles(const nlohmann::json& schema) {
  std::vector<const nlohmann::json*> stack{&schema};
  while (!stack.empty()) {
    const nlohmann::json* node = stack.back();
    stack.pop_back();
    if (node->is_array()) {
      for (const auto& item : *node) stack.push_back(&item);
      continue;
    }
    if (!node->is_object()) continue;
    for (const auto& item : *node) stack.push_back(&item);
    std::vector<const nlohmann::json*> chain{node};
    for (const nlohmann::json* at = node;;) {
      auto ref = at->find("$ref");
      if (ref == at->end() || !ref->is_string()) break;
      const std::string& text = ref->get_ref<const std::string&>();
      at = RefTarget(schema, text);
      // valijson resolves some pointers nlohmann does not ("#/" to the root, found by the
      // fuzzer), so a reference is usable only if both agree on a target: plain pointers.
      if (!at || text.find('%') != std::string::npos || (text.size() > 1 && text.back() == '/')) {
        return BadRequest("outputSchema: $ref \"" + text + "\" does not point into the schema");
      }
      if (!at->is_object()) break;
      if (std::find(chain.begin(), chain.end(), at) != chain.end()) {
        return BadRequest("outputSchema: $ref \"" + ref->get<std::string>() +
                          "\" refers back to itself through references only");
      }
      chain.push_back(at);
    }
  }
  return {};
}

std::string OverBudget(const JudgeBudget& budget) {
  return "judging needs more than the limit of " + std::to_string(budget.max_nesting) +
         " nested or " + std::to_string(budget.max_steps) +
         " total subschema evaluations (a recursive $ref?)";
}

}  // namespace

OutputSchema::OutputSchema(std::shared_ptr<const valijson::Schema> schema)
    : schema_(std::move(schema)) {}

Result<OutputSchema> OutputSchema::Compile(const nlohmann::json& schema) {
  if (!schema.is_object() && !schema.is_boolean()) {
    return BadRequest("outputSchema must be a JSON Schema object");
  }
  // Every walk below (meta-schema check, regex walk, valijson's parser) recurses per level.
  if (JsonDepthUpTo(schema, kMaxDepth) > kMaxDepth) {
    return BadRequest("outputSchema is nested deeper than the " + std::to_string(kMaxDepth) +
                      "-level limit");
  }
  if (auto refs = CheckLocalReferences(schema); !refs) return tl::unexpected(refs.error());
  if (auto cycles = CheckReferenceCycles(schema); !cycles) return tl::unexpected(cycles.error());
  try {
    JudgeBudget budget;
    ScopedBudget scope(budget);
    valijson::Validator validator;
    valijson::ValidationResults results;
    Adapter adapter(schema);
    if (!validator.validate(MetaSchema(), adapter, &results)) {
      if (budget.exceeded) return BadRequest("outputSchema is too large to check");
      return BadRequest("outputSchema is not a valid JSON Schema (draft-07): " +
                        Describe(results, schema));
    }
    if (auto regexes = CheckSchemaRegexes(schema); !regexes) {
      return tl::unexpected(regexes.error());
    }
    return OutputSchema(ParseSchema(schema));
  } catch (const std::exception& e) {
    return BadRequest(std::string("outputSchema cannot be used: ") + e.what());
  }
}

std::optional<std::string> OutputSchema::Check(const nlohmann::json& value) const {
  if (JsonDepthUpTo(value, kMaxDepth) > kMaxDepth) {
    return "output is nested deeper than the " + std::to_string(kMaxDepth) + "-level limit";
  }
  try {
    Adapter adapter(value);
    {
      // First without collecting errors: stops at the first mismatch, so a clean or plainly
      // wrong output costs little.
      JudgeBudget budget;
      ScopedBudget scope(budget);
      valijson::Validator validator;
      if (validator.validate(*schema_, adapter, nullptr)) return std::nullopt;
      if (budget.exceeded) return OverBudget(budget);
    }
    JudgeBudget budget;
    ScopedBudget scope(budget);
    valijson::Validator validator;
    valijson::ValidationResults results;
    if (validator.validate(*schema_, adapter, &results)) return std::nullopt;
    if (budget.exceeded) return OverBudget(budget);
    return Describe(results, value);
  } catch (const std::exception& e) {
    return std::string("output could not be judged: ") + e.what();
  }
}

std::optional<std::string> OutputSchema::JudgeText(std::string_view schema_text,
                                                   std::string_view output) {
  constexpr char kMismatch[] = "output does not match outputSchema: ";
  if (output.size() > kMaxOutputBytes) {
    return std::string(kMismatch) + "output is larger than the " + std::to_string(kMaxOutputBytes) +
           "-byte limit for judged outputs";
  }
  auto value = ParseBoundedJson(output, JsonLimits{kMaxDepth, kMaxOutputBytes});
  if (!value) {
    const bool too_deep = value.error().message.find("nested deeper") != std::string::npos;
    return std::string(kMismatch) + (too_deep ? "output is nested deeper than the " +
                                                    std::to_string(kMaxDepth) + "-level limit"
                                              : std::string("output is not valid JSON"));
  }
  auto stored = ParseBoundedJson(schema_text, JsonLimits{kMaxDepth});
  if (!stored) return "stored outputSchema cannot be used: " + stored.error().message;
  auto schema = Compile(*stored);
  if (!schema) return "stored outputSchema cannot be used: " + schema.error().message;
  if (auto mismatch = schema->Check(*value)) return std::string(kMismatch) + *mismatch;
  return std::nullopt;
}

}  // namespace swarm
