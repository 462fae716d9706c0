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

// Keeps the deepest errors: valijson also reports every enclosing schema that failed because
// a child failed, which only repeats the leaf's news.
std::string Describe(const valijson::ValidationResults& results, const nlohmann::json& value) {
  std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
  std::vector<std::string> parts;
  for (const auto& error : errors) {
    bool has_deeper = std::any_of(errors.begin(), errors.end(), [&](const auto& other) {
      return IsStrictPrefix(error.context, other.context);
    });
    if (has_deeper) continue;
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
  return text.empty() ? "value does not match the schema" : text;
}

}  // namespace

OutputSchema::OutputSchema(std::shared_ptr<const valijson::Schema> schema)
    : schema_(std::move(schema)) {}

Result<OutputSchema> OutputSchema::Compile(const nlohmann::json& schema) {
  if (!schema.is_object() && !schema.is_boolean()) {
    return BadRequest("outputSchema must be a JSON Schema object");
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  Adapter adapter(schema);
  if (!validator.validate(MetaSchema(), adapter, &results)) {
    return BadRequest("outputSchema is not a valid JSON Schema (draft-07): " +
                      Describe(results, schema));
  }
  try {
    return OutputSchema(ParseSchema(schema));
  } catch (const std::exception& e) {
    return BadRequest(std::string("outputSchema cannot be used: ") + e.what());
  }
}

std::optional<std::string> OutputSchema::Check(const nlohmann::json& value) const {
  valijson::Validator validator;
  valijson::ValidationResults results;
  Adapter adapter(value);
  if (validator.validate(*schema_, adapter, &results)) return std::nullopt;
  return Describe(results, value);
}

}  // namespace swarm
